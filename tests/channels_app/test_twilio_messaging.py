"""Texts by SMS and WhatsApp: Twilio's signed messaging webhooks, in and out of conversations.

Requests are signed with Twilio's own algorithm over the public URL; the TwiML answer is read
as XML. Replies and their Twilio REST requests are in tests/callcenter/test_replies.py.
"""

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callcenter.models import Citizen, Contact, ContactEvent, Message
from channels_app.models import OutboundMessage
from tests.channels_app.voice_support import AUTH_TOKEN, signed_post, twiml
from tests.factories import CitizenFactory, QueueFactory

pytestmark = pytest.mark.django_db

INCOMING = "/twilio/messaging/incoming"
STATUS = "/twilio/messaging/status"
PHONE = "+821012345678"
CITY = "+8220120120"


def sid(n: int) -> str:
    return "SM" + f"{n:032x}"


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


@pytest.fixture
def chat_queue(db):
    return QueueFactory(code="chat", name="채팅", channels=["webchat", "sms", "whatsapp", "kakao"])


def text(n=1, body="가로등이 꺼져 있어요", sender=PHONE, to=CITY, **extra) -> dict:
    return {
        "MessageSid": sid(n),
        "SmsSid": sid(n),
        "AccountSid": "AC" + "a" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        **extra,
    }


def send(client, params):
    return signed_post(client, INCOMING, params)


def answer_of(response) -> list[str]:
    """The texts the TwiML answers with (none for an empty <Response/>)."""
    return [message.text for message in twiml(response).iter("Message")]


# --- a conversation opens, and later texts join it ------------------------------------------
def test_a_first_text_opens_a_conversation_in_the_chat_queue_and_answers_nothing(
    client, chat_queue
):
    response = send(client, text())
    assert answer_of(response) == []
    contact = Contact.objects.get()
    assert (contact.channel, contact.queue, contact.state) == ("sms", chat_queue, "waiting")
    assert str(contact.citizen.phone) == PHONE
    message = contact.messages.get()
    assert (message.sender, message.text, message.client_id) == (
        "citizen",
        "가로등이 꺼져 있어요",
        sid(1),
    )
    assert ContactEvent.objects.filter(contact=contact, type="queued").count() == 1


def test_a_known_citizen_is_found_by_their_number(client, chat_queue, citizen):
    send(client, text(sender="+82 10-1234-5678"))
    assert Contact.objects.get().citizen == citizen
    assert Citizen.objects.count() == 1


def test_a_second_text_joins_the_open_conversation(client, chat_queue):
    send(client, text(1))
    send(client, text(2, body="종로구 세종대로 앞입니다"))
    contact = Contact.objects.get()
    assert list(contact.messages.values_list("text", flat=True)) == [
        "가로등이 꺼져 있어요",
        "종로구 세종대로 앞입니다",
    ]


def test_a_text_after_the_conversation_ended_opens_a_new_one(client, chat_queue):
    send(client, text(1))
    Contact.objects.update(ended_at=timezone.now(), abandoned=True)
    send(client, text(2, body="다시 문의드립니다"))
    assert Contact.objects.count() == 2
    assert Contact.objects.order_by("id").last().messages.get().text == "다시 문의드립니다"


def test_a_retried_webhook_stores_nothing_new(client, chat_queue):
    first = send(client, text(1))
    again = send(client, text(1))
    assert first.status_code == again.status_code == 200
    assert (Contact.objects.count(), Message.objects.count(), Citizen.objects.count()) == (1, 1, 1)


def test_media_are_recorded_as_links_to_twilio_with_their_types(client, chat_queue):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC{}/Messages/{}/Media/ME{}"
    first, second = (media.format("a" * 32, sid(1), str(n) * 32) for n in (1, 2))
    send(
        client,
        text(
            body="사진 보냅니다",
            NumMedia="2",
            MediaUrl0=first,
            MediaContentType0="image/jpeg",
            MediaUrl1=second,
            MediaContentType1="application/pdf",
        ),
    )
    message = Message.objects.get()
    assert [(a["url"], a["content_type"]) for a in message.attachments] == [
        (first, "image/jpeg"),
        (second, "application/pdf"),
    ]


