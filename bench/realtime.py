"""Real-time latency benchmark: offers and chat messages through daphne + Redis + PostgreSQL.

    make bench            # or: .venv/bin/python bench/realtime.py --agents 200 --chats 200

It creates its own PostgreSQL database (open120_bench), starts two daphne processes that
share Redis (agents on one, citizens on the other, so every frame crosses processes), logs
in N agents over WebSockets and prints:

- offer latency: a citizen's POST /chat/start sent → the offer.created frame at an agent;
- message latency: a citizen's message.send sent → the message.created frame at the agent,
  with every chat active at once and each citizen sending a message every --interval s.

Everything runs on loopback; the load is bounded by --chats, --agents and --duration.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
import websockets

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = "open120_bench"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def environment(args) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "SECRET_KEY": "bench-" + "s" * 60,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": args.redis,
        "CHANNEL_LAYER_PREFIX": f"open120-bench-{os.getpid()}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHAT_START_LIMIT_PER_HOUR": "1000000",
        "ROUTING_OFFER_TIMEOUT_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def prepare_database(env: dict[str, str], agents: int) -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qc",
            f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)",
        ],
        check=True,
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    setup = f"""
from django.contrib.auth.models import Group
from callcenter.models import Agent, Queue, Skill, User
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="chat", name="채팅", channels=["webchat"])
queue.required_skills.set([korean])
group = Group.objects.get(name="agent")
for n in range({agents}):
    user = User.objects.create_user(f"bench{{n:03d}}")  # sessions are made directly
    user.groups.add(group)
    agent = Agent.objects.create(user=user, display_name=f"상담사{{n:03d}}", max_concurrent_chats=1)
    agent.skills.set([korean])
"""
    subprocess.run([PYTHON, "manage.py", "shell", "-c", setup], cwd=BASE_DIR, env=env, check=True)


def session_cookies(env: dict[str, str], agents: int) -> list[str]:
    """Sessions made straight in the database: 200 logins through the form would only
    measure the password hasher."""
    script = f"""
