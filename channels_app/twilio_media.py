"""Twilio's callbacks about a call's media: the recording, and the live transcript.

Both are signed webhooks (``channels_app.twilio_webhooks.twilio_webhook``: 403 before
anything is read unless Twilio signed the request) answered 204 whatever they changed, a
call we never saw included: Twilio has nothing to retry. The decisions are
``callcenter.services.recordings``'s.

- ``POST /twilio/voice/recording``: the recordingStatusCallback of the call's recording
  (``completed``, ``absent`` or ``failed``). Twilio's RecordingUrl is kept for the record
  only; playback fetches the audio by SID (``callcenter.recording_views``).
- ``POST /twilio/voice/transcription``: Real-Time Transcription events. Final
  ``transcription-content`` segments become messages of the call; partial ones are
  ignored (the final segment repeats their words).
"""

import json
import logging

from django.http import HttpRequest, HttpResponse

from callcenter.services import recordings
from channels_app.twilio_webhooks import twilio_webhook

logger = logging.getLogger(__name__)


def _int(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@twilio_webhook
def voice_recording(request: HttpRequest) -> HttpResponse:
    recordings.recording_record(
        call_sid=request.POST.get("CallSid", "")[:64],
        recording_sid=request.POST.get("RecordingSid", "")[:64],
        status=request.POST.get("RecordingStatus", ""),
        url=request.POST.get("RecordingUrl", ""),
        seconds=_int(request.POST.get("RecordingDuration", "")),
        channels=_int(request.POST.get("RecordingChannels", "")),
    )
    return HttpResponse(status=204)


def _transcript(data: str) -> str:
    """The words of Twilio's TranscriptionData (``{"transcript": "…", "confidence": …}``)."""
    try:
        parsed = json.loads(data or "{}")
    except ValueError:
        return ""
    transcript = parsed.get("transcript") if isinstance(parsed, dict) else None
    return transcript if isinstance(transcript, str) else ""


@twilio_webhook
def voice_transcription(request: HttpRequest) -> HttpResponse:
    event = request.POST.get("TranscriptionEvent", "")
    call_sid = request.POST.get("CallSid", "")[:64]
    if event == "transcription-started":
        recordings.transcription_started(call_sid=call_sid)
    elif event == "transcription-content":
        sequence = _int(request.POST.get("SequenceId", ""))
        if sequence is None:
            return HttpResponse("SequenceId is missing.", status=400)
        recordings.transcript_segment_record(
            call_sid=call_sid,
            transcription_sid=request.POST.get("TranscriptionSid", "")[:64],
            sequence_id=str(sequence),
            track=request.POST.get("Track", ""),
            text=_transcript(request.POST.get("TranscriptionData", "")),
            final=request.POST.get("Final", "").lower() == "true",
        )
    elif event == "transcription-error":
        logger.warning(
            "Live transcription of call %s failed: %s",
            call_sid,
            request.POST.get("TranscriptionError", "")[:200],
        )
    return HttpResponse(status=204)
