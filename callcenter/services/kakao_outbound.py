"""What Open120 sends to KakaoTalk: skill replies through a callbackUrl, and 알림톡.

Two kinds of outbox rows end here (``callcenter.services.outbox._send``, when
``MESSAGING_BACKEND`` is a real sender):

- ``kakao_callback``: an agent's or the bot's late answer to a Kakao user's skill request.
  Open Builder gave a ``callbackUrl`` with the request; it takes one POST of a skill response
  (``{"version": "2.0", "template": …}``), within one minute of the request, once. Kakao
  answers ``{"taskId", "status": "SUCCESS" | "FAIL", "message"}``. The URL came in a request
  body, so before anything is posted its host must be one of ``KAKAO_CALLBACK_HOSTS``:
  a forged callbackUrl must not make the city's server POST a citizen's answer elsewhere.
- ``kakao``: a KakaoTalk business message (알림톡) to a phone number from an approved
  template, sent through NHN Cloud's KakaoTalk Bizmessage API (v2.3, "메시지 전문 발송":
  ``POST {KAKAO_BIZMSG_URL}/alimtalk/v2.3/appkeys/{appkey}/raw-messages`` with the
  ``X-Secret-Key`` header). The full text is sent, not template parameters, so the row's body
  is exactly what the citizen reads and what staff see on the ticket; Kakao checks it against
  the approved template (NHN answers -3010 when they differ). The texts below are therefore
  the templates to register with Kakao, word for word.

  Our own fallback to SMS is decided when the row is written (``kakao_notification_route``),
  so the provider's SMS resend is always switched off: a citizen who texted STOP must not
  get a text from NHN either.
"""

import json
import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import phonenumbers
import requests
from django.conf import settings
from django.utils import timezone

from callcenter.services.outbox import FIRST_RETRY_AFTER, SEND_TIMEOUT_SECONDS, DeliveryError
from channels_app.models import OutboundMessage

logger = logging.getLogger(__name__)

Channel = OutboundMessage.Channel

# Open Builder: "callbackUrl valid time: 1min", and it may be used once.
CALLBACK_WINDOW = timedelta(minutes=1)
# Kakao's limit for an 알림톡 body.
ALIMTALK_MAX_CHARS = 1000
# NHN Cloud result codes worth another try: its own system error. Everything else it
# answers (bad key, unknown or unapproved template, text not matching the template, bad
# number, a duplicate idempotency key) fails the same way again.
NHN_RETRYABLE_CODES = frozenset({-9999})
NHN_DUPLICATE_REQUEST = -1005
HTTP_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# The templates to register with Kakao (through NHN Cloud's console), text for text.
# ``#{name}`` is Kakao's variable syntax.
ANSWER_TEMPLATE = "[120 상담센터] 민원 #{number}(#{subject})에 대한 답변입니다.\n#{answer}"
ANSWER_CUT_NOTE = "\n…(이하 생략) 전체 답변은 민원 조회에서 확인하실 수 있습니다: "
SURVEY_TEMPLATE = "[120] 민원(접수번호 #{number}) 처리에 만족하셨나요? 의견을 들려주세요: #{url}"
SUBJECT_MAX_CHARS = 40


# --- Choosing and writing the notification ------------------------------------------------------
def kakao_bizmessage_enabled() -> bool:
    """Whether notifications to KakaoTalk citizens go as 알림톡 (``KAKAO_BIZMSG_ENABLED``,
    on by default once the NHN Cloud app key, secret and sender key are set)."""
    return bool(settings.KAKAO_BIZMSG_ENABLED)


def kakao_notification_route(citizen) -> str | None:
    """How a notification reaches a citizen who came through KakaoTalk: "kakao" (알림톡 to
    their phone) when business messages are on, else "sms", but never SMS to a citizen who
    texted STOP / 수신거부; None when neither can reach them.

    An 알림톡 goes to a phone number: the Kakao user key of the chatbot cannot receive one.
    """
    if not citizen.phone:
        return None
    if kakao_bizmessage_enabled():
        return "kakao"
    if citizen.sms_opted_out_at is not None:
        return None
    return "sms"


def _render(template: str, values: dict[str, str]) -> str:
    text = template
    for key, value in values.items():
        text = text.replace("#{" + key + "}", value)
    return text


def kakao_answer_text(*, number: str, subject: str, answer: str, track_url: str) -> str:
    """The answer 알림톡; an answer too long for KakaoTalk is cut with a pointer to the
    public tracking page, which shows all of it."""
    if len(subject) > SUBJECT_MAX_CHARS:
        subject = subject[: SUBJECT_MAX_CHARS - 1] + "…"
    text = _render(ANSWER_TEMPLATE, {"number": number, "subject": subject, "answer": answer})
    if len(text) <= ALIMTALK_MAX_CHARS:
        return text
    tail = ANSWER_CUT_NOTE + track_url
    room = ALIMTALK_MAX_CHARS - len(text) + len(answer) - len(tail)
    return _render(
        ANSWER_TEMPLATE,
        {"number": number, "subject": subject, "answer": answer[: max(room, 0)] + tail},
    )


def kakao_survey_text(*, number: str, url: str) -> str:
    return _render(SURVEY_TEMPLATE, {"number": number, "url": url})


# --- Sending --------------------------------------------------------------------------------
def kakao_send(message: OutboundMessage) -> str:
    """Send one ``kakao`` or ``kakao_callback`` row; the provider's id for it ("" when none).
    Raises DeliveryError, retryable or not; what was sent is left on ``sent_requests``."""
    message.sent_requests = []
    if message.channel == Channel.KAKAO_CALLBACK:
        return _callback_send(message)
    return _bizmessage_send(message)


def kakao_callback_url_allowed(url: str) -> bool:
    """Whether ``url`` is one of Kakao's callback endpoints: https, a host of
    ``KAKAO_CALLBACK_HOSTS``, the default port and no credentials in it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and (parts.hostname or "") in settings.KAKAO_CALLBACK_HOSTS
        and port in (None, 443)
        and not parts.username
        and not parts.password
    )


def _callback_deadline(message: OutboundMessage) -> datetime:
    return message.created_at + CALLBACK_WINDOW


def _callback_send(message: OutboundMessage) -> str:
    url = message.to
    if not kakao_callback_url_allowed(url):
        host = urlsplit(url).hostname if url else ""
        raise DeliveryError(
            f"Refused: {host or 'this address'} is not a KakaoTalk callback host "
            "(KAKAO_CALLBACK_HOSTS); nothing was sent.",
            retryable=False,
        )
    deadline = _callback_deadline(message)
    remaining = (deadline - timezone.now()).total_seconds()
    if remaining <= 0:
        raise DeliveryError(
            "KakaoTalk's one-minute callback window has passed; the reply waits for the "
            "citizen's next message.",
            retryable=False,
        )
    try:
        payload = json.loads(message.body)
    except ValueError as error:
        raise DeliveryError(f"The KakaoTalk reply is not JSON: {error}", retryable=False) from error
    message.sent_requests = [{"method": "POST", "url": url, "data": payload}]

    def retry_in_time() -> bool:
        # Judged against the sweep's delay (FIRST_RETRY_AFTER), not the 1 s task the outbox
        # also schedules for callbacks: a retry is promised only where even the sweep
        # would land inside the minute.
        return timezone.now() + FIRST_RETRY_AFTER < deadline

    try:
        response = requests.post(
            url, json=payload, timeout=min(SEND_TIMEOUT_SECONDS, max(remaining, 1))
        )
    except requests.RequestException as error:
        raise DeliveryError(
            f"KakaoTalk callback unreachable: {error}", retryable=retry_in_time()
        ) from error
    answer = _json_or_empty(response)
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(
            f"KakaoTalk callback answered {response.status_code}", retryable=retry_in_time()
        )
    if response.status_code >= 300:
        # Expired, already used or unknown token: the same URL will never take it.
        raise DeliveryError(
            f"KakaoTalk callback refused ({response.status_code}): "
            f"{answer.get('message') or response.text[:200]}",
            retryable=False,
        )
    if str(answer.get("status", "SUCCESS")).upper() != "SUCCESS":
        raise DeliveryError(
            f"KakaoTalk callback failed: {answer.get('message') or answer.get('status')}",
            retryable=False,
        )
    return str(answer.get("taskId") or "")[:64]


def _bizmessage_configured() -> bool:
    return bool(
        settings.KAKAO_BIZMSG_URL
        and settings.KAKAO_BIZMSG_APPKEY
        and settings.KAKAO_BIZMSG_SECRET
        and settings.KAKAO_BIZMSG_SENDER_KEY
    )


def _recipient_number(to: str) -> str:
    """NHN's recipientNo: a Korean number in its domestic digits (01012345678), any other
    with its country code (819012345678)."""
    try:
        number = phonenumbers.parse(to, "KR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DeliveryError(
            "A KakaoTalk business message needs a valid phone number.", retryable=False
        )
    if number.country_code == 82:
        return "0" + str(number.national_number)
    return f"{number.country_code}{number.national_number}"


def _bizmessage_send(message: OutboundMessage) -> str:
    if not _bizmessage_configured():
        raise DeliveryError(
            "KakaoTalk business messages are not configured (KAKAO_BIZMSG_APPKEY, "
            "KAKAO_BIZMSG_SECRET, KAKAO_BIZMSG_SENDER_KEY).",
            retryable=False,
        )
    if not message.template:
        raise DeliveryError(
            "A KakaoTalk business message needs the code of its approved template.",
            retryable=False,
        )
    url = (
        f"{settings.KAKAO_BIZMSG_URL.rstrip('/')}/alimtalk/v2.3/appkeys/"
        f"{settings.KAKAO_BIZMSG_APPKEY}/raw-messages"
    )
    payload = {
        "senderKey": settings.KAKAO_BIZMSG_SENDER_KEY,
        "templateCode": message.template,
        "recipientList": [
            {
                "recipientNo": _recipient_number(message.to),
                "content": message.body,
                # Falling back to SMS is ours to decide (and STOP to respect), not NHN's.
                "resendParameter": {"isResend": False},
                "recipientGroupingKey": f"outbound-{message.pk}",
            }
        ],
    }
    # What staff see: never the secret.
    message.sent_requests = [{"method": "POST", "url": url, "data": payload}]
    headers = {
        "X-Secret-Key": settings.KAKAO_BIZMSG_SECRET,
        # A retry after an answer we never got is refused by NHN (-1005), not sent twice.
        "X-NC-API-IDEMPOTENCY-KEY": f"open120-outbound-{message.pk}",
    }
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=SEND_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise DeliveryError(f"NHN Cloud unreachable: {error}", retryable=True) from error
    answer = _json_or_empty(response)
    header = answer.get("header") or {}
    if response.status_code in HTTP_RETRYABLE_STATUSES:
        raise DeliveryError(f"NHN Cloud answered {response.status_code}", retryable=True)
    if response.status_code != 200 or not header:
        raise DeliveryError(
            f"NHN Cloud answered {response.status_code}: {response.text[:200]}",
            retryable=False,
        )
    if not header.get("isSuccessful"):
        code = header.get("resultCode")
        if code == NHN_DUPLICATE_REQUEST:
            raise DeliveryError(
                "NHN Cloud already took a request for this KakaoTalk message (an earlier "
                "attempt whose answer was lost): not sent twice; check NHN Cloud's console.",
                retryable=False,
            )
        raise DeliveryError(
            f"KakaoTalk business message refused ({code}): {header.get('resultMessage', '')}",
            retryable=code in NHN_RETRYABLE_CODES,
        )
    body = answer.get("message") or {}
    for result in body.get("sendResults") or []:
        if result.get("resultCode") not in (0, None):
            raise DeliveryError(
                f"KakaoTalk business message refused for this recipient "
                f"({result.get('resultCode')}): {result.get('resultMessage', '')}",
                retryable=result.get("resultCode") in NHN_RETRYABLE_CODES,
            )
    return str(body.get("requestId") or "")[:64]


def _json_or_empty(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