def test_a_picture_without_text_is_a_message_too(client, chat_queue):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    send(client, text(body="", NumMedia="1", MediaUrl0=url, MediaContentType0="image/png"))
    message = Message.objects.get()
    assert message.text == "" and message.attachments[0]["url"] == url


def test_whatsapp_texts_are_a_whatsapp_conversation_of_the_number_behind_the_prefix(
    client, chat_queue
):
    send(client, text(sender=f"whatsapp:{PHONE}", to=f"whatsapp:{CITY}", ProfileName="Hong"))
    contact = Contact.objects.get()
    assert contact.channel == "whatsapp"
    assert str(contact.citizen.phone) == PHONE and contact.citizen.name == "Hong"


def test_the_same_number_has_one_conversation_per_channel(client, chat_queue):
    send(client, text(1))
    send(client, text(2, sender=f"whatsapp:{PHONE}"))
    assert sorted(Contact.objects.values_list("channel", flat=True)) == ["sms", "whatsapp"]
    assert Citizen.objects.count() == 1


# --- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["unsigned", "wrong token", "tampered"])
def test_a_text_twilio_did_not_sign_is_refused_and_stores_nothing(client, chat_queue, case):
    params = text()
    if case == "unsigned":
        response = signed_post(client, INCOMING, params, headers=False)
    elif case == "wrong token":
        response = signed_post(client, INCOMING, params, token="not-the-token")
    else:  # signed, then changed on the way
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            django_settings.PUBLIC_BASE_URL + INCOMING, params
        )
        response = client.post(
            INCOMING, {**params, "Body": "바뀐 내용"}, HTTP_X_TWILIO_SIGNATURE=signature
        )
    assert response.status_code == 403
    assert not (Contact.objects.exists() or Message.objects.exists() or Citizen.objects.exists())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": "anonymous"}, "From"),
        ({"NumMedia": "many"}, "NumMedia"),
        ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl"),
    ],
)
def test_malformed_texts_get_400_with_a_reason_and_store_nothing(
    client, chat_queue, change, reason
):
    response = send(client, {**text(), **change})
    assert response.status_code == 400 and reason in response.content.decode()
    assert not (Contact.objects.exists() or Message.objects.exists())


def test_the_webhooks_take_only_posts(client):
    assert client.get(INCOMING).status_code == 405
    assert client.get(STATUS).status_code == 405


def test_without_a_queue_for_texts_the_citizen_is_told_and_nothing_is_stored(client):
    (answer,) = answer_of(send(client, text()))
    assert "120" in answer
    assert not (Contact.objects.exists() or Message.objects.exists() or Citizen.objects.exists())


# --- keywords -------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["STOP", "stop", " Stop ", "UNSUBSCRIBE", "수신거부", "수신 거부"])
def test_stop_or_수신거부_opts_the_citizen_out_with_one_confirmation(client, chat_queue, word):
    (confirmation,) = answer_of(send(client, text(1, body=word)))
    assert "START" in confirmation
    citizen = Citizen.objects.get()
    assert citizen.sms_opted_out_at is not None
    assert not Contact.objects.exists()  # a keyword opens no conversation
    assert answer_of(send(client, text(2, body="STOP"))) == []  # one confirmation only


def test_start_or_수신동의_lets_texts_through_again(client, chat_queue):
    send(client, text(1, body="수신거부"))
    (confirmation,) = answer_of(send(client, text(2, body="수신동의")))
    assert "STOP" in confirmation
    assert Citizen.objects.get().sms_opted_out_at is None
    send(client, text(3, body="STOP"))
    assert answer_of(send(client, text(4, body="start")))
    assert Citizen.objects.get().sms_opted_out_at is None


def test_yes_from_a_citizen_who_never_opted_out_is_an_answer_not_a_keyword(client, chat_queue):
    send(client, text(1, body="가로등 신고합니다"))
    assert answer_of(send(client, text(2, body="YES"))) == []
    assert list(Message.objects.values_list("text", flat=True)) == ["가로등 신고합니다", "YES"]


