"""Presence follows the console in a real daphne process with its router loop running."""

import asyncio
import json
import os
import time

import pytest
import websockets

from callcenter.models import Agent, Presence, PresenceReason
from tests.factories import AgentFactory
from tests.live.servers import daphne, database_env_for_tests, login, ws_url

PASSWORD = "correct-horse-battery"
GRACE = 2


async def _available_for(base: str, cookie: str, seconds: float) -> list[str]:
    """Open the console, go available, keep it open ``seconds``; the presences heard."""
    heard = []
    async with websockets.connect(
        ws_url(base, "/ws/agent/"), additional_headers={"Origin": base, "Cookie": cookie}
    ) as console:
        await console.send(json.dumps({"type": "presence.set", "presence": "available"}))
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(left):
                    frame = json.loads(await console.recv())
            except TimeoutError:
                break
            if frame["type"] == "presence.changed":
                heard.append(frame["presence"])
    return heard


def _wait_for_presence(agent: Agent, presence: str, seconds: float) -> Agent:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        agent.refresh_from_db()
        if agent.presence == presence:
            break
        time.sleep(0.2)
    return agent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_open_console_stays_available_and_a_closed_one_goes_offline():
    agent = AgentFactory(user__username="minji", user__password=PASSWORD, console=False)
    env = {
        **database_env_for_tests(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "ROUTER_TICKER": "1",
        "ROUTER_TICK_MS": "200",
        "PRESENCE_GRACE_SECONDS": str(GRACE),
        "CHANNEL_LAYER_PREFIX": f"open120-live-presence-{os.getpid()}",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    with daphne(env) as server:
        cookie = login(server, "minji", PASSWORD)
        # Open three grace periods long: the process's heartbeat keeps it alive.
        heard = asyncio.run(_available_for(server, cookie, seconds=3 * GRACE))
        assert heard == ["available"]
        agent.refresh_from_db()
        assert agent.presence == Presence.AVAILABLE
        # Closed: offline once the grace period has passed, saying why.
        agent = _wait_for_presence(agent, Presence.OFFLINE, seconds=4 * GRACE)
    assert (agent.presence, agent.presence_reason) == (
        Presence.OFFLINE,
        PresenceReason.CONSOLE_CLOSED,
    )
