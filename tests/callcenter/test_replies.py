"""Agents' replies on SMS and WhatsApp: the outbox rows they become, the exact Twilio request
each row sends, long texts, citizens who opted out, and the delivery state the console shows.

Twilio's REST API is answered on the wire (``responses``) while the real ``twilio`` client
builds every request; the tests read those requests.
"""

from urllib.parse import parse_qs

import pytest
import responses
from django.conf import settings as django_settings
from django.utils import timezone

from callcenter.models import Contact, Message
from callcenter.services.conversations import ChatError, staff_message_send
from callcenter.services.notify import message_payload
from callcenter.services.outbox import outbox_enqueue
from callcenter.services.replies import delivery_state, text_parts
from channels_app.models import OutboundMessage
from tests import factories

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
CALLER_ID = "+8220120000"
WHATSAPP_FROM = "+8220120120"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
STATUS_CALLBACK = "/twilio/messaging/status"
PHONE = "+821012345678"


@pytest.fixture
def twilio(settings):
    """The Twilio backend with a test account; each Messages.json POST answered as Twilio
    does, with a new SID."""
    settings.MESSAGING_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_CALLER_ID = CALLER_ID
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    sids = iter(range(1, 100))

    def accept(request):
        body = f'{{"sid": "SM{next(sids):032x}", "status": "queued"}}'
        return 201, {"Content-Type": "application/json"}, body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", MESSAGES_URL, callback=accept)
        yield mock


def sent_forms(mock) -> list[dict]:
    """The form of every request sent to Twilio, after checking where it went."""
    forms = []
    for call in mock.calls:
        assert (call.request.method, call.request.url) == ("POST", MESSAGES_URL)
        assert call.request.headers["Authorization"].startswith("Basic ")
        forms.append({k: v[0] for k, v in parse_qs(call.request.body).items()})
    return forms


def answered(**fields) -> Contact:
    now = timezone.now()
    return factories.ContactFactory(queued_at=now, answered_at=now, **fields)


@pytest.fixture
def conversation(agent_user, citizen):
    """An SMS conversation Minji is answering."""
    return answered(
        channel="sms",
        citizen=citizen,
        agent=agent_user.agent,
        queue=factories.QueueFactory(code="chat", channels=["sms", "whatsapp"]),
    )


def reply(conversation, agent_user, text="가로등 수리를 요청했습니다.", **kwargs) -> Message:
    return staff_message_send(contact=conversation, user=agent_user, text=text, **kwargs)


