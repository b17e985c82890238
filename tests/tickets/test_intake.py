"""The console's ticket form as one service: ticket, call-back and wrap-up, all or nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callcenter.services.routing import RoutingError
from tests.factories import CitizenFactory, ContactFactory, QueueFactory
from tickets.services import category_get_or_create_path, contact_ticket_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(agent_user):
    """Minji's active chat with 홍길동."""
    return ContactFactory(
        channel="webchat",
        queue=QueueFactory(code="chat", channels=["webchat"]),
        citizen=CitizenFactory(name="홍길동", phone="+821012345678"),
        agent=agent_user.agent,
        queued_at=timezone.now() - timedelta(seconds=30),
        answered_at=timezone.now(),
    )


def _submit(chat, agent_user, **extra):
    return contact_ticket_submit(
        contact=chat,
        actor=agent_user,
        category=category_get_or_create_path(path="민원/여권"),
        subject="여권 재발급 문의",
        **extra,
    )


def test_finishing_wrap_up_during_the_conversation_keeps_neither_ticket_nor_call_back(
    chat, agent_user
):
    with pytest.raises(RoutingError):
        _submit(chat, agent_user, callback_phone="010-3333-4444", wrapup_finish=True)
    assert not chat.tickets.exists()
    assert not chat.callbacks.exists()


def test_a_bad_call_back_number_is_named_as_such_and_keeps_no_ticket(chat, agent_user):
    with pytest.raises(ValidationError) as refused:
        _submit(chat, agent_user, callback_phone="not a number")
    assert "callback_phone" in refused.value.message_dict
    assert not chat.tickets.exists()


def test_the_call_back_promised_with_the_ticket_stays_with_the_agent(chat, agent_user):
    ticket = _submit(chat, agent_user, callback_phone="010-3333-4444")
    callback = chat.callbacks.get()
    assert callback.ticket == ticket
    assert callback.assigned_to == agent_user.agent
    assert callback.phone.as_e164 == "+821033334444"
