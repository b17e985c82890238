"""The outbox: queued in the caller's transaction, sent once after commit, retried, tracked.

Tasks run eagerly in tests (``CELERY_TASK_ALWAYS_EAGER`` in settings_test), so a commit runs
the real path: on_commit → the delivery task → the backend. Twilio's real client builds the
requests; only its HTTP is intercepted (``responses``).
"""

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callcenter.celery import app as celery_app
from callcenter.services.outbox import (
    MAX_ATTEMPTS,
    outbox_deliver,
    outbox_enqueue,
    outbox_sweep,
)
from channels_app.models import OutboundMessage
from tests import factories
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
CALLER_ID = "+15005550006"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
STATUS_PATH = "/twilio/sms/status/"
STATUS_CALLBACK_PATH = "/twilio/messaging/status"


@pytest.fixture
def twilio(settings):
    """The Twilio backend with a test account; Twilio's HTTP answered by ``responses``."""
    settings.MESSAGING_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_CALLER_ID = CALLER_ID
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def twilio_accepts(mock, sid="SM" + "a" * 32):
    mock.post(
        MESSAGES_URL,
        status=201,
        json={"sid": sid, "status": "queued", "account_sid": ACCOUNT_SID, "to": "+821012345678"},
    )


def twilio_fails(mock, status, code=20500, message="Internal Server Error"):
    mock.post(
        MESSAGES_URL,
        status=status,
        json={"code": code, "message": message, "more_info": "", "status": status},
    )


def sms(key="test:1", body="[120] 답변드립니다.", **kwargs) -> OutboundMessage:
    return outbox_enqueue(
        channel="sms", to="+821012345678", body=body, idempotency_key=key, **kwargs
    )


def email(key="test:mail") -> OutboundMessage:
    return outbox_enqueue(
        channel="email",
        to="gildong@example.kr",
        subject="120 상담 답변",
        body="답변드립니다.",
        idempotency_key=key,
    )


# --- Transactions -----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(twilio):
    with pytest.raises(RuntimeError), transaction.atomic():
        sms()
        email()
        raise RuntimeError("the change failed after queueing its messages")
    assert not OutboundMessage.objects.exists()
    assert not twilio.calls and mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_sends_each_message_exactly_once(twilio):
    twilio_accepts(twilio)
    with transaction.atomic():
        message = sms()
        mail_message = email()
        # Nothing leaves before the commit.
        assert not twilio.calls and mail.outbox == []
    message.refresh_from_db()
    mail_message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert message.provider_id == "SM" + "a" * 32 and message.sent_at is not None
    assert mail_message.status == Status.SENT
    assert [m.to for m in mail.outbox] == [["gildong@example.kr"]]
    # The task again, and the sweep: a sent row is never sent again.
    assert outbox_deliver(message.pk) is None
    assert outbox_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(twilio.calls) == 1 and len(mail.outbox) == 1


def test_the_same_idempotency_key_is_one_row_and_one_send(
    twilio, django_capture_on_commit_callbacks
):
    twilio_accepts(twilio)
    with django_capture_on_commit_callbacks(execute=True):
        first = sms(key="survey:7")
        second = sms(key="survey:7", body="다른 내용")
    assert first.pk == second.pk
    assert OutboundMessage.objects.get().body == "[120] 답변드립니다."
    assert len(twilio.calls) == 1


def test_registration_numbers_are_masked_before_the_row_is_written(db):
    message = outbox_enqueue(
        channel="email",
        to="a@example.kr",
        subject="900101-1234567 관련",
        body="주민번호 900101-1234567 확인",
        idempotency_key="test:rrn",
    )
    message.refresh_from_db()
    assert "1234567" not in message.body + message.subject
    assert "900101-1******" in message.body


def test_an_unknown_channel_is_refused(db):
    with pytest.raises(ValueError):
        outbox_enqueue(channel="fax", to="1", body="x", idempotency_key="test:fax")


