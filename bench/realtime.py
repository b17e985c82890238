"""Real-time latency benchmark: chat messages and offers across two worker processes, next
to a bare Channels echo consumer over the same Redis (the floor), in the same run.

    make bench                                   # --chats 200,1000
    .venv/bin/python bench/realtime.py --chats 50 --duration 20

For each number of chats (``--chats 200,1000``) it runs, one after the other:

1. the echo floor: bench/echo_asgi.py served by two daphne processes (A and B) on the same
   Redis; per conversation an "agent" socket on A joins a group and a "citizen" socket on B
   sends frames that the consumer ``group_send``s to it. No database, no authentication.
2. the app: a fresh PostgreSQL database (open120_bench, copied from a template migrated at
   the start of the run), two daphne processes on callcenter.asgi sharing Redis (a prefix of
   their own per scenario) and PostgreSQL; agents' consoles on A, citizens' chats on B, so
   every frame crosses processes. ceil(chats / --per-agent) agents, each taking up to
   --per-agent chats (``max_concurrent_chats``), go available and accept every offer.
   Chats start at --rate per second (POST /chat/start to A and B in turn, as a load balancer
   would spread them; then the citizen's socket opens on B as a browser's does); once all
   are placed, every citizen sends a message every --interval s for --duration s.

Measured, on one monotonic clock:

- offer latency: POST /chat/start sent → offer.created frame at an agent;
- message latency: message.send sent on the citizen's socket → message.created (app) or the
  echoed frame (floor) at the agent's socket; the senders are spread evenly over the
  interval, on a fixed schedule, so the rate is chats / interval messages per second;
- never echoed: messages with no echo --drain s after the last send. Any of them (app or
  floor), a chat never placed or a scenario that breaks makes the run fail (exit status 1).

What the figures include: everything runs on this machine (2 cores): the load generator
(one asyncio process, its CPU share is printed), both daphne processes, Redis and
PostgreSQL all share the cores, and loopback TCP. The latency is what a client sees,
queueing in any of them included. The CPU line under each scenario says how busy each part
was during the message phase ("rest" is PostgreSQL plus anything else running: on a shared
machine a high rest means the figures are pessimistic; compare rows of the same run); when
the load generator is near 100 % of a core, the figures measure it, not the server (at
1,000 chats it used about 10-15 % of a core). Exceptions the daphne processes logged are
counted under each scenario (var/bench-{echo,daphne}-<chats>-<port>.log).

The floor's channel layer is the app's (bench/echo_settings.py copies
callcenter.settings.CHANNEL_LAYERS), so a layer setting that loses messages under load
shows in the floor too; --floor-max-connections tries a larger Redis pool for the floor.

The results go to var/bench-realtime.json as well (with the date and commit).
"""

import argparse
import asyncio
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import redis
import requests
import websockets

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = "open120_bench"
TEMPLATE_DB = "open120_bench_template"
RESULTS = BASE_DIR / "var" / "bench-realtime.json"
AIM_P99_MS = 100
AIM_FLOOR_RATIO = 3
AIM_OFFER_P99_MS = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

now = time.monotonic


