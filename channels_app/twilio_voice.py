"""Twilio Programmable Voice webhooks: the 120 line's IVR, in TwiML.

Every request is checked against ``X-Twilio-Signature`` (channels_app.twilio_webhooks) before
anything is read or stored; a forged or tampered one gets 403. The flow:

- ``POST /twilio/voice/incoming``: the call's contact (by CallSid: a retried webhook finds
  the same one), then the greeting, the recording notice and the main menu in Korean: 1
  general city information, 2 foreign languages, 3 sign language (video) information, 0 an
  agent. Digits or speech ("상담원", "외국어", …) both work.
- ``POST /twilio/voice/menu``: the caller's choice. 2 leads to the language menu, each
  option spoken in its own language.
- ``POST /twilio/voice/language``: the chosen language; the call is queued for an agent who
  speaks it, and every later prompt is in that language. A queue with opening hours (its
  business calendar) is closed outside them, on Korean public holidays and on its closure
  days: the caller hears the after-hours message instead and may leave a voicemail
  (``channels_app.twilio_voicemail``).
- ``POST /twilio/voice/wait``: Twilio's ``waitUrl`` while the caller is in the ``<Enqueue>``:
  the place in the queue and the estimated wait, in the caller's language, about every 30 s.
- ``POST /twilio/voice/callback``: past VOICE_CALLBACK_OFFER_SECONDS the wait music offers a
  call-back ("press 1"): the request goes to the call-back work list with the calling number,
  and the caller leaves the queue; ``/twilio/voice/queue-exit`` (the Enqueue's action) then
  ends the call politely.
- ``POST /twilio/voice/status``: the call's status callback (set on the phone number in
  Twilio): a call that is over ends its contact; a hang-up while waiting is an abandonment.

What the caller hears is the prompt catalogue of ``channels_app.voice_prompts``.
"""

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from twilio.twiml.voice_response import Gather, VoiceResponse

from callcenter.services import calls, routing, voicemail
from channels_app.twilio_webhooks import twilio_webhook
from channels_app.voice_prompts import (
    INVALID_CHOICE,
    MAIN_MENU,
    SIGN_LANGUAGE_INFO,
    WELCOME,
    prompt_language,
    speak,
)

logger = logging.getLogger(__name__)

# Seconds of hold music (a pause here) between two announcements of the caller's place.
WAIT_ANNOUNCE_SECONDS = 30
# Menus heard without an answer before the call goes to an agent (as a person would ask).
MENU_RETRIES = 2
# The longest voicemail, in seconds; "#" or 5 s of silence ends it sooner.
VOICEMAIL_MAX_SECONDS = 120
# The language menu (digit, language): each option in its own language (language_option).
LANGUAGE_MENU = (("1", "en"), ("2", "zh"), ("3", "ja"), ("4", "vi"), ("5", "mn"))
# Speech that means a menu choice (Korean speech recognition of the main menu).
SPEECH_CHOICES = (
    ("0", re.compile(r"상담원|상담사|사람|연결")),
    ("2", re.compile(r"외국어|영어|중국어|일본어|베트남어|몽골어|foreign|english", re.IGNORECASE)),
    ("3", re.compile(r"수어|수화|영상")),
    ("1", re.compile(r"일반|시정|안내")),
)
LANGUAGE_SPEECH = (
    ("en", re.compile(r"english|영어", re.IGNORECASE)),
    ("zh", re.compile(r"中文|chinese|중국어", re.IGNORECASE)),
    ("ja", re.compile(r"日本|japanese|일본어", re.IGNORECASE)),
    ("vi", re.compile(r"việt|vietnam|베트남", re.IGNORECASE)),
    ("mn", re.compile(r"монгол|mongol|몽골", re.IGNORECASE)),
)


def twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _menu(action: str, *, language: str, hints: str) -> Gather:
    """A one-key menu that also takes speech in ``language``."""
    return Gather(
        input="dtmf speech",
        num_digits=1,
        action=reverse(action),
        method="POST",
        language=language,
        timeout=5,
        speech_timeout="auto",
        hints=hints,
    )


