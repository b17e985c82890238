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
  speaks it, and every later prompt is in that language.
- ``POST /twilio/voice/wait``: Twilio's ``waitUrl`` while the caller is in the ``<Enqueue>``:
  the place in the queue and the estimated wait, in the caller's language, about every 30 s.
- ``POST /twilio/voice/callback``: past VOICE_CALLBACK_OFFER_SECONDS the wait music offers a
  call-back ("press 1"): the request goes to the call-back work list with the calling number,
  and the caller leaves the queue; ``/twilio/voice/queue-exit`` (the Enqueue's action) then
  ends the call politely.
- ``POST /twilio/voice/status``: the call's status callback (set on the phone number in
  Twilio): a call that is over ends its contact; a hang-up while waiting is an abandonment.

Prompts are a catalogue per language (what the caller hears), not page text: each language
names the Twilio ``<Say>`` voice language that speaks it.
"""

import logging
import re
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from twilio.twiml.voice_response import Gather, VoiceResponse

from callcenter.services import calls, routing
from channels_app.twilio_webhooks import twilio_webhook

logger = logging.getLogger(__name__)

# Seconds of hold music (a pause here) between two announcements of the caller's place.
WAIT_ANNOUNCE_SECONDS = 30
# Menus heard without an answer before the call goes to an agent (as a person would ask).
MENU_RETRIES = 2


@dataclass(frozen=True)
class Prompts:
    say_language: str  # Twilio <Say language="…">
    queued: str
    position: str  # {position}, {minutes}
    no_agents: str
    unavailable: str
    callback_offer: str
    callback_taken: str


PROMPTS = {
    "ko": Prompts(
        say_language="ko-KR",
        queued="상담원에게 연결해 드리겠습니다. 잠시만 기다려 주십시오.",
        position="고객님의 대기 순서는 {position}번째이며, 예상 대기 시간은 약 {minutes}분입니다.",
        no_agents="지금은 상담 가능한 상담원이 없습니다. 잠시만 기다려 주십시오.",
        unavailable="죄송합니다. 지금은 전화 상담을 받을 수 없습니다. 잠시 후 다시 걸어 주십시오.",
        callback_offer="기다리지 않고 상담원의 전화를 받으시려면 1번을 눌러 주십시오.",
        callback_taken="콜백 요청이 접수되었습니다. "
        "상담원이 지금 거신 번호로 전화드리겠습니다. 감사합니다.",
    ),
    "en": Prompts(
        say_language="en-US",
        queued="We will connect you to an agent. Please hold.",
        position="You are number {position} in the queue. "
        "The estimated wait is about {minutes} minutes.",
        no_agents="No agent who speaks your language is available right now. Please hold.",
        unavailable="Sorry, we cannot take calls right now. Please call again later.",
        callback_offer="To be called back instead of waiting, press 1.",
        callback_taken="Your call-back request is received. An agent will call this number. "
        "Thank you.",
    ),
    "zh": Prompts(
        say_language="cmn-CN",
        queued="正在为您转接客服人员，请稍候。",
        position="您前面还有{position}位，预计等待时间约{minutes}分钟。",
        no_agents="目前没有可以使用您的语言的客服人员，请稍候。",
        unavailable="抱歉，现在无法接听电话，请稍后再拨。",
        callback_offer="如需客服人员回电而不必等待，请按1。",
        callback_taken="已收到您的回电请求，客服人员将拨打您现在的号码。谢谢。",
    ),
    "ja": Prompts(
        say_language="ja-JP",
        queued="オペレーターにおつなぎします。しばらくお待ちください。",
        position="お客様の順番は{position}番目です。待ち時間は約{minutes}分です。",
        no_agents="ただいま対応できるオペレーターがおりません。しばらくお待ちください。",
        unavailable="申し訳ございません。ただいまお電話をお受けできません。",
        callback_offer="お待ちいただかずに折り返しのお電話をご希望の方は1番を押してください。",
        callback_taken="折り返しのご依頼を承りました。この番号にオペレーターからお電話します。",
    ),
    "vi": Prompts(
        say_language="vi-VN",
        queued="Chúng tôi sẽ kết nối bạn với nhân viên tư vấn. Vui lòng chờ.",
        position="Bạn đang ở vị trí số {position}. Thời gian chờ dự kiến khoảng {minutes} phút.",
        no_agents="Hiện chưa có nhân viên nói ngôn ngữ của bạn. Vui lòng chờ.",
        unavailable="Xin lỗi, hiện chúng tôi không thể nhận cuộc gọi. Vui lòng gọi lại sau.",
        callback_offer="Để được gọi lại thay vì chờ, xin nhấn phím 1.",
        callback_taken="Yêu cầu gọi lại đã được ghi nhận. Nhân viên sẽ gọi lại số này. Cảm ơn bạn.",
    ),
}

WELCOME = "안녕하십니까, 120 시민 상담 콜센터입니다. 상담 품질 향상을 위해 통화 내용이 녹음됩니다."
MAIN_MENU = (
    "일반 시정 안내는 1번, 외국어 상담은 2번, 수어 영상 상담 안내는 3번, "
    "상담원 연결은 0번을 누르시거나 말씀해 주십시오."
)
INVALID_CHOICE = "잘못 누르셨습니다."
SIGN_LANGUAGE_INFO = (
    "수어 영상 상담은 120 홈페이지의 영상 상담 버튼이나 영상 전화로 이용하실 수 있습니다. "
    "청각장애인 영상 상담은 평일과 주말 모두 받습니다."
)
# The language menu: each option in its own language (digit, language, what is said).
LANGUAGE_MENU = (
    ("1", "en", "For English, press 1."),
    ("2", "zh", "中文服务请按2。"),
    ("3", "ja", "日本語は3番を押してください。"),
    ("4", "vi", "Tiếng Việt, xin nhấn phím 4."),
)
# Speech that means a menu choice (Korean speech recognition of the main menu).
SPEECH_CHOICES = (
    ("0", re.compile(r"상담원|상담사|사람|연결")),
    ("2", re.compile(r"외국어|영어|중국어|일본어|베트남어|foreign|english", re.IGNORECASE)),
    ("3", re.compile(r"수어|수화|영상")),
    ("1", re.compile(r"일반|시정|안내")),
)
LANGUAGE_SPEECH = (
    ("en", re.compile(r"english|영어", re.IGNORECASE)),
    ("zh", re.compile(r"中文|chinese|중국어", re.IGNORECASE)),
    ("ja", re.compile(r"日本|japanese|일본어", re.IGNORECASE)),
    ("vi", re.compile(r"việt|vietnam|베트남", re.IGNORECASE)),
)


def _twiml(response: VoiceResponse) -> HttpResponse:
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


def _enqueue(response: VoiceResponse, contact, language: str) -> VoiceResponse:
    prompts = PROMPTS.get(language, PROMPTS["ko"])
    try:
        queue = calls.call_enqueue(contact=contact, language=language)
    except calls.CallError:
        logger.error("call %s: no queue takes calls", contact.pk)
        response.say(prompts.unavailable, language=prompts.say_language)
        response.hangup()
        return response
    response.say(prompts.queued, language=prompts.say_language)
    response.enqueue(
        queue.code,
        action=reverse("twilio-voice-queue-exit"),
        method="POST",
        wait_url=reverse("twilio-voice-wait"),
        wait_url_method="POST",
    )
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
    return _twiml(_main_menu(VoiceResponse(), attempt=0, greet=True))


@twilio_webhook
def voice_menu(request: HttpRequest) -> HttpResponse:
    """The caller's answer to the main menu (or none: ``attempt`` counts the silences)."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    if contact is None:
        return HttpResponse("Unknown call.", status=404)
    choice = _choice(request, SPEECH_CHOICES)
    response = VoiceResponse()
    if choice in ("0", "1"):
        return _twiml(_enqueue(response, contact, "ko"))
    if choice == "2":
        gather = _menu(
            "twilio-voice-language",
            language="en-US",
            hints="English, Chinese, Japanese, Vietnamese",
        )
        for _digit, language, text in LANGUAGE_MENU:
            gather.say(text, language=PROMPTS[language].say_language)
        response.append(gather)
        response.redirect(reverse("twilio-voice-language"), method="POST")
        return _twiml(response)
    if choice == "3":
        response.say(SIGN_LANGUAGE_INFO, language="ko-KR")
        return _twiml(_main_menu(response, attempt=0, greet=False))
    attempt = _attempt(request)
    if choice:
        response.say(INVALID_CHOICE, language="ko-KR")
    elif attempt > MENU_RETRIES:
        return _twiml(_enqueue(response, contact, "ko"))  # silence: a person takes the call
    return _twiml(_main_menu(response, attempt=attempt, greet=False))


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
    language = next((lang for digit, lang, _text in LANGUAGE_MENU if digit == digits), "")
    if not language:
        said = request.POST.get("SpeechResult", "")
        language = next((lang for lang, pattern in LANGUAGE_SPEECH if pattern.search(said)), "en")
    return _twiml(_enqueue(VoiceResponse(), contact, language))


