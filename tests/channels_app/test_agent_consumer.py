"""The agent socket, driven through the real ASGI application and channel layer."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from callcenter.asgi import application
from callcenter.models import Agent, Presence
from callcenter.services.presence import agent_set_presence
from tests.channels_app.conftest import ORIGIN, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


async def connect_as(user=None) -> tuple[WebsocketCommunicator, bool, object]:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def assert_refused(communicator: WebsocketCommunicator) -> None:
    error = await communicator.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "forbidden")
    closed = await communicator.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)


async def test_anonymous_sockets_are_refused():
    communicator, _, _ = await connect_as(None)
    await assert_refused(communicator)


async def test_a_department_officer_cannot_open_an_agent_socket(officer_user):
    communicator, _, _ = await connect_as(officer_user)
    await assert_refused(communicator)


async def test_a_supervisor_opens_the_socket_as_an_observer(supervisor_user):
    communicator, connected, _ = await connect_as(supervisor_user)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert (hello["role"], hello["agent_id"], hello["offers"]) == ("supervisor", None, [])
    await communicator.send_json_to({"type": "presence.set", "presence": "available"})
    error = await communicator.receive_json_from(timeout=5)
    assert error["code"] == "agents_only"
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused(agent_user):
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[
            (b"origin", b"https://evil.example"),
            (b"cookie", await session_cookie_for(agent_user)),
        ],
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_agent_sets_presence_and_hears_it_back_through_the_layer(agent_user):
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert (hello["type"], hello["agent_id"], hello["presence"]) == (
        "hello",
        agent_user.agent.pk,
        "offline",
    )
    assert hello["contacts"] == [] and hello["offers"] == []

    await communicator.send_json_to({"type": "presence.set", "presence": "available"})
    event = await communicator.receive_json_from(timeout=5)
    assert event["type"] == "presence.changed"
    assert event["presence"] == "available"
    agent = await database_sync_to_async(Agent.objects.get)(pk=agent_user.agent.pk)
    assert agent.presence == Presence.AVAILABLE  # stored before it was sent
    await communicator.disconnect()


async def test_a_change_made_elsewhere_reaches_the_agent_socket(agent_user):
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    agent = await database_sync_to_async(Agent.objects.get)(user=agent_user)
    await database_sync_to_async(agent_set_presence)(agent=agent, presence="break", reason="교육")
    event = await communicator.receive_json_from(timeout=5)
    assert (event["type"], event["presence"], event["reason"]) == (
        "presence.changed",
        "break",
        "교육",
    )
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame,code",
    [
        ("not json", "invalid_json"),
        (json.dumps([1, 2]), "invalid_frame"),
        (json.dumps({"type": "teleport"}), "unknown_type"),
        (json.dumps({"type": "presence.set", "presence": "sleeping"}), "invalid_presence"),
        (json.dumps({"type": "presence.set", "presence": "break"}), "invalid_presence"),
        (json.dumps({"type": "ping", "pad": "x" * 70_000}), "frame_too_large"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(agent_user, frame, code):
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    await communicator.send_to(text_data=frame)
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == code
    await communicator.send_json_to({"type": "ping", "id": 7})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "id": 7}
    await communicator.disconnect()


@pytest.mark.redis
async def test_round_trip_runs_through_the_real_redis_layer(agent_user):
    layer = get_channel_layer()
    assert type(layer).__module__ == "channels_redis.core"
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    # A message from outside the consumer, through Redis, to the agent's group.
    await layer.group_send(
        f"agent.{agent_user.agent.pk}",
        {
            "type": "presence.changed",
            "agent_id": agent_user.agent.pk,
            "presence": "busy",
            "reason": "",
            "changed_at": "2026-11-26T09:00:00+09:00",
        },
    )
    event = await communicator.receive_json_from(timeout=5)
    assert event["presence"] == "busy"
    await communicator.disconnect()


async def test_a_rolled_back_change_is_never_announced(agent_user):
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello

    def change_then_fail() -> None:
        from django.db import transaction

        agent = Agent.objects.get(user=agent_user)
        with transaction.atomic():
            agent_set_presence(agent=agent, presence="available")
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(change_then_fail)()
    assert await communicator.receive_nothing(timeout=1)
    agent = await database_sync_to_async(Agent.objects.get)(user=agent_user)
    assert agent.presence == Presence.OFFLINE
    await communicator.disconnect()


async def test_an_agent_cannot_choose_not_responding_over_the_socket(agent_user):
    """Only the system sets it (after a missed offer); the badge must keep meaning that."""
    communicator, connected, _ = await connect_as(agent_user)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    await communicator.send_json_to({"type": "presence.set", "presence": "not_responding"})

    frame = await communicator.receive_json_from(timeout=5)

    assert (frame["type"], frame["code"]) == ("error", "invalid_presence")
    agent = await database_sync_to_async(Agent.objects.get)(pk=agent_user.agent.pk)
    assert agent.presence == Presence.OFFLINE
    await communicator.disconnect()