def _main_menu(response: VoiceResponse, *, attempt: int, greet: bool) -> VoiceResponse:
    gather = _menu("twilio-voice-menu", language="ko-KR", hints="상담원, 외국어, 수어, 일반 안내")
    if greet:
        gather.say(WELCOME, language="ko-KR")
    gather.say(MAIN_MENU, language="ko-KR")
    response.append(gather)
    # No answer: the menu again, then an agent (Twilio follows the Redirect after Gather).
    response.redirect(f"{reverse('twilio-voice-menu')}?attempt={attempt + 1}", method="POST")
    return response


def enqueue_twiml(response: VoiceResponse, contact, language: str) -> VoiceResponse:
    spoken = prompt_language(language)
    try:
        if voicemail.call_after_hours(contact=contact, language=language) is not None:
            return _after_hours(response, spoken)
        queue = calls.call_enqueue(contact=contact, language=language)
    except calls.CallError:
        logger.error("call %s: no queue takes calls", contact.pk)
        speak(response, spoken, "unavailable")
        response.hangup()
        return response
    speak(response, spoken, "queued")
    response.enqueue(
        queue.code,
        action=reverse("twilio-voice-queue-exit"),
        method="POST",
        wait_url=reverse("twilio-voice-wait"),
        wait_url_method="POST",
    )
    return response


def _after_hours(response: VoiceResponse, language: str) -> VoiceResponse:
    """The queue is closed: the after-hours message, then a voicemail after the tone. The
    Record's action thanks the caller; with nothing recorded Twilio skips it and goes on
    to the goodbye."""
    speak(response, language, "after_hours")
    response.record(
        action=reverse("twilio-voice-voicemail"),
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        finish_on_key="#",
        trim="trim-silence",
        recording_status_callback=settings.PUBLIC_BASE_URL
        + reverse("twilio-voice-voicemail-recording"),
        recording_status_callback_method="POST",
    )
    speak(response, language, "goodbye")
    response.hangup()
    return response


def _choice(request: HttpRequest, speech: tuple) -> str:
    digits = request.POST.get("Digits", "").strip()
    if digits:
        return digits[:1]
    said = request.POST.get("SpeechResult", "")
    return next((choice for choice, pattern in speech if pattern.search(said)), "")


@twilio_webhook
def voice_incoming(request: HttpRequest) -> HttpResponse:
    """A call to the 120 line: its contact, the greeting with the recording notice, the menu."""
    call_sid = request.POST.get("CallSid", "")
    if not call_sid:
        return HttpResponse("CallSid is missing.", status=400)
    calls.call_answer(call_sid=call_sid, from_number=request.POST.get("From", ""))
    return twiml(_main_menu(VoiceResponse(), attempt=0, greet=True))


@twilio_webhook
def voice_menu(request: HttpRequest) -> HttpResponse:
    """The caller's answer to the main menu (or none: ``attempt`` counts the silences)."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    if contact is None:
        return HttpResponse("Unknown call.", status=404)
    choice = _choice(request, SPEECH_CHOICES)
    calls.call_ivr_step(contact, f"menu:{choice or 'none'}")
    response = VoiceResponse()
    if choice in ("0", "1"):
        return twiml(enqueue_twiml(response, contact, "ko"))
    if choice == "2":
        gather = _menu(
            "twilio-voice-language",
            language="en-US",
            hints="English, Chinese, Japanese, Vietnamese, Mongolian",
        )
        for _digit, language in LANGUAGE_MENU:
            speak(gather, language, "language_option")
        response.append(gather)
        response.redirect(reverse("twilio-voice-language"), method="POST")
        return twiml(response)
    if choice == "3":
        response.say(SIGN_LANGUAGE_INFO, language="ko-KR")
        return twiml(_main_menu(response, attempt=0, greet=False))
    attempt = _attempt(request)
    if choice:
        response.say(INVALID_CHOICE, language="ko-KR")
    elif attempt > MENU_RETRIES:
        return twiml(enqueue_twiml(response, contact, "ko"))  # silence: a person takes the call
    return twiml(_main_menu(response, attempt=attempt, greet=False))


def _attempt(request: HttpRequest) -> int:
    try:
        return max(0, int(request.GET.get("attempt", "0")))
    except ValueError:
        return 0


@twilio_webhook
def voice_language(request: HttpRequest) -> HttpResponse:
    """The language the caller chose: queued for an agent who speaks it. No choice (or one
    not on the menu): an English-speaking agent, who can ask."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    if contact is None:
        return HttpResponse("Unknown call.", status=404)
    digits = request.POST.get("Digits", "").strip()[:1]
    language = next((lang for digit, lang in LANGUAGE_MENU if digit == digits), "")
    if not language:
        said = request.POST.get("SpeechResult", "")
        language = next((lang for lang, pattern in LANGUAGE_SPEECH if pattern.search(said)), "en")
    calls.call_ivr_step(contact, f"language:{language}")
    return twiml(enqueue_twiml(VoiceResponse(), contact, language))