@twilio_webhook
def voice_wait(request: HttpRequest) -> HttpResponse:
    """Twilio's waitUrl: the caller's place and estimated wait, then hold; Twilio asks again
    when this ends, so the place is told about every WAIT_ANNOUNCE_SECONDS."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    response = VoiceResponse()
    if contact is None:
        response.pause(length=WAIT_ANNOUNCE_SECONDS)
        return _twiml(response)
    prompts = PROMPTS.get(contact.language, PROMPTS["ko"])
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
        target.say(prompts.no_agents, language=prompts.say_language)
    elif position is not None:
        minutes = max(1, round((eta or 0) / 60))
        target.say(
            prompts.position.format(position=position, minutes=minutes),
            language=prompts.say_language,
        )
    if target is not response:
        target.say(prompts.callback_offer, language=prompts.say_language)
    target.pause(length=WAIT_ANNOUNCE_SECONDS)
    return _twiml(response)


@twilio_webhook
def voice_callback(request: HttpRequest) -> HttpResponse:
    """A key pressed during the wait music's call-back offer. 1: a call-back request, then
    the caller leaves the queue (the Enqueue's action says goodbye); any other key: back to
    the music, the place kept."""
    contact = calls.call_for_sid(request.POST.get("CallSid", ""))
    response = VoiceResponse()
    if contact is None or request.POST.get("Digits", "").strip()[:1] != "1":
        response.redirect(reverse("twilio-voice-wait"), method="POST")
        return _twiml(response)
    prompts = PROMPTS.get(contact.language, PROMPTS["ko"])
    try:
        calls.call_callback_request(contact=contact)
    except calls.CallError:
        response.redirect(reverse("twilio-voice-wait"), method="POST")
        return _twiml(response)
    response.say(prompts.callback_taken, language=prompts.say_language)
    response.leave()
    return _twiml(response)


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
    prompts = PROMPTS.get(contact.language if contact else "ko", PROMPTS["ko"])
    if result in QUEUE_FAILURES:
        logger.error("call left the queue with %s", result)
        response.say(prompts.unavailable, language=prompts.say_language)
        response.hangup()
    elif result == "leave":
        response.hangup()
    return _twiml(response)


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a call: 204 whatever it changed (a call we never saw
    included: Twilio has nothing to retry)."""
    calls.call_status_record(
        call_sid=request.POST.get("CallSid", ""), status=request.POST.get("CallStatus", "")
    )
    return HttpResponse(status=204)
