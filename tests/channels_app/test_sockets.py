"""Consoles and chat pages record their sockets, so every process knows who is there."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from django.test import Client
from django.utils import timezone

from callcenter.models import Agent, Contact, Presence, PresenceReason, Skill, SocketConnection
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
from channels_app import sockets
from tests.channels_app.conftest import agent_socket, citizen_socket, receive_until
from tests.factories import AgentFactory, QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def minji(db) -> Agent:
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    QueueFactory(code="chat", channels=["webchat"]).required_skills.set([korean])
    return AgentFactory(user__username="minji", skills=[korean], console=False)


@sync_to_async
def set_available(agent: Agent) -> None:
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)


@sync_to_async
def console_rows(agent: Agent) -> int:
    return SocketConnection.objects.filter(agent=agent).count()


@sync_to_async
def time_passes(agent: Agent, seconds: int) -> None:
    then = timezone.now() - timedelta(seconds=seconds)
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=then)


@sync_to_async
def tick_and_read(agent: Agent) -> Agent:
    routing.router_tick()
    return Agent.objects.get(pk=agent.pk)


async def test_closing_the_last_console_signs_the_agent_out_after_the_grace_period(minji):
    await set_available(minji)
    first = await agent_socket(minji.user)
    second = await agent_socket(minji.user)  # a second tab
    await receive_until(first, "hello")
    await receive_until(second, "hello")
    assert await console_rows(minji) == 2

    await first.disconnect()
    await time_passes(minji, 60)
    assert (await tick_and_read(minji)).presence == Presence.AVAILABLE  # one tab still open

    await second.disconnect()
    assert await console_rows(minji) == 0
    assert (await tick_and_read(minji)).presence == Presence.AVAILABLE  # within the grace
    await time_passes(minji, 31)
    agent = await tick_and_read(minji)
    assert (agent.presence, agent.presence_reason) == (
        Presence.OFFLINE,
        PresenceReason.CONSOLE_CLOSED,
    )


async def test_the_console_hello_says_the_presence_and_why(minji):
    await set_available(minji)
    socket = await agent_socket(minji.user)
    await receive_until(socket, "hello")
    await socket.disconnect()
    await time_passes(minji, 31)
    await tick_and_read(minji)

    again = await agent_socket(minji.user)
    hello, _ = await receive_until(again, "hello")
    assert (hello["presence"], hello["presence_reason"]) == ("offline", "콘솔 연결 끊김")
    await again.disconnect()


async def test_the_process_heartbeat_refreshes_the_sockets_it_holds(minji, monkeypatch):
    monkeypatch.setattr(sockets, "_open", {})  # only this test's sockets
    socket = await agent_socket(minji.user)
    await receive_until(socket, "hello")
    await sync_to_async(SocketConnection.objects.filter(agent=minji).delete)()

    await sync_to_async(sockets.heartbeat)()

    assert await console_rows(minji) == 1
    await socket.disconnect()
    assert await console_rows(minji) == 0


@sync_to_async
def start_chat() -> dict:
    response = Client().post(
        "/chat/start", {"name": "홍길동", "phone": "", "language": "ko", "consent": "on"}
    )
    assert response.status_code == 201, response.content
    return response.json()


@sync_to_async
def page_gone_for(contact_id: int, seconds: int) -> None:
    from callcenter.models import ChatSession

    then = timezone.now() - timedelta(seconds=seconds)
    ChatSession.objects.filter(contact_id=contact_id).update(citizen_seen_at=then)


@sync_to_async
def contact_state_after_tick(contact_id: int) -> str:
    routing.router_tick()
    return Contact.objects.get(pk=contact_id).state


async def test_a_citizen_whose_chat_page_closed_is_abandoned_but_not_while_it_is_open(minji):
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await receive_until(citizen, "hello")
    await page_gone_for(started["contact_id"], 600)
    assert await contact_state_after_tick(started["contact_id"]) == "waiting"  # page open

    await citizen.disconnect()
    assert await contact_state_after_tick(started["contact_id"]) == "waiting"  # just closed
    await page_gone_for(started["contact_id"], 181)
    assert await contact_state_after_tick(started["contact_id"]) == "abandoned"