# --- Twilio backend ---------------------------------------------------------------------------
def test_the_twilio_backend_posts_the_message_with_a_status_callback(
    twilio, django_capture_on_commit_callbacks
):
    twilio_accepts(twilio)
    with django_capture_on_commit_callbacks(execute=True):
        message = sms(body="[120] 가로등 수리 완료")
    (call,) = twilio.calls
    assert call.request.method == "POST"
    assert call.request.url == MESSAGES_URL
    form = parse_qs(call.request.body)
    assert form == {
        "To": ["+821012345678"],
        "From": [CALLER_ID],
        "Body": ["[120] 가로등 수리 완료"],
        "StatusCallback": [django_settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH],
    }
    assert call.request.headers["Authorization"].startswith("Basic ")
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Status.SENT, "SM" + "a" * 32)


def test_a_twilio_500_is_retried_after_a_backoff_and_then_sent_once(
    twilio, django_capture_on_commit_callbacks
):
    twilio_fails(twilio, 500)
    twilio_accepts(twilio)  # responses answers in order: first the 500, then the 201
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.QUEUED, 1)
    assert "500" in message.error and message.claimed_until is None
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert outbox_sweep() == 0  # not due yet
    assert len(twilio.calls) == 1

    assert outbox_sweep(now=message.next_attempt_at) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == (Status.SENT, 2, "")
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert len(twilio.calls) == 2


def test_a_twilio_429_or_network_error_is_retried(twilio, django_capture_on_commit_callbacks):
    twilio_fails(twilio, 429, code=20429, message="Too Many Requests")
    twilio.post(MESSAGES_URL, body=requests.ConnectionError("connection reset"))
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    message.refresh_from_db()
    assert message.status == Status.QUEUED and "429" in message.error
    outbox_sweep(now=message.next_attempt_at)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.QUEUED, 2)
    assert "unreachable" in message.error


def test_an_invalid_number_fails_at_once_without_a_retry(
    twilio, django_capture_on_commit_callbacks
):
    twilio_fails(twilio, 400, code=21211, message="The 'To' number is not a valid phone number.")
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 1)
    assert "21211" in message.error
    outbox_sweep(now=timezone.now() + timedelta(days=1))
    assert len(twilio.calls) == 1


def test_a_message_that_keeps_failing_stops_after_the_last_attempt(
    twilio, django_capture_on_commit_callbacks
):
    for _ in range(MAX_ATTEMPTS + 2):
        twilio_fails(twilio, 503, message="Service Unavailable")
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    for day in range(1, MAX_ATTEMPTS + 2):
        outbox_sweep(now=timezone.now() + timedelta(days=day))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert len(twilio.calls) == MAX_ATTEMPTS


def test_a_second_worker_arriving_during_a_send_sends_nothing(
    twilio, django_capture_on_commit_callbacks
):
    second_worker = []

    def twilio_answers(request):
        second_worker.append(outbox_deliver(message.pk))  # the same row, mid-send
        return 201, {}, '{"sid": "SM1", "status": "queued"}'

    twilio.add_callback(responses.POST, MESSAGES_URL, callback=twilio_answers)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = sms()
    outbox_deliver(message.pk)
    assert second_worker == [None]
    assert len(twilio.calls) == 1 and len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_row_at_once_send_it_once(twilio):
    twilio_accepts(twilio)
    # A queued row as a lost task leaves it: written straight to the table, no task queued.
    message = OutboundMessage.objects.create(
        channel="sms", to="+821012345678", body="x", idempotency_key="test:race", backend="twilio"
    )
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(outbox_deliver(message.pk))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result is not None for result in results) == 1
    assert len(twilio.calls) == 1
    assert OutboundMessage.objects.get().status == Status.SENT


