"""Twilio's webhooks for a voicemail left after hours (the IVR's ``<Record>``, see
``channels_app.twilio_voice``). Both are signed (``twilio_webhook``: 403 before anything is
read); the decisions are ``callcenter.services.voicemail``'s and ``…recordings``'s.

- ``POST /twilio/voice/voicemail``: the Record's action, when the caller pressed "#", fell
  silent, reached the longest message or hung up (Twilio then ignores the answer): the
  voicemail's ticket, then thanks and goodbye in the caller's language.
- ``POST /twilio/voice/voicemail-recording``: the Record's recordingStatusCallback, served
  by the calls' own recording callback (``channels_app.twilio_media.voice_recording``): the
  finished recording's SID and length, kept on the call once.
"""

from django.http import HttpRequest, HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from callcenter.services import calls, voicemail
from channels_app.twilio_voice import twiml
from channels_app.twilio_webhooks import twilio_webhook
from channels_app.voice_prompts import prompt_language, speak


def _seconds(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@twilio_webhook
def voice_voicemail(request: HttpRequest) -> HttpResponse:
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    if contact is None:
        return HttpResponse("Unknown call.", status=404)
    voicemail.voicemail_leave(
        contact=contact, seconds=_seconds(request.POST.get("RecordingDuration", ""))
    )
    response = VoiceResponse()
    speak(response, prompt_language(contact.language), "voicemail_taken")
    response.hangup()
    return twiml(response)