# --- figures --------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(seconds: list[float]) -> dict:
    """Milliseconds: n, p50, p95, p99, max, mean (None without values)."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "max": round(max(ms), 1),
        "mean": round(sum(ms) / len(ms), 1),
    }


class CpuMeter:
    """CPU seconds of this process, the daphne processes, Redis and the whole machine."""

    def __init__(self, pids: list[int], redis_url: str) -> None:
        self.pids = pids
        self.redis = redis.Redis.from_url(redis_url)

    def _sample(self) -> dict:
        servers = []
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                servers.append((int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
            except (OSError, IndexError, ValueError):
                servers.append(0.0)
        info = self.redis.info("cpu")
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(v) for v in cpu]
        idle = ticks[3] + ticks[4]
        return {
            "wall": now(),
            "client": time.process_time(),
            "servers": servers,
            "redis": float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
            "machine_busy": (sum(ticks) - idle) / CLOCK_TICKS,
            "machine_total": sum(ticks) / CLOCK_TICKS,
        }

    def start(self) -> None:
        self.first = self._sample()

    def stop(self) -> dict:
        """Percent of one core (machine: percent of all cores)."""
        last, first = self._sample(), self.first
        wall = max(last["wall"] - first["wall"], 1e-9)
        total = max(last["machine_total"] - first["machine_total"], 1e-9)
        cores = os.cpu_count() or 1
        result = {
            "client": round(100 * (last["client"] - first["client"]) / wall),
            "daphne_a": round(100 * (last["servers"][0] - first["servers"][0]) / wall),
            "daphne_b": round(100 * (last["servers"][1] - first["servers"][1]) / wall),
            "redis": round(100 * (last["redis"] - first["redis"]) / wall),
            "machine": round(100 * (last["machine_busy"] - first["machine_busy"]) / total),
        }
        ours = result["client"] + result["daphne_a"] + result["daphne_b"] + result["redis"]
        # PostgreSQL, the kernel's share of loopback and whatever else runs on the machine.
        result["rest"] = max(0, round(result["machine"] * cores - ours))
        return result


# --- servers and database -------------------------------------------------------------------
def app_environment(args, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "SECRET_KEY": "bench-" + "s" * 60,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": args.redis,
        "CHANNEL_LAYER_PREFIX": prefix,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHAT_START_LIMIT_PER_HOUR": "1000000",
        "ROUTING_OFFER_TIMEOUT_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def echo_environment(args, prefix: str) -> dict[str, str]:
    env = {**app_environment(args, prefix), "DJANGO_SETTINGS_MODULE": "bench.echo_settings"}
    if args.floor_max_connections:
        env["ECHO_REDIS_MAX_CONNECTIONS"] = str(args.floor_max_connections)
    return env


def psql(sql: str) -> None:
    quiet = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, env=quiet)


def build_template(env: dict[str, str]) -> None:
    """Migrate once per run; each scenario copies this database."""
    psql(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {TEMPLATE_DB}")
    migrate_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{TEMPLATE_DB}"}
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=migrate_env, check=True
    )


def fresh_database(env: dict[str, str], agents: int, per_agent: int) -> list[str]:
    """A clean copy of the template with the agents; returns their session cookies."""
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME} TEMPLATE {TEMPLATE_DB}")
    agents_made = agents_create(
        env, agents=agents, queue=("chat", "채팅", "webchat"), name="bench", per_agent=per_agent
    )
    return [cookie for _agent_id, cookie in agents_made]


def agents_create(
    env: dict[str, str],
    *,
    agents: int,
    queue: tuple[str, str, str],
    name: str,
    per_agent: int = 3,
) -> list[tuple[int, str]]:
    """Korean-speaking agents of one new queue (code, name, channel), signed in: (agent id,
    session cookie) each, made straight in the database (logins through the form would
    only measure the hasher)."""
    code, queue_name, channel = queue
    script = f"""