import json
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from callcenter.models import User
cookies = []
for user in User.objects.filter(username__startswith="bench").order_by("username")[:{agents}]:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    cookies.append(f"{{settings.SESSION_COOKIE_NAME}}={{store.session_key}}")
print(json.dumps(cookies))
"""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    log = open(BASE_DIR / "var" / f"bench-daphne-{port}.log", "w")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "callcenter.asgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"daphne on {port} did not start; see var/bench-daphne-{port}.log")


class Agent:
    def __init__(self, socket) -> None:
        self.socket = socket
        self.frames: asyncio.Queue = asyncio.Queue()

    async def pump(self) -> None:
        async for raw in self.socket:
            self.frames.put_nowait((time.perf_counter(), json.loads(raw)))


async def run(args, cookies: list[str]) -> dict[str, list[float]]:
    agent_base, citizen_base = f"127.0.0.1:{args.port}", f"127.0.0.1:{args.port + 1}"
    agents: list[Agent] = []
    for cookie in cookies:
        socket = await websockets.connect(
            f"ws://{agent_base}/ws/agent/",
            additional_headers={"Cookie": cookie, "Origin": f"http://{agent_base}"},
            max_queue=None,
        )
        agents.append(Agent(socket))
    pumps = [asyncio.create_task(a.pump()) for a in agents]
    for agent in agents:
        await agent.socket.send(json.dumps({"type": "presence.set", "presence": "available"}))
    await asyncio.sleep(2)

    offer_latency: list[float] = []
    sent_at: dict[str, float] = {}
    offers: dict[int, tuple[Agent, int]] = {}

    async def watch_offers(agent: Agent) -> None:
        while True:
            received, frame = await agent.frames.get()
            if frame["type"] == "offer.created":
                contact_id = frame["offer"]["contact_id"]
                offers[contact_id] = (agent, frame["offer"]["id"])
                # The offer can beat the HTTP response: match it by the citizen's name.
                offer_latency.append(received - sent_at[frame["offer"]["citizen"]["name"]])
                await agent.socket.send(
                    json.dumps({"type": "offer.accept", "offer_id": frame["offer"]["id"]})
                )
                return

    watchers = [asyncio.create_task(watch_offers(a)) for a in agents]
    http = requests.Session()
    citizens = []
    for n in range(args.chats):
        name = f"시민{n:04d}"
        sent_at[name] = time.perf_counter()
        response = await asyncio.to_thread(
            http.post,
            f"http://{citizen_base}/chat/start",
            data={"name": name, "language": "ko", "consent": "on"},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        citizens.append(body)
        await asyncio.sleep(1 / args.rate)
    await asyncio.wait_for(asyncio.gather(*watchers), timeout=60)
    await asyncio.sleep(1)
    for agent in agents:  # drop the frames of the accept phase
        while not agent.frames.empty():
            agent.frames.get_nowait()

    message_latency: list[float] = []
    by_contact = {contact_id: agent for contact_id, (agent, _offer) in offers.items()}
    sockets = []
    for body in citizens:
        socket = await websockets.connect(
            f"ws://{citizen_base}{body['ws_url']}",
            subprotocols=body["ws_protocols"],
            additional_headers={"Origin": f"http://{citizen_base}"},
            max_queue=None,
        )
        sockets.append((body["contact_id"], socket))
    sent: dict[str, float] = {}

    async def collect(agent: Agent) -> None:
        while True:
            received, frame = await agent.frames.get()
            if frame["type"] == "message.created" and frame["message"]["sender"] == "citizen":
                client_id = frame["message"]["client_id"]
                if client_id in sent:
                    message_latency.append(received - sent.pop(client_id))

    collectors = [asyncio.create_task(collect(a)) for a in set(by_contact.values())]

    async def talk(contact_id: int, socket) -> None:
        n = 0
        deadline = time.perf_counter() + args.duration
        await asyncio.sleep(args.interval * (contact_id % 100) / 100)  # spread the senders
        while time.perf_counter() < deadline:
            client_id = f"{contact_id}-{n}"
            sent[client_id] = time.perf_counter()
            await socket.send(
                json.dumps(
                    {"type": "message.send", "text": f"벤치 메시지 {n}", "client_id": client_id}
                )
            )
            n += 1
            await asyncio.sleep(args.interval)

    async def drain(socket) -> None:
        async for _ in socket:
            pass

    drains = [asyncio.create_task(drain(s)) for _, s in sockets]
    await asyncio.gather(*(talk(contact_id, socket) for contact_id, socket in sockets))
    await asyncio.sleep(3)
    for task in [*collectors, *drains, *pumps]:
        task.cancel()
    for _, socket in sockets:
        await socket.close()
    for agent in agents:
        await agent.socket.close()
    return {"offer": offer_latency, "message": message_latency, "unanswered": [len(sent)]}


def report(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<36} n={len(ms):>5}  p50={percentile(ms, 50):7.1f} ms"
        f"  p95={percentile(ms, 95):7.1f} ms  p99={percentile(ms, 99):7.1f} ms"
        f"  max={max(ms):7.1f} ms  mean={statistics.fmean(ms):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20, help="chats started per second")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between a citizen's messages"
    )
    parser.add_argument("--duration", type=float, default=20, help="seconds of chatting")
    parser.add_argument("--port", type=int, default=8301)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    if args.chats > args.agents:
        raise SystemExit("--chats must not exceed --agents (each agent takes one chat)")
    env = environment(args)
    print(f"preparing {DB_NAME} with {args.agents} agents …", flush=True)
    prepare_database(env, args.agents)
    cookies = session_cookies(env, args.agents)
    servers = [start_server(env, args.port), start_server(env, args.port + 1)]
    try:
        print(
            f"{args.agents} agents on :{args.port}, {args.chats} citizens on :{args.port + 1}",
            flush=True,
        )
        results = asyncio.run(run(args, cookies))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    print()
    print(report(f"offer latency ({args.agents} agents)", results["offer"]))
    print(report(f"message latency ({args.chats} chats)", results["message"]))
    print(f"messages without an echo at the end: {results['unanswered'][0]}")


if __name__ == "__main__":
    main()