@twilio_webhook
def voice_wait(request: HttpRequest) -> HttpResponse:
    """Twilio's waitUrl: the caller's place and estimated wait, then hold; Twilio asks again
    when this ends, so the place is told about every WAIT_ANNOUNCE_SECONDS."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    response = VoiceResponse()
    if contact is None:
        response.pause(length=WAIT_ANNOUNCE_SECONDS)
        return twiml(response)
    language = prompt_language(contact.language)
    position, eta, no_agents = routing.citizen_queue_status(contact)
    # Past VOICE_CALLBACK_OFFER_SECONDS the announcement and the music are a Gather: 1 asks
    # for a call-back (any time while they play).
    target = response
    if calls.call_callback_offered(contact):
        target = Gather(
            input="dtmf", num_digits=1, action=reverse("twilio-voice-callback"), method="POST"
        )
        response.append(target)
    if no_agents:
        speak(target, language, "no_agents")
    elif position is not None:
        minutes = max(1, round((eta or 0) / 60))
        speak(target, language, "position", position=position, minutes=minutes)
    if target is not response:
        speak(target, language, "callback_offer")
    target.pause(length=WAIT_ANNOUNCE_SECONDS)
    return twiml(response)


@twilio_webhook
def voice_callback(request: HttpRequest) -> HttpResponse:
    """A key pressed during the wait music's call-back offer. 1: a call-back request, then
    the caller leaves the queue (the Enqueue's action says goodbye); any other key: back to
    the music, the place kept."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    response = VoiceResponse()
    if contact is None or request.POST.get("Digits", "").strip()[:1] != "1":
        response.redirect(reverse("twilio-voice-wait"), method="POST")
        return twiml(response)
    try:
        calls.call_callback_request(contact=contact)
    except calls.CallError:
        response.redirect(reverse("twilio-voice-wait"), method="POST")
        return twiml(response)
    speak(response, prompt_language(contact.language), "callback_taken")
    response.leave()
    return twiml(response)


# Twilio's QueueResult when the caller left the <Enqueue> with nobody to talk to.
QUEUE_FAILURES = frozenset({"queue-full", "error", "system-error"})


@twilio_webhook
def voice_queue_exit(request: HttpRequest) -> HttpResponse:
    """The <Enqueue>'s action: what the call does once out of the queue. After a call-back
    request (``leave``) it ends politely; a queue error ends the call with an apology; a
    bridged call or a hang-up needs nothing."""
    result = request.POST.get("QueueResult", "")
    response = VoiceResponse()
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    if result in QUEUE_FAILURES:
        logger.error("call left the queue with %s", result)
        speak(response, prompt_language(contact.language if contact else "ko"), "unavailable")
        response.hangup()
    elif result == "leave":
        response.hangup()
    return twiml(response)


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a call: 204 whatever it changed (a call we never saw
    included: Twilio has nothing to retry)."""
    calls.call_status_record(
        call_sid=request.POST.get("CallSid", ""), status=request.POST.get("CallStatus", "")
    )
    return HttpResponse(status=204)