def test_kakao_messages_fail_with_a_reason_until_the_kakao_sender_exists(
    twilio, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(
            channel="kakao", to="kakao-user-1", body="안내", idempotency_key="test:kakao"
        )
    message.refresh_from_db()
    assert message.status == Status.FAILED and "KakaoTalk" in message.error
    assert not twilio.calls


def test_the_outbox_backend_keeps_the_message_and_marks_it_sent(
    settings, django_capture_on_commit_callbacks
):
    settings.MESSAGING_BACKEND = "outbox"
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    message.refresh_from_db()
    assert (message.status, message.backend, message.provider_id) == (Status.SENT, "outbox", "")


def test_the_worker_sweeps_the_outbox_every_minute():
    celery_app.loader.import_default_modules()
    entry = django_settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] == 60.0
    assert "callcenter.services.outbox.outbox_deliver_task" in celery_app.tasks


# --- Twilio status callbacks ------------------------------------------------------------------
def signed_post(client, params, *, token=AUTH_TOKEN):
    url = django_settings.PUBLIC_BASE_URL + STATUS_PATH
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(STATUS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def sent_sms(twilio, django_capture_on_commit_callbacks) -> OutboundMessage:
    twilio_accepts(twilio, sid="SM" + "b" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        message = sms()
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def callback_params(message, status, **extra):
    return {
        "MessageSid": message.provider_id,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        **extra,
    }


def test_a_signed_delivered_callback_marks_the_message_delivered(client, sent_sms):
    response = signed_post(client, callback_params(sent_sms, "delivered"))
    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED and sent_sms.delivered_at is not None


def test_a_late_sent_callback_does_not_move_a_delivered_message_back(client, sent_sms):
    signed_post(client, callback_params(sent_sms, "delivered"))
    signed_post(client, callback_params(sent_sms, "sent"))
    signed_post(client, callback_params(sent_sms, "undelivered", ErrorCode="30003"))
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED and sent_sms.error == ""


def test_an_undelivered_callback_keeps_twilios_error_code(client, sent_sms):
    signed_post(client, callback_params(sent_sms, "sending"))
    signed_post(client, callback_params(sent_sms, "undelivered", ErrorCode="30006"))
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.UNDELIVERED and "30006" in sent_sms.error


def test_an_unsigned_or_wrongly_signed_callback_is_refused(client, sent_sms):
    params = callback_params(sent_sms, "failed")
    assert client.post(STATUS_PATH, params).status_code == 403
    assert signed_post(client, params, token="someone-elses-token").status_code == 403
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT


def test_a_callback_for_a_message_we_did_not_send_changes_nothing(client, sent_sms):
    response = signed_post(client, {"MessageSid": "SM" + "c" * 32, "MessageStatus": "failed"})
    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT


def test_the_status_callback_only_takes_posts(client, twilio):
    assert client.get(STATUS_PATH).status_code == 405


# --- Where staff look -------------------------------------------------------------------------
def test_the_ticket_page_shows_each_message_with_its_delivery_state(
    client, agent_user, citizen, settings, django_capture_on_commit_callbacks
):
    settings.MESSAGING_BACKEND = "twilio"  # KakaoTalk fails there: a state worth showing
    ticket = ticket_create(subject="가로등 고장", channel="sms", citizen=citizen)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(
            channel="kakao",
            to="kakao-user-1",
            body="[120] 답변",
            idempotency_key="test:kakao",
            ticket=ticket,
        )
    OutboundMessage.objects.create(
        channel="sms",
        to="+821012345678",
        body="[120] 설문",
        idempotency_key="test:delivered",
        backend="twilio",
        status=Status.DELIVERED,
        ticket=ticket,
    )
    factories.ContactFactory(citizen=citizen)  # another contact's messages stay off this page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    client.force_login(agent_user)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "시민에게 보낸 메시지" in page
    assert 'class="badge text-bg-danger">발송 실패<' in page
    assert 'class="badge text-bg-success">전달됨<' in page
    assert "010-****-5678" in page and "1234-5678" not in page
    assert "KakaoTalk" in page  # the reason the Kakao message failed
