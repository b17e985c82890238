"""An agent's SMS reply seen from the console's socket: the message, then its delivery moving
on as the outbox sends it and Twilio reports back ("message.delivery" frames)."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client
from django.utils import timezone

from callcenter.services.conversations import staff_message_send
from channels_app.models import OutboundMessage
from tests.channels_app.conftest import agent_socket, receive_until
from tests.channels_app.voice_support import AUTH_TOKEN, signed_post
from tests.factories import AgentFactory, CitizenFactory, ContactFactory, QueueFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sms_conversation(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    agent = AgentFactory(user__username="minji", display_name="김민지")
    now = timezone.now()
    contact = ContactFactory(
        channel="sms",
        queue=QueueFactory(code="chat", channels=["sms"]),
        citizen=CitizenFactory(phone="+821012345678"),
        agent=agent,
        queued_at=now,
        answered_at=now,
    )
    return agent, contact


async def test_the_console_hears_each_step_of_an_sms_replys_delivery(sms_conversation):
    agent, contact = sms_conversation
    socket = await agent_socket(agent.user)
    await receive_until(socket, "hello")

    message = await sync_to_async(staff_message_send)(
        contact=contact, user=agent.user, text="접수되었습니다."
    )
    created, _ = await receive_until(socket, "message.created")
    assert created["message"]["id"] == message.pk
    # Stored with the reply, waiting; then sent by the outbox backend once committed.
    assert created["message"]["delivery"] == {"status": "pending", "channel": "sms", "error": ""}
    frame, _ = await receive_until(socket, "message.delivery")
    assert (frame["contact_id"], frame["message_id"]) == (contact.pk, message.pk)
    assert frame["delivery"] == {"status": "sent", "channel": "sms", "error": ""}

    # Twilio's status callback: delivered.
    await sync_to_async(OutboundMessage.objects.filter(message=message).update)(
        provider_id="SM" + "b" * 32
    )
    response = await sync_to_async(signed_post)(
        Client(),
        "/twilio/messaging/status",
        {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"},
    )
    assert response.status_code == 204
    frame, _ = await receive_until(socket, "message.delivery")
    assert frame["delivery"] == {"status": "delivered", "channel": "sms", "error": ""}
    await socket.disconnect()
