"""Who is really there: closed consoles sign agents out, gone chat pages leave the queue.

Socket liveness lives in the database (``SocketConnection`` rows, ``console_seen_at``,
``citizen_seen_at``), so each test sets the clock values directly and calls
``router_tick()`` like the first tick of a freshly started process would.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from callcenter import selectors
from callcenter.models import (
    Agent,
    AgentPresenceEvent,
    ChatSession,
    Contact,
    ContactEvent,
    Offer,
    Presence,
    PresenceReason,
    Skill,
    SocketConnection,
)
from callcenter.services import routing
from callcenter.services.conversations import chat_start
from callcenter.services.presence import (
    agent_set_presence,
    socket_close,
    socket_open,
    sockets_heartbeat,
)
from tests.factories import AgentFactory, QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def korean(db) -> Skill:
    return SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)


@pytest.fixture
def chat_queue(korean):
    queue = QueueFactory(code="chat", channels=["webchat"], service_level_seconds=60)
    queue.required_skills.set([korean])
    return queue


def ago(seconds: int):
    return timezone.now() - timedelta(seconds=seconds)


def available_agent(korean) -> Agent:
    agent = AgentFactory(skills=[korean])
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    return agent


def close_console(agent: Agent, *, seconds_ago: int) -> None:
    """The agent's console closed ``seconds_ago`` (its last socket said goodbye then)."""
    for row in SocketConnection.objects.filter(agent=agent):
        socket_close(channel_name=row.channel_name)
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=ago(seconds_ago))


def citizen_chat(*, page_open: bool, seen_seconds_ago: int = 0) -> Contact:
    """A web chat waiting in the queue; its page open (a socket) or gone for a while."""
    session, _token = chat_start(name="홍길동", phone="", language="ko")
    if page_open:
        socket_open(channel_name=f"test.chat.{session.pk}", session=session)
    ChatSession.objects.filter(pk=session.pk).update(citizen_seen_at=ago(seen_seconds_ago))
    return Contact.objects.get(pk=session.contact_id)


# --- consoles ------------------------------------------------------------------------------
def test_an_agent_whose_console_is_gone_past_the_grace_period_goes_offline_and_says_why(
    korean, chat_queue
):
    agent = available_agent(korean)
    contact = citizen_chat(page_open=True)
    routing.router_tick()
    offer = Offer.objects.get(contact=contact, agent=agent, state=Offer.State.PENDING)
    close_console(agent, seconds_ago=31)

    routing.router_tick()

    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE
    assert agent.presence_reason == PresenceReason.CONSOLE_CLOSED
    assert agent.presence_reason_label == "콘솔 연결 끊김"
    assert AgentPresenceEvent.objects.filter(
        agent=agent, presence=Presence.OFFLINE, reason=PresenceReason.CONSOLE_CLOSED
    ).exists()
    offer.refresh_from_db()
    assert offer.state == Offer.State.CANCELLED


def test_a_console_reloaded_within_the_grace_period_keeps_the_presence(korean):
    agent = available_agent(korean)
    close_console(agent, seconds_ago=10)
    routing.router_tick()
    socket_open(channel_name="test.console.reloaded", agent=agent)
    routing.router_tick()

    agent.refresh_from_db()
    assert agent.presence == Presence.AVAILABLE
    assert not AgentPresenceEvent.objects.filter(agent=agent, presence=Presence.OFFLINE).exists()


def test_the_sockets_of_a_process_that_died_go_stale_and_sign_the_agent_out(korean):
    """A crashed process never says goodbye: its rows simply stop being refreshed."""
    agent = available_agent(korean)
    SocketConnection.objects.filter(agent=agent).update(seen_at=ago(45))
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=ago(45))

    routing.router_tick()

    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE
    assert not SocketConnection.objects.filter(agent=agent).exists()


def test_a_heartbeat_keeps_an_open_console_alive_and_rewrites_a_swept_row(korean):
    agent = available_agent(korean)
    SocketConnection.objects.filter(agent=agent).delete()  # swept while the process stalled
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=ago(45))

    sockets_heartbeat(sockets={"test.console.alive": (agent.pk, None)})
    routing.router_tick()

    agent.refresh_from_db()
    assert agent.presence == Presence.AVAILABLE
    assert SocketConnection.objects.filter(agent=agent, channel_name="test.console.alive").exists()


