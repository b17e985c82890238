"""Twilio's webhooks once an agent has the call: the call's conference and its parties.

- ``POST /twilio/voice/conference?contact=N``: where the caller's call goes when the agent
  accepts (a REST redirect out of the ``<Enqueue>``), or when a call-back is answered:
  live transcription starts (when on) and the call joins the conference ``contact-N``,
  which ends when the caller leaves.
- ``POST /twilio/voice/conference-status``: the conference's status callback (start, join,
  leave, hold, mute): the conference SID and the parties' states.
- ``POST /twilio/voice/participant?leg=N``: the status callback of a party we dialled in
  (an agent's softphone, the interpreter line, a video call's relay party).
- ``POST /twilio/voice/hold-music?contact=N``: what a caller on hold hears.
- ``POST /twilio/voice/requeue?contact=N``: a call transferred to another queue waits
  there, with that queue's wait music.

A video call's voice relay (``callcenter.services.video_relay``) uses the same conference
and party callbacks: they move its relay legs, never the video contact.

All are signed by Twilio (``twilio_webhook``); the first looks up the contact by the id we
put in the URL and serves it only to that contact's own caller (CallSid).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from twilio.twiml.voice_response import Dial, Start, VoiceResponse

from callcenter.services import calls, video_relay, voice
from channels_app.twilio_voice import enqueue_twiml, twiml
from channels_app.twilio_webhooks import twilio_webhook
from channels_app.voice_prompts import prompt_language, speak

HOLD_MESSAGE_EVERY_SECONDS = 30
# Real-time transcription's languages for the caller's language (Twilio's languageCode).
TRANSCRIPTION_LANGUAGES = {
    "ko": "ko-KR",
    "en": "en-US",
    "zh": "zh-CN",
    "ja": "ja-JP",
    "vi": "vi-VN",
}


def _query_id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@twilio_webhook
def voice_conference(request: HttpRequest) -> HttpResponse:
    contact_id = _query_id(request, "contact")
    contact = (
        calls.call_joins_conference(contact_id=contact_id, call_sid=request.POST.get("CallSid", ""))
        if contact_id
        else None
    )
    response = VoiceResponse()
    if contact is None:
        response.hangup()
        return twiml(response)
    if settings.VOICE_TRANSCRIPTION:
        start = Start()
        start.transcription(
            name=f"contact-{contact.pk}",
            language_code=TRANSCRIPTION_LANGUAGES.get(contact.language, "ko-KR"),
            track="both_tracks",
            inbound_track_label="caller",
            outbound_track_label="agent",
            partial_results=False,
            status_callback_url=voice.public_url("twilio-voice-transcription"),
            status_callback_method="POST",
        )
        response.append(start)
    dial = Dial()
    dial.conference(
        voice.voice_call(contact).conference_name,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        participant_label="caller",
        wait_url=voice.public_url("twilio-voice-hold-music", contact=contact.pk),
        wait_method="POST",
        status_callback=voice.public_url("twilio-voice-conference-status"),
        status_callback_method="POST",
        status_callback_event="start end join leave hold mute",
    )
    response.append(dial)
    return twiml(response)


@twilio_webhook
def voice_conference_status(request: HttpRequest) -> HttpResponse:
    event = {
        "conference_name": request.POST.get("FriendlyName", ""),
        "conference_sid": request.POST.get("ConferenceSid", ""),
        "event": request.POST.get("StatusCallbackEvent", ""),
        "call_sid": request.POST.get("CallSid", ""),
        "label": request.POST.get("ParticipantLabel", ""),
    }
    # A video call's voice relay moves its relay legs only; any other is a phone call's.
    if not video_relay.relay_conference_event(**event):
        calls.call_conference_event(**event)
    return HttpResponse(status=204)


@twilio_webhook
def voice_participant(request: HttpRequest) -> HttpResponse:
    leg_id = _query_id(request, "leg")
    if leg_id is not None:
        leg = calls.call_party_status(
            leg_id=leg_id,
            call_sid=request.POST.get("CallSid", ""),
            status=request.POST.get("CallStatus", ""),
        )
        if leg is not None:
            video_relay.relay_party_left(leg)
    return HttpResponse(status=204)


@twilio_webhook
def voice_hold_music(request: HttpRequest) -> HttpResponse:
    """A short word in the caller's language, then quiet; Twilio asks again when it ends."""
    contact_id = _query_id(request, "contact")
    contact = (
        calls.contact_of_call(contact_id)
        if contact_id
        else calls.call_for_sid(request.POST.get("CallSid", ""))
    )
    response = VoiceResponse()
    speak(response, prompt_language(contact.language if contact else "ko"), "on_hold")
    response.pause(length=HOLD_MESSAGE_EVERY_SECONDS)
    return twiml(response)


@twilio_webhook
def voice_requeue(request: HttpRequest) -> HttpResponse:
    contact_id = _query_id(request, "contact")
    contact = calls.contact_of_call(contact_id) if contact_id else None
    response = VoiceResponse()
    if contact is None or contact.call.call_sid != request.POST.get("CallSid", ""):
        response.hangup()
        return twiml(response)
    return twiml(enqueue_twiml(response, contact, contact.language))
