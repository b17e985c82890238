"""/healthz of a real daphne process on Redis while agents hold their consoles open."""

import asyncio
import json
import os
from contextlib import AsyncExitStack

import pytest
import requests
import websockets

from tests.factories import AgentFactory
from tests.live.servers import daphne, database_env_for_tests, login, ws_url

PASSWORD = "correct-horse-battery"
OPEN_SOCKETS = 50


async def _health_with_open_consoles(base: str, cookie: str) -> tuple[int, dict]:
    async with AsyncExitStack() as stack:
        for _ in range(OPEN_SOCKETS):
            socket = await stack.enter_async_context(
                websockets.connect(
                    ws_url(base, "/ws/agent/"),
                    additional_headers={"Origin": base, "Cookie": cookie},
                )
            )
            async with asyncio.timeout(10):
                assert json.loads(await socket.recv())["type"] == "hello"
        response = await asyncio.to_thread(requests.get, f"{base}/healthz", timeout=15)
        return response.status_code, response.json()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_health_stays_ok_while_fifty_consoles_are_open_on_redis():
    """channels-redis lets one receive at a time per process; a check that waits on that
    lock behind the consoles' receive loop took every node out of a load balancer."""
    AgentFactory(user__username="minji", user__password=PASSWORD)
    env = {
        **database_env_for_tests(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHANNEL_LAYER_PREFIX": f"open120-live-health-{os.getpid()}",
    }
    with daphne(env) as server:
        cookie = login(server, "minji", PASSWORD)
        status, body = asyncio.run(_health_with_open_consoles(server, cookie))
    assert (status, body["channel_layer"]) == (200, "ok"), body