# --- the Twilio request ---------------------------------------------------------------------
def test_an_agents_sms_reply_is_one_twilio_request_with_the_status_callback(
    twilio, conversation, agent_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(conversation, agent_user)
    assert sent_forms(twilio) == [
        {
            "To": PHONE,
            "From": CALLER_ID,
            "Body": "가로등 수리를 요청했습니다.",
            "StatusCallback": django_settings.PUBLIC_BASE_URL + STATUS_CALLBACK,
        }
    ]
    row = OutboundMessage.objects.get()
    assert (row.channel, row.message, row.contact, row.idempotency_key) == (
        "sms",
        message,
        conversation,
        f"reply-{message.pk}",
    )
    assert (row.status, row.provider_id) == ("sent", "SM" + f"{1:032x}")


def test_texts_go_from_the_messaging_number_when_one_is_set(
    twilio, settings, conversation, agent_user, django_capture_on_commit_callbacks
):
    settings.TWILIO_MESSAGING_FROM = "+8215880120"
    with django_capture_on_commit_callbacks(execute=True):
        reply(conversation, agent_user)
    assert sent_forms(twilio)[0]["From"] == "+8215880120"


def test_a_whatsapp_reply_uses_whatsapp_addresses_both_ways(
    twilio, conversation, agent_user, django_capture_on_commit_callbacks
):
    Contact.objects.filter(pk=conversation.pk).update(channel="whatsapp")
    conversation.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        reply(conversation, agent_user, text="Your report was received.")
    assert sent_forms(twilio) == [
        {
            "To": f"whatsapp:{PHONE}",
            "From": f"whatsapp:{WHATSAPP_FROM}",
            "Body": "Your report was received.",
            "StatusCallback": django_settings.PUBLIC_BASE_URL + STATUS_CALLBACK,
        }
    ]
    assert OutboundMessage.objects.get().channel == "whatsapp"


def test_without_a_whatsapp_sender_the_reply_fails_with_that_reason(
    twilio, settings, conversation, agent_user, django_capture_on_commit_callbacks
):
    settings.TWILIO_WHATSAPP_FROM = ""
    Contact.objects.filter(pk=conversation.pk).update(channel="whatsapp")
    conversation.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(conversation, agent_user)
    assert not twilio.calls
    state = delivery_state(message)
    assert state["status"] == "failed" and "TWILIO_WHATSAPP_FROM" in state["error"]


def test_a_resent_reply_is_one_message_and_one_text(
    twilio, conversation, agent_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply(conversation, agent_user, client_id="c-1")
        reply(conversation, agent_user, client_id="c-1")
    assert Message.objects.filter(sender="agent").count() == 1
    assert len(twilio.calls) == 1 and OutboundMessage.objects.count() == 1


def test_internal_notes_and_web_chat_replies_send_no_text(
    twilio, conversation, agent_user, django_capture_on_commit_callbacks
):
    webchat = answered(channel="webchat", citizen=conversation.citizen, agent=agent_user.agent)
    with django_capture_on_commit_callbacks(execute=True):
        reply(conversation, agent_user, text="민원 이력 확인 필요", internal=True)
        reply(webchat, agent_user, text="안녕하세요")
    assert not twilio.calls and not OutboundMessage.objects.exists()


# --- long texts -----------------------------------------------------------------------------
def test_a_reply_longer_than_one_text_goes_in_numbered_parts_in_order(
    twilio, settings, conversation, agent_user, django_capture_on_commit_callbacks
):
    settings.SMS_MAX_CHARS = 250
    sentence = "주민센터에서 신청하실 수 있습니다. "
    long_text = (sentence * 20).strip()  # 399 characters
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(conversation, agent_user, text=long_text)
    bodies = [form["Body"] for form in sent_forms(twilio)]
    assert len(bodies) == 2
    assert bodies[0].startswith("(1/2) 주민센터") and bodies[1].startswith("(2/2) 주민센터")
    assert all(len(body) <= 250 and body.endswith("습니다.") for body in bodies)
    assert " ".join(body.split(" ", 1)[1] for body in bodies) == long_text
    keys = list(OutboundMessage.objects.order_by("id").values_list("idempotency_key", flat=True))
    assert keys == [f"reply-{message.pk}", f"reply-{message.pk}-2"]


def test_behind_a_korean_lms_gateway_each_part_fits_2000_euc_kr_bytes(settings):
    settings.SMS_MAX_BYTES = 2000
    text = "서울특별시 120다산콜센터입니다. " * 150  # 2,700 characters, 4,650 bytes
    parts = text_parts(text)
    assert len(parts) == 3
    assert all(len(part.encode("cp949")) <= 2000 for part in parts)


def test_a_text_that_fits_is_sent_as_it_is(settings):
    settings.SMS_MAX_BYTES = 90
    assert text_parts("문의하신 민원이 접수되었습니다.") == ["문의하신 민원이 접수되었습니다."]


# --- citizens who texted STOP ---------------------------------------------------------------
def test_a_reply_to_a_citizen_who_texted_stop_is_refused_with_the_reason(
    twilio, conversation, agent_user, django_capture_on_commit_callbacks
):
    conversation.citizen.sms_opted_out_at = timezone.now()
    conversation.citizen.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ChatError) as refused:
        reply(conversation, agent_user)
    assert "STOP" in str(refused.value) and "START" in str(refused.value)
    assert not Message.objects.exists() and not OutboundMessage.objects.exists()
    assert not twilio.calls
    # Notes stay possible.
    reply(conversation, agent_user, text="수신거부 고객", internal=True)


def test_no_text_leaves_for_an_opted_out_citizen_whatever_queued_it(
    twilio, citizen, django_capture_on_commit_callbacks
):
    citizen.sms_opted_out_at = timezone.now()
    citizen.save()
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox_enqueue(channel="sms", to=PHONE, body="만족도 조사", idempotency_key="s:1")
    row.refresh_from_db()
    assert row.status == "failed" and "STOP" in row.error
    assert not twilio.calls


# --- delivery state -------------------------------------------------------------------------
def test_the_delivery_state_follows_the_texts_row(
    twilio, client, conversation, agent_user, django_capture_on_commit_callbacks
):
    from tests.channels_app.voice_support import signed_post

    with django_capture_on_commit_callbacks(execute=True):
        message = reply(conversation, agent_user)
    assert delivery_state(message) == {"status": "sent", "channel": "sms", "error": ""}
    row = OutboundMessage.objects.get()
    signed_post(
        client,
        STATUS_CALLBACK,
        {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30005"},
        token=AUTH_TOKEN,
    )
    assert delivery_state(message) == {
        "status": "undelivered",
        "channel": "sms",
        "error": "Twilio error 30005",
    }
    payload = message_payload(Message.objects.select_related("contact").get(pk=message.pk))
    assert payload["delivery"]["status"] == "undelivered"


def test_a_failed_part_fails_the_whole_reply(settings, conversation, agent_user):
    settings.SMS_MAX_CHARS = 100
    message = reply(conversation, agent_user, text="안내드립니다. " * 20)
    rows = list(OutboundMessage.objects.order_by("id"))
    assert len(rows) >= 2
    OutboundMessage.objects.filter(pk=rows[0].pk).update(status="delivered")
    OutboundMessage.objects.filter(pk=rows[1].pk).update(status="failed", error="Twilio 400")
    assert delivery_state(message) == {"status": "failed", "channel": "sms", "error": "Twilio 400"}


def test_a_kakao_answer_without_a_row_is_pending_until_delivered(conversation):
    Contact.objects.filter(pk=conversation.pk).update(channel="kakao")
    message = Message.objects.create(
        contact=Contact.objects.get(pk=conversation.pk), sender="agent", text="답변"
    )
    assert delivery_state(message) == {"status": "pending", "channel": "kakao", "error": ""}
    message.delivered_at = timezone.now()
    assert delivery_state(message)["status"] == "delivered"


def test_web_chat_messages_and_citizen_texts_have_no_delivery_and_cost_no_query(
    conversation, agent_user, django_assert_num_queries
):
    webchat = answered(channel="webchat")
    mine = Message.objects.create(contact=webchat, sender="agent", text="안녕하세요")
    theirs = Message.objects.create(contact=conversation, sender="citizen", text="문의")
    with django_assert_num_queries(0):
        assert message_payload(mine)["delivery"] is None
        assert message_payload(theirs)["delivery"] is None


def test_a_kakao_answer_brought_with_the_next_message_is_delivered_though_its_callback_failed(
    conversation,
):
    Contact.objects.filter(pk=conversation.pk).update(channel="kakao")
    message = Message.objects.create(
        contact=Contact.objects.get(pk=conversation.pk), sender="agent", text="답변"
    )
    OutboundMessage.objects.create(
        channel="kakao_callback",
        to="https://bot-api.kakao.com/cb",
        body="{}",
        idempotency_key="kakao-cb-1",
        message=message,
        status="failed",
        error="callback expired",
    )
    assert delivery_state(message)["status"] == "failed"
    message.delivered_at = timezone.now()
    assert delivery_state(message) == {"status": "delivered", "channel": "kakao", "error": ""}


def test_a_conversations_history_reads_its_replies_deliveries_in_one_query(
    conversation, agent_user
):
    """Opening a texted conversation shows each reply's state; a longer history costs no
    more queries, and each reply carries its own row's state."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from callcenter.services.conversations import conversation_messages

    def history_queries() -> tuple[int, list]:
        with CaptureQueriesContext(connection) as queries:
            history = conversation_messages(conversation, include_internal=True)
        return len(queries), history

    reply(conversation, agent_user, text="첫 답변")
    few, _ = history_queries()
    for n in range(4):
        reply(conversation, agent_user, text=f"답변 {n}")
    OutboundMessage.objects.filter(message__text="첫 답변").update(status="delivered")
    many, history = history_queries()
    assert many == few
    states = {m["text"]: m["delivery"]["status"] for m in history if m["delivery"]}
    assert states["첫 답변"] == "delivered" and states["답변 3"] == "queued"
