"""Two ASGI processes on Redis share one scheduler: a citizen hears each change of place
once, and an SLA breach is announced once, however many processes run the loop."""

import asyncio
import json
import os
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
import websockets
from django.utils import timezone

from callcenter.models import Presence, Queue, ScheduledJob, Skill
from tests.channels_app.test_sla_socket import pothole_for
from tests.factories import AgentFactory, SkillFactory
from tests.live.servers import daphne, database_env_for_tests, login, ws_url

PASSWORD = "correct-horse-battery"


async def _listen(url: str, headers: dict, seconds: float, subprotocols=None) -> list[dict]:
    frames = []
    async with websockets.connect(
        url, additional_headers=headers, subprotocols=subprotocols
    ) as socket:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(left):
                    frames.append(json.loads(await socket.recv()))
            except TimeoutError:
                break
    return frames


async def _chat_then_leave(base: str, chat: dict, *, after: float) -> None:
    """The first citizen ends their chat ``after`` seconds: the others move up."""
    async with websockets.connect(
        ws_url(base, chat["ws_url"]),
        subprotocols=chat["ws_protocols"],
        additional_headers={"Origin": base},
    ) as socket:
        await asyncio.sleep(after)
        await socket.send(json.dumps({"type": "chat.end"}))
        await asyncio.sleep(0.5)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_processes_announce_each_place_once_and_each_breach_once():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: two processes share events only through Redis")
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat"])
    queue.required_skills.set([korean])
    # Logged in but on a break: chats wait (and are told their place), nobody is offered one.
    agent = AgentFactory(
        user__username="minji", user__password=PASSWORD, skills=[korean], presence=Presence.BREAK
    )
    env = {
        **database_env_for_tests(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHANNEL_LAYER_PREFIX": f"open120-live-scheduler-{os.getpid()}",
        "ROUTER_TICKER": "1",
        "ROUTER_TICK_MS": "200",
        "SLA_CHECK_SECONDS": "1",
        "PRESENCE_GRACE_SECONDS": "60",
        "CHAT_START_LIMIT_PER_HOUR": "1000",
        "DB_POOL_MAX_SIZE": "4",  # the servers as deployed: a small pool per process
    }
    with daphne(env) as first, daphne(env) as second:
        cookie = login(first, "minji", PASSWORD)
        chats = []
        for n in range(3):
            response = requests.post(
                f"{first}/chat/start",
                data={"name": f"시민{n}", "language": "ko", "consent": "on"},
                timeout=10,
            )
            assert response.status_code == 201, response.text
            chats.append(response.json())

        async def scenario():
            # Citizens 2 and 3 listen on different processes; the agent's console on each.
            listeners = [
                _listen(
                    ws_url(base, chat["ws_url"]),
                    {"Origin": base},
                    seconds=6,
                    subprotocols=chat["ws_protocols"],
                )
                for base, chat in ((first, chats[1]), (second, chats[2]))
            ]
            consoles = [
                _listen(ws_url(base, "/ws/agent/"), {"Origin": base, "Cookie": cookie}, seconds=6)
                for base in (first, second)
            ]
            leaving = _chat_then_leave(second, chats[0], after=2.5)

            async def late_pothole():
                # Filed once the consoles listen; both of its SLA clocks already breached.
                await asyncio.sleep(1)
                await asyncio.to_thread(
                    pothole_for.func, agent.user, timezone.now() - timedelta(days=7)
                )

            return await asyncio.gather(*listeners, *consoles, leaving, late_pothole())

        second_citizen, third_citizen, console_a, console_b, *_ = asyncio.run(scenario())

    for frames, before, after in ((second_citizen, 2, 1), (third_citizen, 3, 2)):
        places = [f["position"] for f in frames if f["type"] == "queue.position"]
        # Told on connecting (hello), then one frame for the one change: never twice.
        hello = next(f for f in frames if f["type"] == "hello")
        assert hello["position"] == before
        assert places == [after], places
    for console in (console_a, console_b):
        breaches = Counter(
            f["ticket"]["number"]
            for f in console
            if f["type"] == "ticket.notice" and f["kind"] == "sla_breached"
        )
        # Two clocks (first response, resolution) breached: two notices, whichever process
        # checked; six SLA periods passed on two processes.
        assert list(breaches.values()) == [2], breaches
    router = ScheduledJob.objects.get(name="router")
    assert router.last_holder  # the turn was taken (by one process or the other)
