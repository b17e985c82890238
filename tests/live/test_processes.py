"""Across processes: two servers sharing Redis, and make run's embedded single process."""

import asyncio
import json
import os
import subprocess
import sys

import pytest
import requests
import websockets

from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tests.live.servers import BASE_DIR, daphne, database_env_for_tests, login, ws_url

PASSWORD = "correct-horse-battery"


async def next_frame(socket, frame_type: str, wait: float = 10) -> dict:
    async with asyncio.timeout(wait):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == frame_type:
                return frame


def chat_start(base: str) -> dict:
    response = requests.post(
        f"{base}/chat/start",
        data={"name": "홍길동", "phone": "010-1234-5678", "language": "ko", "consent": "on"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def talk(citizen_base: str, agent_base: str, cookie: str) -> list[str]:
    """An agent on one server and a citizen on another exchange a message each way."""
    agent_origin = {"Origin": agent_base}
    async with websockets.connect(
        ws_url(agent_base, "/ws/agent/"), additional_headers={**agent_origin, "Cookie": cookie}
    ) as agent:
        await next_frame(agent, "hello")
        await agent.send(json.dumps({"type": "presence.set", "presence": "available"}))
        await next_frame(agent, "presence.changed")
        started = await asyncio.to_thread(chat_start, citizen_base)
        async with websockets.connect(
            ws_url(citizen_base, started["ws_url"]),
            additional_headers={"Origin": citizen_base},
            subprotocols=started["ws_protocols"],
        ) as citizen:
            await next_frame(citizen, "hello")
            offer = await next_frame(agent, "offer.created")
            await agent.send(json.dumps({"type": "offer.accept", "offer_id": offer["offer"]["id"]}))
            await next_frame(citizen, "chat.state")
            await citizen.send(
                json.dumps({"type": "message.send", "text": "A에서 보낸 질문", "client_id": "a"})
            )
            heard_by_agent = await next_frame(agent, "message.created")
            while heard_by_agent["message"]["sender"] != "citizen":
                heard_by_agent = await next_frame(agent, "message.created")
            await agent.send(
                json.dumps(
                    {
                        "type": "message.send",
                        "contact_id": started["contact_id"],
                        "text": "B에서 보낸 답변",
                    }
                )
            )
            heard_by_citizen = await next_frame(citizen, "message.created")
            while heard_by_citizen["message"]["sender"] != "agent":
                heard_by_citizen = await next_frame(citizen, "message.created")
            return [heard_by_agent["message"]["text"], heard_by_citizen["message"]["text"]]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_citizen_on_one_server_and_an_agent_on_another_talk_through_redis():
    korean = SkillFactory(code="lang-ko")
    QueueFactory(code="chat", channels=["webchat"]).required_skills.set([korean])
    AgentFactory(user__username="minji", user__password=PASSWORD, skills=[korean])
    env = {
        **database_env_for_tests(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHANNEL_LAYER_PREFIX": f"open120-live-{os.getpid()}",
        "ROUTER_TICKER": "1",
    }
    with daphne(env) as server_a, daphne(env) as server_b:
        cookie = login(server_b, "minji", PASSWORD)
        heard = asyncio.run(talk(citizen_base=server_a, agent_base=server_b, cookie=cookie))
    assert heard == ["A에서 보낸 질문", "B에서 보낸 답변"]


SETUP_EMBEDDED = """
from callcenter.models import Agent, Queue, Skill, User
from django.contrib.auth.models import Group
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat"])
queue.required_skills.set([korean])
user = User.objects.create_user("minji", password="correct-horse-battery")
user.groups.add(Group.objects.get(name="agent"))
Agent.objects.create(user=user, display_name="김민지").skills.set([korean])
"""


def test_make_run_settings_deliver_router_loop_events_to_sockets(tmp_path):
    """Embedded mode (SQLite, in-memory layer): an offer time-out found by the background
    router loop still reaches the agent's socket, because the loop runs in the ASGI process."""
    # Only what `make run` sets: nothing of the test settings (which switch the loop off).
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        ROUTING_OFFER_TIMEOUT_SECONDS="1",
        ROUTER_TICK_MS="200",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
    )
    for command in (["migrate", "-v0"], ["shell", "-c", SETUP_EMBEDDED]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, timeout=120
        )
    with daphne(env, inherit=False) as server:
        assert requests.get(f"{server}/healthz", timeout=5).json()["channel_layer"] == "ok"
        cookie = login(server, "minji", PASSWORD)
        frames = asyncio.run(_miss_an_offer(server, cookie))
    assert frames == [("offer.cancelled", "timeout"), ("presence.changed", "not_responding")]


async def _miss_an_offer(base: str, cookie: str) -> list[tuple[str, str]]:
    async with websockets.connect(
        ws_url(base, "/ws/agent/"), additional_headers={"Origin": base, "Cookie": cookie}
    ) as agent:
        await next_frame(agent, "hello")
        await agent.send(json.dumps({"type": "presence.set", "presence": "available"}))
        await next_frame(agent, "presence.changed")
        await asyncio.to_thread(chat_start, base)
        await next_frame(agent, "offer.created")
        cancelled = await next_frame(agent, "offer.cancelled")  # nobody clicked: the loop did it
        presence = await next_frame(agent, "presence.changed")
        return [
            ("offer.cancelled", cancelled["reason"]),
            ("presence.changed", presence["presence"]),
        ]