@pytest.mark.parametrize("word", ["HELP", "info", "도움말"])
def test_help_is_answered_even_for_a_citizen_who_opted_out(client, chat_queue, word):
    CitizenFactory(phone=PHONE, sms_opted_out_at=timezone.now())
    (help_text,) = answer_of(send(client, text(body=word)))
    assert "120" in help_text and "STOP" in help_text
    assert not Contact.objects.exists()


def test_stop_inside_a_conversation_is_shown_to_the_agent(client, chat_queue):
    send(client, text(1))
    send(client, text(2, body="STOP"))
    contact = Contact.objects.get()
    lines = list(contact.messages.values_list("sender", "text"))
    assert lines[1] == ("citizen", "STOP")
    assert lines[2][0] == "system" and "STOP" in lines[2][1]
    assert contact.citizen.sms_opted_out_at is not None


# --- delivery status ------------------------------------------------------------------------
@pytest.fixture
def sent_reply(db, citizen):
    return OutboundMessage.objects.create(
        channel="sms",
        to=PHONE,
        body="답변드립니다",
        idempotency_key="reply-test",
        status=OutboundMessage.Status.SENT,
        provider_id=sid(99),
    )


def status(client, message_status, **extra):
    return signed_post(
        client,
        STATUS,
        {
            "MessageSid": sid(99),
            "MessageStatus": message_status,
            "AccountSid": "AC" + "a" * 32,
            **extra,
        },
    )


def test_delivery_states_are_recorded_forward_only_whatever_their_order(client, sent_reply):
    assert status(client, "delivered").status_code == 204
    sent_reply.refresh_from_db()
    assert sent_reply.status == "delivered" and sent_reply.delivered_at is not None
    for late in ("sent", "queued", "failed"):
        assert status(client, late).status_code == 204
    sent_reply.refresh_from_db()
    assert sent_reply.status == "delivered"


def test_whatsapps_read_receipt_counts_as_delivered(client, sent_reply):
    status(client, "read")
    sent_reply.refresh_from_db()
    assert sent_reply.status == "delivered"


def test_an_undelivered_text_keeps_twilios_error_code(client, sent_reply):
    status(client, "undelivered", ErrorCode="30003")
    sent_reply.refresh_from_db()
    assert (sent_reply.status, sent_reply.error) == ("undelivered", "Twilio error 30003")


def test_an_unsigned_status_is_refused_and_changes_nothing(client, sent_reply):
    response = signed_post(
        client, STATUS, {"MessageSid": sid(99), "MessageStatus": "failed"}, headers=False
    )
    assert response.status_code == 403
    sent_reply.refresh_from_db()
    assert sent_reply.status == "sent"


def test_a_status_for_a_text_we_never_sent_is_acknowledged(client, sent_reply):
    response = signed_post(client, STATUS, {"MessageSid": sid(5), "MessageStatus": "delivered"})
    assert response.status_code == 204
    sent_reply.refresh_from_db()
    assert sent_reply.status == "sent"


def test_the_older_sms_status_url_still_records_delivery(client, sent_reply):
    response = signed_post(
        client, "/twilio/sms/status/", {"MessageSid": sid(99), "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    sent_reply.refresh_from_db()
    assert sent_reply.status == "delivered"


def test_a_citizen_who_opted_out_can_still_write_and_the_agent_is_told(client, chat_queue):
    CitizenFactory(phone=PHONE, sms_opted_out_at=timezone.now())
    assert answer_of(send(client, text(body="문의드립니다"))) == []
    contact = Contact.objects.get()
    lines = list(contact.messages.values_list("sender", "text"))
    assert lines[0] == ("citizen", "문의드립니다")
    assert lines[1][0] == "system" and "STOP" in lines[1][1]


def test_a_retry_after_the_conversation_ended_stores_nothing_new(client, chat_queue):
    send(client, text(1))
    Contact.objects.update(ended_at=timezone.now(), abandoned=True)
    send(client, text(1))
    assert (Contact.objects.count(), Message.objects.count()) == (1, 1)