def test_the_router_never_rings_a_console_that_is_closed_even_within_the_grace(korean, chat_queue):
    agent = available_agent(korean)
    close_console(agent, seconds_ago=2)
    contact = citizen_chat(page_open=True)

    routing.router_tick()
    assert not Offer.objects.filter(contact=contact).exists()

    socket_open(channel_name="test.console.back", agent=agent)
    routing.router_tick()
    assert Offer.objects.filter(contact=contact, agent=agent, state=Offer.State.PENDING).exists()


def test_a_citizen_gets_the_call_back_choice_when_the_only_available_agent_is_a_ghost(
    korean, chat_queue
):
    agent = available_agent(korean)
    close_console(agent, seconds_ago=31)
    contact = citizen_chat(page_open=True)

    routing.router_tick()

    assert ContactEvent.objects.filter(contact=contact, type=ContactEvent.Type.NO_AGENTS).exists()
    assert routing.agents_logged_in_for(chat_queue, "ko") == 0


def test_dashboards_count_an_agent_whose_console_is_gone_as_offline(korean, chat_queue):
    """Even before the router loop has signed the agent out."""
    present = available_agent(korean)
    ghost = available_agent(korean)
    close_console(ghost, seconds_ago=40)

    counts = selectors.presence_counts()

    assert counts[Presence.AVAILABLE] == 1
    assert counts[Presence.OFFLINE] == 1
    assert routing.agents_logged_in_for(chat_queue, "ko") == 1
    assert present.pk != ghost.pk


# --- citizens ------------------------------------------------------------------------------
def test_a_waiting_chat_whose_page_is_gone_is_abandoned_and_the_others_move_up(chat_queue):
    gone = citizen_chat(page_open=False, seen_seconds_ago=181)
    Contact.objects.filter(pk=gone.pk).update(queued_at=ago(200))
    staying = citizen_chat(page_open=True)
    assert [c.pk for c, _pos, _eta in routing.queue_positions(chat_queue)] == [gone.pk, staying.pk]

    routing.router_tick()  # as the first tick of a freshly restarted process

    gone.refresh_from_db()
    assert gone.state == "abandoned"
    assert gone.ended_at is not None
    assert ContactEvent.objects.filter(contact=gone, type=ContactEvent.Type.ABANDONED).exists()
    assert [(c.pk, pos) for c, pos, _eta in routing.queue_positions(chat_queue)] == [
        (staying.pk, 1)
    ]
    metrics = selectors.contact_metrics(Contact.objects.filter(pk__in=[gone.pk, staying.pk]))
    assert metrics.abandoned == 1


def test_a_waiting_chat_with_a_page_open_is_never_abandoned(chat_queue):
    contact = citizen_chat(page_open=True, seen_seconds_ago=600)
    routing.router_tick()
    contact.refresh_from_db()
    assert contact.state == "waiting"


def test_a_waiting_chat_with_nobody_on_the_page_is_not_offered(korean, chat_queue):
    agent = available_agent(korean)
    gone = citizen_chat(page_open=False, seen_seconds_ago=30)
    routing.router_tick()
    assert not Offer.objects.filter(contact=gone).exists()

    session = ChatSession.objects.get(pk=gone.session_id)
    socket_open(channel_name="test.chat.back", session=session)
    routing.router_tick()
    assert Offer.objects.filter(contact=gone, agent=agent, state=Offer.State.PENDING).exists()


def test_a_new_chat_is_offered_before_its_page_has_connected(korean, chat_queue):
    agent = available_agent(korean)
    contact = citizen_chat(page_open=False, seen_seconds_ago=0)
    routing.router_tick()
    assert Offer.objects.filter(contact=contact, agent=agent, state=Offer.State.PENDING).exists()


def test_a_tick_without_housekeeping_leaves_sign_outs_to_the_next_housekeeping(korean, chat_queue):
    """The loop's beats in between only expire offers, offer and announce; the sign-out of a
    closed console waits for the housekeeping beat (ROUTER_HOUSEKEEPING_SECONDS)."""
    agent = available_agent(korean)
    close_console(agent, seconds_ago=31)

    routing.router_tick(housekeeping=False)
    agent.refresh_from_db()
    assert agent.presence == Presence.AVAILABLE

    routing.router_tick(housekeeping=True)
    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE
