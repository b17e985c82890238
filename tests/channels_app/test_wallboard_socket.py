"""The wallboard socket: a snapshot on connect, a fresh one when something it shows changes
(at most one a second, a burst folded into one), and a refresh on a timer; supervisors only."""

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from callcenter import roles
from callcenter.asgi import application
from callcenter.models import Contact, Presence
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
from channels_app.consumers.wallboard import WallboardConsumer
from tests import factories
from tests import factories_wallboard as make
from tests.channels_app.conftest import ORIGIN, agent_socket, receive_until, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


async def wallboard_socket(user=None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/wallboard/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.fixture
def centre(db):
    korean = make.skill("lang-ko")
    now = timezone.now()
    minji = make.agent("김민지", presence=Presence.BREAK, since=now, skills=[korean], reason="교육")
    minji.user  # noqa: B018 - loaded here: the tests' event loop may not query
    return {
        "phone": make.queue("phone", "일반 전화", channels=["voice"], skills=[korean]),
        "chat": make.queue("chat", "채팅", channels=["webchat"], skills=[korean]),
        "minji": minji,
    }


@pytest.fixture
def quiet_timer(monkeypatch):
    """No timed refresh during the test: only changes send snapshots."""
    monkeypatch.setattr(WallboardConsumer, "REFRESH_SECONDS", 3600.0)


def queue_row(snapshot, queue):
    return next(row for row in snapshot["queues"] if row["id"] == queue.pk)


def agent_row(snapshot, agent):
    return next(row for row in snapshot["agents"] if row["id"] == agent.pk)


async def test_a_supervisor_gets_a_snapshot_on_connect(centre, supervisor_user, quiet_timer):
    socket = await wallboard_socket(supervisor_user)

    snapshot = await socket.receive_json_from(timeout=5)

    assert snapshot["type"] == "wallboard.snapshot"
    assert queue_row(snapshot, centre["phone"])["name"] == "일반 전화"
    assert agent_row(snapshot, centre["minji"])["state"] == "break"
    await socket.disconnect()


async def test_an_administrator_gets_a_snapshot_too(centre, administrator_user, quiet_timer):
    socket = await wallboard_socket(administrator_user)

    assert (await socket.receive_json_from(timeout=5))["type"] == "wallboard.snapshot"
    await socket.disconnect()


async def test_an_agent_is_refused(centre, agent_user):
    socket = await wallboard_socket(agent_user)

    error = await socket.receive_json_from(timeout=5)
    closed = await socket.receive_output(timeout=5)

    assert (error["type"], error["code"]) == ("error", "forbidden")
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_an_anonymous_visitor_is_refused(centre):
    socket = await wallboard_socket()

    await socket.receive_json_from(timeout=5)
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


@pytest.mark.parametrize("channel", ["voice", "webchat"])
async def test_a_contact_queued_shows_at_the_routers_next_beat(
    centre, supervisor_user, quiet_timer, channel
):
    """Nobody is free to be offered it: the router's beat, which counts the queues every
    second, tells the wallboards."""
    socket = await wallboard_socket(supervisor_user)
    await socket.receive_json_from(timeout=5)
    queue = centre["phone"] if channel == "voice" else centre["chat"]

    @sync_to_async
    def queued_then_a_beat():
        contact = factories.ContactFactory(queue=None, queued_at=None, channel=channel)
        routing.contact_enqueue(contact=contact, queue=queue, announce=channel != "voice")
        routing.router_tick(housekeeping=False)

    await queued_then_a_beat()

    snapshot = await socket.receive_json_from(timeout=5)
    assert queue_row(snapshot, queue)["waiting"] == 1
    assert await socket.receive_nothing(timeout=0.3)  # one change, one snapshot
    await socket.disconnect()


async def test_a_contact_offered_at_once_shows_at_once(centre, supervisor_user, quiet_timer):
    wall = await wallboard_socket(supervisor_user)
    await wall.receive_json_from(timeout=5)
    console = await agent_socket(centre["minji"].user)
    await receive_until(console, "hello")
    await console.send_json_to({"type": "presence.set", "presence": "available"})
    await wall.receive_json_from(timeout=5)  # Minji available

    @sync_to_async
    def chat_queues():
        contact = factories.ContactFactory(queue=None, queued_at=None, channel="webchat")
        routing.contact_enqueue(contact=contact, queue=centre["chat"])
        return contact

    contact = await chat_queues()

    await receive_until(console, "offer.created")
    snapshot = await wall.receive_json_from(timeout=5)
    assert [row["id"] for row in snapshot["waiting"]] == [contact.pk]
    for socket in (wall, console):
        await socket.disconnect()


async def test_an_agents_presence_change_pushes_a_new_snapshot(
    centre, supervisor_user, quiet_timer
):
    wall = await wallboard_socket(supervisor_user)
    await wall.receive_json_from(timeout=5)
    console = await agent_socket(centre["minji"].user)
    await receive_until(console, "hello")

    await console.send_json_to({"type": "presence.set", "presence": "available"})

    heard, _ = await receive_until(console, "presence.changed")
    assert (heard["presence"], heard["changed_by"]) == ("available", None)  # her own choice
    snapshot = await wall.receive_json_from(timeout=5)
    minji = agent_row(snapshot, centre["minji"])
    assert (minji["state"], queue_row(snapshot, centre["phone"])["agents"]["available"]) == (
        "available",
        1,
    )
    for socket in (wall, console):
        await socket.disconnect()


async def test_a_burst_of_changes_is_folded_into_one_snapshot(centre, supervisor_user, quiet_timer):
    wall = await wallboard_socket(supervisor_user)
    await wall.receive_json_from(timeout=5)

    @sync_to_async
    def five_changes():
        minji = centre["minji"]
        for presence, reason in [
            ("available", ""),
            ("break", "회의"),
            ("available", ""),
            ("break", "점심"),
            ("after_call", ""),
        ]:
            agent_set_presence(agent=minji, presence=presence, reason=reason, dispatch=False)

    await five_changes()

    snapshot = await wall.receive_json_from(timeout=5)
    assert agent_row(snapshot, centre["minji"])["state"] == "after_call"
    assert await wall.receive_nothing(timeout=WallboardConsumer.MIN_INTERVAL_SECONDS + 0.5)
    await wall.disconnect()


async def test_walls_refresh_on_a_timer_so_clocks_and_todays_figures_stay_current(
    centre, supervisor_user, monkeypatch
):
    monkeypatch.setattr(WallboardConsumer, "REFRESH_SECONDS", 0.5)
    monkeypatch.setattr(WallboardConsumer, "MIN_INTERVAL_SECONDS", 0.1)
    wall = await wallboard_socket(supervisor_user)
    first = await wall.receive_json_from(timeout=5)

    again = await wall.receive_json_from(timeout=3)

    assert again["type"] == "wallboard.snapshot" and again["at"] > first["at"]
    await wall.disconnect()


async def test_a_supervisor_moving_a_contact_updates_every_wall(
    centre, supervisor_user, quiet_timer
):
    contact = await sync_to_async(make.waiting)(centre["phone"], since=timezone.now())
    walls = [await wallboard_socket(supervisor_user) for _ in range(2)]
    for wall in walls:
        await wall.receive_json_from(timeout=5)
    client = Client()
    await sync_to_async(client.force_login)(supervisor_user)

    other = await sync_to_async(make.queue)("foreign", "외국어", channels=["voice"])
    response = await sync_to_async(client.post)(
        f"/supervisor/wallboard/contacts/{contact.pk}/queue",
        {"queue": other.pk},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200, response.content
    for wall in walls:
        snapshot = await wall.receive_json_from(timeout=5)
        assert [row["queue_id"] for row in snapshot["waiting"]] == [other.pk]
        await wall.disconnect()


async def test_a_supervisor_setting_an_agents_state_reaches_the_agents_console(
    centre, supervisor_user, quiet_timer
):
    console = await agent_socket(centre["minji"].user)
    await receive_until(console, "hello")
    wall = await wallboard_socket(supervisor_user)
    await wall.receive_json_from(timeout=5)
    client = Client()
    await sync_to_async(client.force_login)(supervisor_user)

    response = await sync_to_async(client.post)(
        f"/supervisor/wallboard/agents/{centre['minji'].pk}/presence",
        {"presence": "available"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200, response.content
    heard, _ = await receive_until(console, "presence.changed")
    assert (heard["agent_id"], heard["presence"], heard["changed_by"]) == (
        centre["minji"].pk,
        "available",
        "박소라",
    )
    snapshot = await wall.receive_json_from(timeout=5)
    assert agent_row(snapshot, centre["minji"])["state"] == "available"
    for socket in (console, wall):
        await socket.disconnect()


async def test_the_former_agent_is_told_when_a_supervisor_takes_over(
    centre, supervisor_user, quiet_timer
):
    @sync_to_async
    def chat_in_hand_and_a_supervisor_who_answers():
        from django.contrib.auth.models import Group

        now = timezone.now()
        agent_set_presence(agent=centre["minji"], presence=Presence.BUSY, dispatch=False)
        contact = make.in_hand(
            centre["minji"], centre["chat"], queued=now, answered=now, channel="webchat"
        )
        supervisor_user.groups.add(Group.objects.get(name=roles.AGENT))
        factories.AgentFactory(user=supervisor_user, display_name="박소라")
        return contact

    contact = await chat_in_hand_and_a_supervisor_who_answers()
    console = await agent_socket(centre["minji"].user)
    hello = await console.receive_json_from(timeout=5)
    assert [c["id"] for c in hello["contacts"]] == [contact.pk]
    supervisor_console = await agent_socket(supervisor_user)
    await receive_until(supervisor_console, "hello")
    client = Client()
    await sync_to_async(client.force_login)(supervisor_user)

    response = await sync_to_async(client.post)(
        f"/supervisor/wallboard/contacts/{contact.pk}/take-over", HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200, response.content
    removed, _ = await receive_until(console, "contact.removed")
    assert (removed["contact_id"], removed["reason"], removed["by_name"]) == (
        contact.pk,
        "taken_over",
        "박소라",
    )
    assigned, _ = await receive_until(supervisor_console, "contact.assigned")
    assert assigned["contact"]["id"] == contact.pk
    assert await sync_to_async(lambda: Contact.objects.get(pk=contact.pk).agent.display_name)() == (
        "박소라"
    )
    for socket in (console, supervisor_console):
        await socket.disconnect()
