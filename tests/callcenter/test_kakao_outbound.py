"""KakaoTalk out of the outbox: skill replies POSTed to a callbackUrl, and 알림톡 through
NHN Cloud's KakaoTalk Bizmessage API. Only HTTP is intercepted (``responses``); each test
runs the outbox's real delivery and reads the exact request and the row's outcome."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from callcenter.services.kakao_outbound import (
    ALIMTALK_MAX_CHARS,
    kakao_answer_text,
    kakao_survey_text,
)
from callcenter.services.outbox import outbox_deliver
from channels_app.models import OutboundMessage

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
CALLBACK_URL = "https://bot-api.kakao.com/v1/bots/callback/1a2b3c-one-time-token"
APPKEY = "nhn-appkey-1"
SECRET = "nhn-secret-key"  # noqa: S105
SENDER_KEY = "a" * 40
BIZMSG_URL = f"https://api-alimtalk.cloud.toast.com/alimtalk/v2.3/appkeys/{APPKEY}/raw-messages"
SKILL_REPLY = {
    "version": "2.0",
    "template": {"outputs": [{"simpleText": {"text": "상담사 답변: 내일 수거합니다."}}]},
}


@pytest.fixture
def kakao(settings):
    """A real sender configured for KakaoTalk, and the wire: every request kept."""
    settings.MESSAGING_BACKEND = "twilio"
    settings.KAKAO_BIZMSG_URL = "https://api-alimtalk.cloud.toast.com"
    settings.KAKAO_BIZMSG_APPKEY = APPKEY
    settings.KAKAO_BIZMSG_SECRET = SECRET
    settings.KAKAO_BIZMSG_SENDER_KEY = SENDER_KEY
    settings.KAKAO_CALLBACK_HOSTS = ["bot-api.kakao.com"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def callback_row(*, url=CALLBACK_URL, age=timedelta(seconds=2), body=None) -> OutboundMessage:
    return OutboundMessage.objects.create(
        channel=OutboundMessage.Channel.KAKAO_CALLBACK,
        to=url,
        body=json.dumps(body or SKILL_REPLY, ensure_ascii=False),
        idempotency_key=f"test:callback:{url}:{age}",
        backend="twilio",
        created_at=timezone.now() - age,
    )


def alimtalk_row(*, to="+821012345678", body="[120] 안내", template="OPEN120_ANSWER"):
    return OutboundMessage.objects.create(
        channel=OutboundMessage.Channel.KAKAO,
        to=to,
        body=body,
        template=template,
        idempotency_key=f"test:alimtalk:{to}:{template}",
        backend="twilio",
    )


def deliver(row: OutboundMessage) -> OutboundMessage:
    outbox_deliver(row.pk)
    row.refresh_from_db()
    return row


def nhn_answer(code=0, message="SUCCESS", *, recipient_code=0, request_id="20261130ReZQ6KZzAH0"):
    successful = code == 0
    return {
        "header": {"resultCode": code, "resultMessage": message, "isSuccessful": successful},
        "message": {
            "requestId": request_id,
            "senderGroupingKey": None,
            "sendResults": [
                {
                    "recipientSeq": 1,
                    "recipientNo": "01012345678",
                    "resultCode": recipient_code,
                    "resultMessage": "SUCCESS" if recipient_code == 0 else "Invalid recipientNo",
                    "recipientGroupingKey": "outbound-1",
                }
            ]
            if successful
            else [],
        },
    }


# --- Skill replies through the callbackUrl ----------------------------------------------------
def test_a_skill_reply_is_posted_once_as_json_to_the_callback_url(kakao):
    kakao.post(CALLBACK_URL, json={"taskId": "task-77", "status": "SUCCESS", "message": ""})
    row = deliver(callback_row())
    (call,) = kakao.calls
    assert call.request.method == "POST" and call.request.url == CALLBACK_URL
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == SKILL_REPLY
    assert (row.status, row.provider_id, row.error) == (Status.SENT, "task-77", "")
    assert row.request == [{"method": "POST", "url": CALLBACK_URL, "data": SKILL_REPLY}]
    assert outbox_deliver(row.pk) is None  # sent once: a second delivery does nothing
    assert len(kakao.calls) == 1


def test_kakao_answering_fail_fails_the_reply_for_good(kakao):
    kakao.post(CALLBACK_URL, json={"taskId": "t", "status": "FAIL", "message": "invalid token"})
    row = deliver(callback_row())
    assert row.status == Status.FAILED and "invalid token" in row.error
    assert row.attempts == 1


def test_a_refused_callback_token_is_not_retried(kakao):
    kakao.post(CALLBACK_URL, status=400, json={"message": "callback already used"})
    row = deliver(callback_row())
    assert row.status == Status.FAILED and "already used" in row.error


def test_a_kakao_server_error_early_in_the_minute_is_retried(kakao):
    kakao.post(CALLBACK_URL, status=503)
    row = deliver(callback_row(age=timedelta(seconds=3)))
    assert row.status == Status.QUEUED and "503" in row.error
    assert row.next_attempt_at > timezone.now()


def test_a_kakao_server_error_too_late_for_a_retry_fails_the_reply(kakao):
    kakao.post(CALLBACK_URL, status=503)
    row = deliver(callback_row(age=timedelta(seconds=40)))
    assert row.status == Status.FAILED and "503" in row.error


def test_a_timeout_is_retried_while_the_minute_lasts(kakao):
    kakao.post(CALLBACK_URL, body=requests.exceptions.ConnectTimeout("timed out"))
    row = deliver(callback_row())
    assert row.status == Status.QUEUED and "unreachable" in row.error


def test_a_reply_after_the_one_minute_window_is_not_posted(kakao):
    row = deliver(callback_row(age=timedelta(seconds=61)))
    assert not kakao.calls
    assert row.status == Status.FAILED and "one-minute callback window" in row.error


@pytest.mark.parametrize(
    "forged",
    [
        "https://attacker.example/collect",
        "http://bot-api.kakao.com/v1/bots/callback/token",
        "https://bot-api.kakao.com.attacker.example/callback",
        "https://bot-api.kakao.com:8443/callback",
        "https://user:pw@bot-api.kakao.com/callback",
        "https://10.0.0.5/callback",
        "not a url",
    ],
)
def test_a_forged_callback_url_is_refused_without_any_request(kakao, forged):
    row = deliver(callback_row(url=forged))
    assert not kakao.calls
    assert row.status == Status.FAILED and "not a KakaoTalk callback host" in row.error
    assert row.attempts == 1


def test_with_the_outbox_backend_nothing_leaves_the_machine(kakao, settings):
    settings.MESSAGING_BACKEND = "outbox"
    reply, alimtalk = deliver(callback_row()), deliver(alimtalk_row())
    assert not kakao.calls
    assert reply.status == alimtalk.status == Status.SENT


# --- 알림톡 through NHN Cloud -------------------------------------------------------------------
def test_an_alimtalk_is_the_exact_nhn_cloud_request(kakao):
    kakao.post(BIZMSG_URL, json=nhn_answer())
    row = deliver(alimtalk_row(body="[120] 민원 안내입니다."))
    (call,) = kakao.calls
    assert call.request.url == BIZMSG_URL
    assert call.request.headers["X-Secret-Key"] == SECRET
    assert call.request.headers["X-NC-API-IDEMPOTENCY-KEY"] == f"open120-outbound-{row.pk}"
    assert call.request.headers["Content-Type"] == "application/json"
    payload = {
        "senderKey": SENDER_KEY,
        "templateCode": "OPEN120_ANSWER",
        "recipientList": [
            {
                "recipientNo": "01012345678",
                "content": "[120] 민원 안내입니다.",
                "resendParameter": {"isResend": False},
                "recipientGroupingKey": f"outbound-{row.pk}",
            }
        ],
    }
    assert json.loads(call.request.body) == payload
    assert (row.status, row.provider_id) == (Status.SENT, "20261130ReZQ6KZzAH0")
    # Staff see what was sent, never the secret.
    assert row.request == [{"method": "POST", "url": BIZMSG_URL, "data": payload}]
    assert SECRET not in json.dumps(row.request)


def test_a_foreign_number_goes_with_its_country_code(kakao):
    kakao.post(BIZMSG_URL, json=nhn_answer())
    deliver(alimtalk_row(to="+819012345678"))
    sent = json.loads(kakao.calls[0].request.body)
    assert sent["recipientList"][0]["recipientNo"] == "819012345678"


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        (-3010, "The contents are not matched to template.", Status.FAILED),
        (-3003, "Template does not exist.", Status.FAILED),
        (-1001, "Invalid secretKey.", Status.FAILED),
        (4, "Parameter validation failed", Status.FAILED),
        (-9999, "System error", Status.QUEUED),
    ],
)
def test_nhn_result_codes_decide_whether_to_try_again(kakao, code, message, status):
    kakao.post(BIZMSG_URL, json=nhn_answer(code, message))
    row = deliver(alimtalk_row())
    assert row.status == status
    assert str(code) in row.error and message in row.error


def test_a_refused_recipient_fails_the_message(kakao):
    kakao.post(BIZMSG_URL, json=nhn_answer(recipient_code=-1015))
    row = deliver(alimtalk_row())
    assert row.status == Status.FAILED and "-1015" in row.error


def test_a_duplicate_request_is_not_sent_twice(kakao):
    kakao.post(
        BIZMSG_URL,
        json=nhn_answer(-1005, "The same 'X-NC-API-IDEMPOTENCY-KEY' was used within 10 minute."),
    )
    row = deliver(alimtalk_row())
    assert row.status == Status.FAILED and "not sent twice" in row.error


@pytest.mark.parametrize("http_status", [500, 502, 503, 429])
def test_nhn_server_errors_are_retried(kakao, http_status):
    kakao.post(BIZMSG_URL, status=http_status, body="busy")
    row = deliver(alimtalk_row())
    assert row.status == Status.QUEUED and str(http_status) in row.error


def test_nhn_unreachable_is_retried(kakao):
    kakao.post(BIZMSG_URL, body=requests.exceptions.ConnectionError("refused"))
    row = deliver(alimtalk_row())
    assert row.status == Status.QUEUED and "unreachable" in row.error


def test_an_alimtalk_without_configuration_fails_with_the_reason(kakao, settings):
    settings.KAKAO_BIZMSG_APPKEY = ""
    row = deliver(alimtalk_row())
    assert not kakao.calls
    assert row.status == Status.FAILED and "KAKAO_BIZMSG_APPKEY" in row.error


@pytest.mark.parametrize(("to", "template"), [("kakao-user-key", "OPEN120_ANSWER"), ("", "X")])
def test_an_alimtalk_needs_a_phone_number(kakao, to, template):
    row = deliver(alimtalk_row(to=to or "+82101", template=template))
    assert not kakao.calls
    assert row.status == Status.FAILED and "valid phone number" in row.error


def test_an_alimtalk_needs_its_template_code(kakao):
    row = deliver(alimtalk_row(template=""))
    assert not kakao.calls
    assert row.status == Status.FAILED and "template" in row.error


# --- The template texts -------------------------------------------------------------------
def test_the_answer_text_fills_the_approved_template():
    text = kakao_answer_text(
        number="2026-000123",
        subject="가로등 고장",
        answer="내일 수리합니다.",
        track_url="https://120.example.kr/track/",
    )
    assert text == (
        "[120 상담센터] 민원 2026-000123(가로등 고장)에 대한 답변입니다.\n내일 수리합니다."
    )


def test_a_long_answer_is_cut_to_kakaos_limit_with_the_tracking_link():
    text = kakao_answer_text(
        number="2026-000123",
        subject="가로등 고장",
        answer="가" * 3000,
        track_url="https://120.example.kr/track/",
    )
    assert len(text) == ALIMTALK_MAX_CHARS
    assert text.endswith("https://120.example.kr/track/")


def test_the_survey_text_fills_the_approved_template():
    assert kakao_survey_text(number="2026-000123", url="https://120.example.kr/s/x") == (
        "[120] 민원(접수번호 2026-000123) 처리에 만족하셨나요? 의견을 들려주세요: "
        "https://120.example.kr/s/x"
    )
