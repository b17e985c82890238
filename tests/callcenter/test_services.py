import pytest

from callcenter.models import AgentPresenceEvent, Message, Presence
from callcenter.services.messages import message_create
from callcenter.services.presence import agent_set_presence
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_presence_changes_are_kept_as_history(agent_user):
    agent = agent_user.agent
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE)
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="점심")
    agent.refresh_from_db()
    assert agent.presence == Presence.BREAK
    assert agent.presence_reason == "점심"
    history = list(AgentPresenceEvent.objects.filter(agent=agent).values_list("presence", "reason"))
    assert history == [("available", ""), ("break", "점심")]


def test_unknown_presence_is_refused_and_nothing_is_stored(agent_user):
    with pytest.raises(ValueError, match="Unknown presence"):
        agent_set_presence(agent=agent_user.agent, presence="sleeping")
    assert not AgentPresenceEvent.objects.exists()


def test_an_empty_message_is_refused():
    from django.core.exceptions import ValidationError

    contact = ContactFactory(channel="webchat")
    with pytest.raises(ValidationError):
        message_create(contact=contact, sender=Message.Sender.CITIZEN, text="   ")
    assert not Message.objects.exists()


def test_messages_keep_their_order_by_id():
    contact = ContactFactory(channel="webchat")
    texts = ["안녕하세요", "등본 발급 문의요", "네, 안내해 드리겠습니다"]
    for text in texts:
        message_create(contact=contact, sender=Message.Sender.CITIZEN, text=text)
    assert list(contact.messages.values_list("text", flat=True)) == texts
