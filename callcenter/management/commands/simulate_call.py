"""``python manage.py simulate_call``: a phone call to the 120 line without Twilio.

The command plays Twilio's part (``channels_app.voice_simulator``) against the Open120
server at ``--base-url``: it calls the IVR with signed webhooks, presses ``--digits``, waits
in the queue, joins the conference once an agent accepts in the console, speaks ``--say``
lines through the live transcription, and follows hold, the interpreter and the hang-up
as the server asks for them. It prints each step (the timeline) as it happens, and a
summary of the phases at the end.
It reads the server's outbox, so it must use the server's database (in a development
checkout, ``var/development.env`` makes that so).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from channels_app.voice_simulator import DEFAULT_CALLER_LINES, CallResult, SimulatedCall, Step


class Command(BaseCommand):
    help = "Place a simulated phone call to the 120 line (Twilio's part played locally)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="from_number", default="+821012345678")
        parser.add_argument("--to", dest="to_number", default="+82120")
        parser.add_argument("--digits", default="", help="keys pressed in the IVR, e.g. 1 or 21")
        parser.add_argument(
            "--speech", action="append", default=[], help="spoken IVR answer (repeatable)"
        )
        parser.add_argument(
            "--say", action="append", default=[], help="what the caller says (repeatable)"
        )
        parser.add_argument(
            "--talk", type=float, default=30, help="seconds of talk before the caller hangs up"
        )
        parser.add_argument(
            "--wait-timeout", type=float, default=120, help="seconds to wait for an agent"
        )
        parser.add_argument("--base-url", default="", help="the server (default: PUBLIC_BASE_URL)")
        parser.add_argument(
            "--poll", type=float, default=0.25, help="seconds between reads of the outbox"
        )
        parser.add_argument(
            "--wait-poll", type=float, default=1.0, help="seconds between wait-URL requests"
        )
        parser.add_argument(
            "--answer-callbacks",
            action="store_true",
            help="place no call: answer the call-backs dialled to --from, one after another, "
            "until none comes for --wait-timeout seconds",
        )

    def handle(self, *args, **options) -> None:
        if not settings.TWILIO_AUTH_TOKEN:
            raise CommandError(
                "TWILIO_AUTH_TOKEN is empty: the server refuses unsigned Twilio webhooks. "
                "Set it to the server's token (`make run` keeps one in var/development.env)."
            )
        base_url = (options["base_url"] or settings.PUBLIC_BASE_URL).rstrip("/")
        started = timezone.localtime()
        self.stdout.write(
            f"{started:%Y-%m-%d %H:%M:%S} (서울) 시뮬레이션 통화: {options['from_number']} → "
            f"{options['to_number']}, 서버 {base_url}"
        )
        while True:
            engine = self._engine(base_url, options)
            if not options["answer_callbacks"]:
                self._report(engine.place())
                return
            self.stdout.write(f"{options['from_number']}(으)로 오는 콜백을 기다립니다…")
            result = engine.answer_callback(timeout=options["wait_timeout"])
            if result is None:
                self.stdout.write(f"{options['wait_timeout']:g}초 동안 콜백이 없어 끝냅니다.")
                return
            self._report(result)

    def _engine(self, base_url: str, options: dict) -> SimulatedCall:
        return SimulatedCall(
            base_url=base_url,
            public_base_url=settings.PUBLIC_BASE_URL,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            account_sid=settings.TWILIO_ACCOUNT_SID,
            from_number=options["from_number"],
            to_number=options["to_number"],
            digits=options["digits"],
            speech=options["speech"],
            lines=options["say"] or DEFAULT_CALLER_LINES,
            talk_seconds=options["talk"],
            wait_timeout=options["wait_timeout"],
            poll_seconds=options["poll"],
            wait_url_seconds=options["wait_poll"],
            log=self._progress,
        )

    def _progress(self, step: Step) -> None:
        self.stdout.write(step.line())

    def _report(self, result: CallResult) -> None:
        self.stdout.write("== 요약 ==")
        self.stdout.write(result.summary())