import json
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from callcenter.models import Agent, Queue, Skill, User
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
queue = Queue.objects.create(code="{code}", name="{queue_name}", channels=["{channel}"])
queue.required_skills.set([korean])
group = Group.objects.get(name="agent")
made = []
for n in range({agents}):
    user = User.objects.create_user(f"{name}{{n:04d}}")
    user.groups.add(group)
    agent = Agent.objects.create(
        user=user, display_name=f"상담사{{n:04d}}", max_concurrent_chats={per_agent}
    )
    agent.skills.set([korean])
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    made.append((agent.pk, f"{{settings.SESSION_COOKIE_NAME}}={{store.session_key}}"))
print(json.dumps(made))
"""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return [tuple(pair) for pair in json.loads(out.stdout.strip().splitlines()[-1])]


def log_path(name: str, port: int) -> Path:
    return BASE_DIR / "var" / f"bench-{name}-{port}.log"


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exhausted|Timeout)\w*(: .*)?$")


def server_errors(paths: list[Path]) -> dict[str, int]:
    """The exceptions the daphne processes logged, by their last traceback line."""
    seen: Counter = Counter()
    for path in paths:
        for text in path.read_text(errors="replace").splitlines():
            if EXCEPTION_LINE.match(text):
                seen[text[:140]] += 1
    return dict(seen.most_common(6))


def start_server(env: dict[str, str], port: int, app: str, name: str) -> subprocess.Popen:
    log_file = log_path(name, port)
    log = open(log_file, "w")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
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
    raise RuntimeError(f"daphne on {port} did not start; see {log_file}")


def stop_servers(servers: list[subprocess.Popen]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the load -------------------------------------------------------------------------------
async def connect(url: str, **kwargs):
    return await websockets.connect(
        url, max_queue=None, ping_interval=None, compression=None, open_timeout=60, **kwargs
    )


async def bounded(coros: list, limit: int = 50) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def poll(condition, seconds: float) -> None:
    """Wait until condition() holds, at most ``seconds`` (it spans many sockets' tasks)."""
    until = now() + seconds
    for _ in range(int(seconds * 10) + 1):
        if condition() or now() >= until:
            return
        await asyncio.sleep(0.1)


class StartFailed(Exception):
    """A chat did not start: the POST or the citizen's socket failed (the stage says which)."""


class Tally:
    """Messages sent and not yet echoed, and the latency of those that were."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.latency: list[float] = []
        self.send_failures = 0

    def echoed(self, client_id: str, at: float) -> None:
        sent_at = self.sent.pop(client_id, None)
        if sent_at is not None:
            self.latency.append(at - sent_at)


async def chat_phase(args, senders: list, tally: Tally, meter: CpuMeter) -> dict:
    """Every sender a message each --interval s for --duration s, spread over the interval."""
    start = now() + 0.5
    deadline = start + args.duration
    count = 0

    async def talk(index: int, socket, key: str) -> None:
        nonlocal count
        n = 0
        at = start + args.interval * index / len(senders)
        while at < deadline:
            await asyncio.sleep(max(0.0, at - now()))
            client_id = f"{key}-{n}"
            tally.sent[client_id] = now()
            count += 1
            frame = {"type": "message.send", "text": f"벤치 메시지 {n}", "client_id": client_id}
            try:
                await socket.send(json.dumps(frame))
            except websockets.ConnectionClosed:
                tally.send_failures += 1
                return
            n += 1
            at += args.interval

    meter.start()
    await asyncio.gather(*(talk(i, socket, key) for i, (key, socket) in enumerate(senders)))
    cpu = meter.stop()
    await poll(lambda: not tally.sent, args.drain)
    return {
        "sent": count,
        "msg_per_s": round(count / args.duration, 1),
        "latency_ms": summary(tally.latency),
        "never_echoed": len(tally.sent),
        "send_failures": tally.send_failures,
        "cpu_percent": cpu,
    }


async def read_echoes(socket, tally: Tally) -> None:
    try:
        async for raw in socket:
            at = now()
            tally.echoed(json.loads(raw).get("client_id", ""), at)
    except websockets.ConnectionClosed:
        pass


async def drain(socket) -> None:
    try:
        async for _ in socket:
            pass
    except websockets.ConnectionClosed:
        pass


async def close_all(sockets: list) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


async def floor_run(args, chats: int, ports: tuple[int, int], meter: CpuMeter) -> dict:
    a, b = ports
    tally = Tally()
    receivers = await bounded(
        [connect(f"ws://127.0.0.1:{a}/ws/echo/agent/{i}/") for i in range(chats)]
    )
    senders = await bounded(
        [connect(f"ws://127.0.0.1:{b}/ws/echo/citizen/{i}/") for i in range(chats)]
    )
    tasks = [asyncio.create_task(read_echoes(s, tally)) for s in receivers]
    tasks += [asyncio.create_task(drain(s)) for s in senders]
    await asyncio.sleep(1)
    result = await chat_phase(args, [(f"e{i}", s) for i, s in enumerate(senders)], tally, meter)
    await close_all([*receivers, *senders])
    for task in tasks:
        task.cancel()
    return result


async def app_run(args, chats: int, cookies: list[str], ports: tuple[int, int], meter) -> dict:
    a, b = ports
    agent_base, citizen_base = f"127.0.0.1:{a}", f"127.0.0.1:{b}"
    agents = await bounded(
        [
            connect(
                f"ws://{agent_base}/ws/agent/",
                additional_headers={"Cookie": cookie, "Origin": f"http://{agent_base}"},
            )
            for cookie in cookies
        ]
    )
    tally = Tally()
    started: dict[str, float] = {}
    offer_latency: dict[str, float] = {}
    assigned: set[int] = set()
    errors: list[dict] = []

    async def agent_reader(socket) -> None:
        try:
            async for raw in socket:
                at = now()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.created":
                    message = frame["message"]
                    if message.get("sender") == "citizen" and message.get("client_id"):
                        tally.echoed(message["client_id"], at)
                elif kind == "offer.created":
                    # The offer can beat the HTTP response: match it by the citizen's name.
                    name = frame["offer"]["citizen"]["name"]
                    if name in started and name not in offer_latency:
                        offer_latency[name] = at - started[name]
                    accept = {"type": "offer.accept", "offer_id": frame["offer"]["id"]}
                    await socket.send(json.dumps(accept))
                elif kind == "contact.assigned" and not frame.get("observer"):
                    assigned.add(frame["contact"]["id"])
                elif kind == "error":
                    errors.append(frame)
        except websockets.ConnectionClosed:
            pass

    tasks = [asyncio.create_task(agent_reader(s)) for s in agents]
    available = json.dumps({"type": "presence.set", "presence": "available"})
    await asyncio.gather(*(s.send(available) for s in agents))
    await asyncio.sleep(2)

    citizens: list[tuple[int, object]] = []
    start_latency: list[float] = []
    first = now() + 0.2

    async def start_chat(http: aiohttp.ClientSession, n: int) -> None:
        await asyncio.sleep(max(0.0, first + n / args.rate - now()))
        name = f"시민{n:04d}"
        started[name] = sent_at = now()
        try:
            # As behind a load balancer, chat starts alternate between the two processes;
            # the citizen's socket is always on B, so every frame to an agent crosses over.
            async with http.post(
                f"http://{(citizen_base, agent_base)[n % 2]}/chat/start",
                data={"name": name, "language": "ko", "consent": "on"},
            ) as response:
                response.raise_for_status()
                body = await response.json()
        except aiohttp.ClientResponseError as error:
            raise StartFailed(f"POST /chat/start: HTTP {error.status}") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise StartFailed(f"POST /chat/start: {error!r}"[:200]) from error
        start_latency.append(now() - sent_at)
        try:
            socket = await connect(
                f"ws://{citizen_base}{body['ws_url']}",
                subprotocols=body["ws_protocols"],
                additional_headers={"Origin": f"http://{citizen_base}"},
            )
        except websockets.InvalidStatus as error:
            status = error.response.status_code
            raise StartFailed(f"citizen socket: HTTP {status}") from error
        except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
            raise StartFailed(f"citizen socket: {error!r}"[:200]) from error
        citizens.append((body["contact_id"], socket))
        tasks.append(asyncio.create_task(drain(socket)))

    timeout = aiohttp.ClientTimeout(total=60)
    # No client-side connection limit: requests queue in the server, not in aiohttp's pool.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        outcomes = await asyncio.gather(
            *(start_chat(http, n) for n in range(chats)), return_exceptions=True
        )
    start_errors = [str(o) for o in outcomes if isinstance(o, BaseException)]
    starts = sorted(started.values())
    start_rate = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else 0.0

    await poll(lambda: {c for c, _ in citizens} <= assigned, args.place_timeout)
    placed = [(c, s) for c, s in citizens if c in assigned]
    await asyncio.sleep(1)

    result = await chat_phase(args, [(str(c), s) for c, s in placed], tally, meter)
    await close_all([*agents, *(s for _, s in citizens)])
    for task in tasks:
        task.cancel()
    result.update(
        {
            "agents": len(agents),
            "start_rate": round(start_rate, 1),
            "start_errors": dict(Counter(start_errors).most_common(5)),
            "first_start_errors": list(dict.fromkeys(start_errors))[:3],
            "start_failures": len(start_errors),
            "chat_start_ms": summary(start_latency),
            "offer_ms": summary(list(offer_latency.values())),
            "unplaced": chats - len(placed),
            "error_frames": len(errors),
            "first_errors": errors[:3],
        }
    )
    return result


# --- one scenario ---------------------------------------------------------------------------
def scenario(args, chats: int) -> dict:
    agents = args.agents or math.ceil(chats / args.per_agent)
    per_agent = max(args.per_agent, math.ceil(chats / agents))
    prefix = f"open120-bench-{os.getpid()}-{chats}"
    result: dict = {"chats": chats, "agents": agents, "per_agent": per_agent}
    echo_ports = (args.port + 10, args.port + 11)
    print(
        f"\n== {chats} chats: echo floor on :{echo_ports[0]} (agents) :{echo_ports[1]}", flush=True
    )
    env = echo_environment(args, prefix + "-echo")
    name = f"echo-{chats}"
    servers = [start_server(env, p, "bench.echo_asgi:application", name) for p in echo_ports]
    try:
        meter = CpuMeter([s.pid for s in servers], args.redis)
        result["floor"] = asyncio.run(floor_run(args, chats, echo_ports, meter))
    finally:
        stop_servers(servers)
    result["floor"]["server_errors"] = server_errors([log_path(name, p) for p in echo_ports])
    print(f"   floor: {line(result['floor'])}", flush=True)
    if args.floor_only:
        return result

    app_ports = (args.port, args.port + 1)
    print(
        f"== {chats} chats: app, fresh {DB_NAME}, {agents} agents × {per_agent} chats"
        f" on :{app_ports[0]}, citizens on :{app_ports[1]}",
        flush=True,
    )
    env = app_environment(args, prefix)
    cookies = fresh_database(env, agents, per_agent)
    name = f"daphne-{chats}"
    servers = [start_server(env, p, "callcenter.asgi:application", name) for p in app_ports]
    try:
        meter = CpuMeter([s.pid for s in servers], args.redis)
        result["app"] = asyncio.run(app_run(args, chats, cookies, app_ports, meter))
    finally:
        stop_servers(servers)
    app = result["app"]
    app["server_errors"] = server_errors([log_path(name, p) for p in app_ports])
    print(f"   app:   {line(app)}", flush=True)
    print(
        f"   offers: {fmt(app['offer_ms'])}; chats started at {app['start_rate']}/s"
        f" (asked {args.rate:g}/s), POST /chat/start p50 {app['chat_start_ms']['p50']}"
        f" p99 {app['chat_start_ms']['p99']} ms,"
        f" unplaced {app['unplaced']}, start failures {app['start_failures']}"
        f"{' ' + json.dumps(app['start_errors']) if app['start_errors'] else ''},"
        f" error frames {app['error_frames']}",
        flush=True,
    )
    floor_p99, app_p99 = result["floor"]["latency_ms"]["p99"], app["latency_ms"]["p99"]
    result["ratio"] = round(app_p99 / floor_p99, 2) if floor_p99 and app_p99 else None
    return result


def fmt(s: dict) -> str:
    if not s["n"]:
        return "n=0"
    return f"n={s['n']} p50={s['p50']} p95={s['p95']} p99={s['p99']} max={s['max']} ms"


def line(run: dict) -> str:
    cpu = run["cpu_percent"]
    text = (
        f"{run['msg_per_s']} msg/s, {fmt(run['latency_ms'])}, never echoed {run['never_echoed']}"
        f" | CPU % of a core: client {cpu['client']}, daphne A {cpu['daphne_a']},"
        f" B {cpu['daphne_b']}, redis {cpu['redis']}, rest (PostgreSQL, other work)"
        f" {cpu['rest']}; machine {cpu['machine']} % of all cores"
    )
    if run["send_failures"]:
        text += f"\n          {run['send_failures']} sockets closed by the server mid-run"
    for error, count in run.get("server_errors", {}).items():
        text += f"\n          server logged {count}× {error}"
    return text


# --- report ---------------------------------------------------------------------------------
def cell(value) -> str:
    return "—" if value is None else f"{value:g}"


def table(results: list[dict]) -> str:
    head = (
        "| chats | placed | msg/s | msg p50 | p95 | p99 | max | never echoed "
        "| floor p50 | floor p99 | floor never echoed | offers p50 | offers p99 "
        "| app p99 / floor p99 |"
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['chats']} | failed: {r['error']} |")
            continue
        app, floor = r["app"], r["floor"]
        m, f, o = app["latency_ms"], floor["latency_ms"], app["offer_ms"]
        rows.append(
            f"| {r['chats']} | {r['chats'] - app['unplaced']} | {app['msg_per_s']:g}"
            f" | {cell(m['p50'])} | {cell(m['p95'])}"
            f" | {cell(m['p99'])} | {cell(m['max'])} | {app['never_echoed']}"
            f" | {cell(f['p50'])} | {cell(f['p99'])} | {floor['never_echoed']}"
            f" | {cell(o['p50'])} | {cell(o['p99'])} | {cell(r['ratio'])}× |"
        )
    return "\n".join(rows) + "\n(latencies in ms)"


def aims(r: dict) -> list[tuple[bool, str]]:
    app, floor = r["app"], r["floor"]
    p99, floor_p99, offer_p99 = (
        app["latency_ms"]["p99"],
        floor["latency_ms"]["p99"],
        app["offer_ms"]["p99"],
    )
    lost = app["never_echoed"] + floor["never_echoed"] + app["unplaced"] + app["start_failures"]
    # Latency at a lower load than asked proves nothing: all chats must be talking.
    full = not app["unplaced"]
    partial = "" if full else f"; only {r['chats'] - app['unplaced']} of {r['chats']} chats placed"
    return [
        (
            full and p99 is not None and p99 < AIM_P99_MS,
            f"message p99 < {AIM_P99_MS} ms ({p99} ms{partial})",
        ),
        (
            full
            and p99 is not None
            and floor_p99 is not None
            and not floor["never_echoed"]
            and p99 <= AIM_FLOOR_RATIO * floor_p99,
            f"message p99 ≤ {AIM_FLOOR_RATIO}× echo floor ({p99} ms vs floor {floor_p99} ms:"
            f" {cell(r['ratio'])}×{partial}"
            + ("; the floor lost messages, so it is no floor)" if floor["never_echoed"] else ")"),
        ),
        (
            offer_p99 is not None and offer_p99 < AIM_OFFER_P99_MS,
            f"offers p99 < {AIM_OFFER_P99_MS} ms ({offer_p99} ms)",
        ),
        (
            lost == 0,
            f"zero lost (never echoed: app {app['never_echoed']}, floor"
            f" {floor['never_echoed']}; chats unplaced {app['unplaced']}, failed to start"
            f" {app['start_failures']})",
        ),
    ]


def git(*command: str) -> str:
    out = subprocess.run(["git", *command], cwd=BASE_DIR, capture_output=True, text=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--chats", default="200,1000", help="concurrent chats, one scenario each: 200,1000"
    )
    parser.add_argument("--per-agent", type=int, default=5, help="chats an agent takes at most")
    parser.add_argument("--agents", type=int, default=0, help="default: chats / --per-agent")
    parser.add_argument(
        "--rate", type=float, default=20, help="chats started per second (both processes)"
    )
    parser.add_argument(
        "--interval", type=float, default=2.0, help="s between a citizen's messages"
    )
    parser.add_argument("--duration", type=float, default=30, help="seconds of chatting")
    parser.add_argument("--drain", type=float, default=5, help="s to wait for the last echoes")
    parser.add_argument("--place-timeout", type=float, default=60, help="s to place all chats")
    parser.add_argument(
        "--port", type=int, default=8301, help="app on it and +1, floor on +10, +11"
    )
    parser.add_argument("--floor-only", action="store_true", help="skip the app (to try things)")
    parser.add_argument(
        "--floor-max-connections",
        type=int,
        default=0,
        help="the floor's Redis pool size (default: redis-py's, as the app's layer has)",
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    counts = [int(c) for c in args.chats.split(",") if c.strip()]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(soft, min(hard, 8 * max(counts) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the daphnes inherit it
    (BASE_DIR / "var").mkdir(exist_ok=True)
    started = datetime.now(UTC)
    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    print(
        f"bench/realtime.py {started:%Y-%m-%d %H:%M} UTC, commit {commit}"
        f"{' + uncommitted changes' if dirty else ''}, {os.cpu_count()} cores;"
        f" each citizen a message every {args.interval:g} s for {args.duration:g} s,"
        f" chats started at {args.rate:g}/s",
        flush=True,
    )
    if not args.floor_only:
        print(f"migrating {TEMPLATE_DB} …", flush=True)
        build_template(app_environment(args, "open120-bench-template"))

    results = []
    for chats in counts:
        try:
            results.append(scenario(args, chats))
        except Exception as error:  # noqa: BLE001 - reported, and the run fails
            print(f"   scenario {chats} failed: {error!r}", file=sys.stderr, flush=True)
            results.append({"chats": chats, "error": repr(error)})

    failures = []
    if not args.floor_only:
        print()
        print(table(results))
    for r in results:
        if "error" in r:
            failures.append(f"{r['chats']} chats: the scenario failed ({r['error']})")
            continue
        if args.floor_only:
            if r["floor"]["never_echoed"]:
                failures.append(f"{r['chats']} chats: floor messages were never echoed")
            continue
        print(f"\naims at {r['chats']} chats ({r['app']['msg_per_s']:g} msg/s):")
        for ok, text in aims(r):
            print(f"  {'PASS' if ok else 'MISS'}  {text}")
        app, floor = r["app"], r["floor"]
        if app["never_echoed"] or floor["never_echoed"]:
            failures.append(
                f"{r['chats']} chats: {app['never_echoed']} app and {floor['never_echoed']}"
                " floor messages were never echoed"
            )
        if app["unplaced"] or app["start_failures"]:
            failures.append(
                f"{r['chats']} chats: {app['unplaced']} chats never placed with an agent"
                f" ({app['start_failures']} failed to start)"
            )

    RESULTS.write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "commit": commit,
                "uncommitted_changes": dirty,
                "cores": os.cpu_count(),
                "args": vars(args),
                "aims": {
                    "message_p99_ms": AIM_P99_MS,
                    "floor_ratio": AIM_FLOOR_RATIO,
                    "offer_p99_ms": AIM_OFFER_P99_MS,
                },
                "scenarios": results,
                "failures": failures,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"\nresults in {RESULTS.relative_to(BASE_DIR)}")
    if failures:
        banner = "!" * 78
        print(f"\n{banner}\nBENCH FAILED: messages or chats were lost", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        print(banner, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
