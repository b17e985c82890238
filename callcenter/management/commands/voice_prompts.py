"""The phone line's recorded prompts: for a language Twilio has no voice for (Mongolian),
the IVR plays recordings from ``static/voice/prompts/<language>/<key>.wav`` (or ``.mp3``)
instead of saying its catalogue (channels_app.voice_prompts.PROMPTS). No free speech
synthesiser speaks Mongolian (espeak-ng has no voice for it), so a person records them.

    manage.py voice_prompts          the script: each file, whether it is there, its text
    manage.py voice_prompts --check  the missing files; exit status 1 when any is missing

Until a prompt is recorded the caller hears the English prompt instead (logged as a warning).
Record WAV (8 kHz or more, mono) or MP3; the position prompt has no numbers in it.
"""

from django.core.management.base import BaseCommand, CommandError

from channels_app.voice_prompts import PROMPTS, RECORDED_PROMPT_PATH, prompt_keys, recorded_prompt


class Command(BaseCommand):
    help = "Print the script of the recorded IVR prompts; --check lists those not recorded yet."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="List missing recordings and fail if any."
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        missing = []
        for language, prompts in PROMPTS.items():
            if prompts.say_language:
                continue  # Twilio says these
            for key in prompt_keys():
                recording = recorded_prompt(language, key)
                path = "static/" + (
                    recording
                    or RECORDED_PROMPT_PATH.format(language=language, key=key, extension="wav")
                )
                if recording is None:
                    missing.append(path)
                if not check:
                    state = "recorded" if recording else "MISSING"
                    self.stdout.write(f"{path}\t{state}\t{getattr(prompts, key)}")
        if not check:
            return
        for path in missing:
            self.stdout.write(f"missing: {path}")
        if missing:
            raise CommandError(
                f"{len(missing)} recorded prompts are missing: callers hear them in English."
            )
        self.stdout.write("Every recorded prompt is there.")
