"""Whole phone calls end to end: the IVR, the queue, the offer, the agent's accept, the
bridge into the conference, talk and the hang-up, against a real server.

    .venv/bin/python bench/voice_call.py                      # 20 calls, 4 at a time
    .venv/bin/python bench/voice_call.py --calls 50 --agents 8 --talk 1

Processes: one daphne (callcenter.asgi, its router loop on, as in production) and one
Celery worker (it sends the call commands: VOICE_BACKEND=simulated keeps Twilio's REST
requests on the outbox rows) on a fresh PostgreSQL database (open120_bench_call) and Redis
(--redis, a database of its own by default so no other worker takes the tasks).

The callers are ``channels_app.voice_simulator.SimulatedCall`` (this process plays Twilio:
signed webhooks, TwiML followed, the REST requests answered with Twilio's callbacks), --agents
of them at a time, each pressing 1 and hanging up after --talk s of conversation. The agents
are scripted consoles on the agent WebSocket API: available, ``offer.accept`` as soon as an
``offer.created`` arrives; once the call is over its wrap-up is finished (forced, as the
wrap-up time limit would: the scripted agent writes no ticket).

Phases, on this process's monotonic clock: IVR (first webhook → in the queue), queue →
offer at the agent's socket, offer → caller bridged (the accept, the worker sending the
REST redirect, the engine reading it), bridged → agent's softphone in the conference, talk,
hang-up → call over (the callbacks), and the total. The engine reads the outbox every
--poll s, which bounds how soon it sees a command. p50/p99/max per phase, one example
timeline, and var/bench-voice-call.json.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import realtime  # noqa: E402 - the shared server and figure helpers

BASE_DIR = realtime.BASE_DIR
DB_NAME = "open120_bench_call"
AUTH_TOKEN = "bench-voice-call-token-" + "c" * 10
PUBLIC_BASE_URL = "https://120.bench.example"
RESULTS = BASE_DIR / "var" / "bench-voice-call.json"
PHASES = (
    ("ivr", "IVR (incoming → queued)"),
    ("offer", "queue → offer at the agent"),
    ("accept", "offer → caller bridged"),
    ("bridge", "bridged → agent in conference"),
    ("talk", "talk"),
    ("end", "hang-up → call over"),
    ("total", "total"),
)
now = time.monotonic


def environment(args) -> dict[str, str]:
    env = realtime.app_environment(args, f"open120-bench-call-{os.getpid()}")
    return {
        **env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "VOICE_BACKEND": "simulated",
        "ROUTER_TICKER": "1",
    }


def fresh_database(env: dict[str, str], agents: int) -> list[tuple[int, str]]:
    """A migrated database with the phone queue and the agents: (agent id, session cookie)."""
    realtime.psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    realtime.psql(f"CREATE DATABASE {DB_NAME}")
    subprocess.run(
        [realtime.PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True
    )
    return realtime.agents_create(
        env, agents=agents, queue=("general", "일반", "voice"), name="caller-bench"
    )


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    log = open(realtime.log_path("voice-call", 0), "w")  # noqa: SIM115 - lives with the process
    worker = subprocess.Popen(
        [realtime.PYTHON, "-m", "celery", "-A", "callcenter", "worker", "--pool=threads",
         "--concurrency=4", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = now() + 30
    while now() < deadline:
        if "ready." in realtime.log_path("voice-call", 0).read_text(errors="replace"):
            return worker
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    worker.kill()
    raise RuntimeError(f"the worker did not start; see {realtime.log_path('voice-call', 0)}")


class Agents:
    """Scripted consoles: available, and accept every offer at once."""

    def __init__(self) -> None:
        self.sockets: dict[int, object] = {}
        self.offered: dict[int, float] = {}  # contact id → when the offer arrived
        self.errors: list[dict] = []
        self.tasks: list[asyncio.Task] = []

    async def connect(self, base: str, agents: list[tuple[int, str]]) -> None:
        host = base.removeprefix("http://")
        for agent_id, cookie in agents:
            socket = await realtime.connect(
                f"ws://{host}/ws/agent/",
                additional_headers={"Cookie": cookie, "Origin": base},
            )
            self.sockets[agent_id] = socket
            self.tasks.append(asyncio.create_task(self.read(socket)))
            await socket.send(json.dumps({"type": "presence.set", "presence": "available"}))

    async def read(self, socket) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("type") == "offer.created":
                    self.offered.setdefault(frame["offer"]["contact_id"], now())
                    accept = {"type": "offer.accept", "offer_id": frame["offer"]["id"]}
                    await socket.send(json.dumps(accept))
                elif frame.get("type") == "error":
                    self.errors.append(frame)
        except websockets.ConnectionClosed:
            pass

    async def close(self) -> None:
        await realtime.close_all(list(self.sockets.values()))
        for task in self.tasks:
            task.cancel()


def wrap_up(call_sid: str) -> int:
    """The agent finishes the call's wrap-up (forced, as its time limit would: the scripted
    agent writes no ticket); the contact's id."""
    from callcenter.models import Contact  # Django is set up by main() first
    from callcenter.services.routing import RoutingError, contact_wrapup_complete

    contact = Contact.objects.filter(provider_id=call_sid).select_related("agent").first()
    if contact is None:
        return 0
    if contact.agent is not None:
        try:
            contact_wrapup_complete(contact=contact, agent=contact.agent, forced=True)
        except RoutingError as error:
            print(f"  wrap-up of contact {contact.pk}: {error}")
    return contact.pk


async def run_calls(args, base: str, agents: list[tuple[int, str]]) -> list[dict]:
    from channels_app.voice_simulator import SimulatedCall

    console = Agents()
    await console.connect(base, agents)
    await asyncio.sleep(1)
    calls: list[dict] = []
    gate = asyncio.Semaphore(len(agents))

    async def one(n: int) -> None:
        async with gate:
            engine = SimulatedCall(
                base_url=base,
                public_base_url=PUBLIC_BASE_URL,
                auth_token=AUTH_TOKEN,
                from_number=f"+8210{5000_0000 + n:08d}",
                digits="1",
                lines=["여권 재발급은 어디서 하나요?"],
                agent_lines=["가까운 구청 여권민원실에서 하실 수 있습니다."],
                talk_seconds=args.talk,
                wait_timeout=args.wait_timeout,
                poll_seconds=args.poll,
                line_every_seconds=max(args.talk / 3, 0.1),
            )
            result = await asyncio.to_thread(engine.place)
            contact_id = await asyncio.to_thread(wrap_up, engine.call_sid)
            phases = result.phases()
            offered = console.offered.get(contact_id)
            marks = result.marks
            if offered is not None and "queued" in marks and "bridged" in marks:
                offered_at = offered - engine.started
                phases["offer"] = round(offered_at - marks["queued"], 3)
                phases["accept"] = round(marks["bridged"] - offered_at, 3)
            calls.append({"result": result, "phases": phases, "contact_id": contact_id})

    try:
        await asyncio.gather(*(one(n) for n in range(args.calls)))
        await asyncio.sleep(0.5)
    finally:
        await console.close()
    if console.errors:
        print(f"  agent errors: {console.errors[:3]}")
    return calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--agents", type=int, default=4, help="agents, and calls at a time")
    parser.add_argument("--talk", type=float, default=1.0, help="seconds of conversation")
    parser.add_argument("--poll", type=float, default=0.05, help="engine's outbox poll (s)")
    parser.add_argument("--wait-timeout", type=float, default=60)
    parser.add_argument("--port", type=int, default=8340)
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_CALL_REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    args = parser.parse_args()
    commit = realtime.git("rev-parse", "--short", "HEAD")
    print(
        f"bench/voice_call.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{os.cpu_count()} cores; {args.calls} calls, {args.agents} agents, talk {args.talk:g} s",
        flush=True,
    )
    env = environment(args)
    agents = fresh_database(env, args.agents)
    os.environ.update({k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "callcenter.settings"
    os.environ["ROUTER_TICKER"] = "0"  # this process only plays Twilio and the agents
    django.setup()
    server = realtime.start_server(env, args.port, "callcenter.asgi:application", "voice-call")
    worker = start_worker(env)
    started = now()
    try:
        calls = asyncio.run(run_calls(args, f"http://127.0.0.1:{args.port}", agents))
    finally:
        realtime.stop_servers([server, worker])
    elapsed = now() - started
    completed = [c for c in calls if c["result"].outcome == "시민이 전화를 끊음"]
    failed = [c for c in calls if c not in completed]
    print(f"\n{len(completed)}/{args.calls} calls completed in {elapsed:.1f} s")
    print("\n| phase | calls | p50 s | p99 s | max s |\n|---|---|---|---|---|")
    figures = {}
    for key, label in PHASES:
        values = [c["phases"][key] for c in completed if key in c["phases"]]
        stats = realtime.summary(values)  # milliseconds
        figures[key] = stats
        cells = [
            "-" if stats[p] is None else f"{stats[p] / 1000:.3f}" for p in ("p50", "p99", "max")
        ]
        print(f"| {label} | {len(values)} | {' | '.join(cells)} |")
    if calls:
        example = (completed or calls)[0]["result"]
        print(f"\nExample timeline ({example.call_sid}):\n{example.timeline()}")
    for call in failed[:3]:
        print(f"\nFAILED call {call['result'].call_sid}: {call['result'].outcome}")
        print("\n".join(step.line() for step in call["result"].steps[-8:]))
    errors = realtime.server_errors(
        [realtime.log_path("voice-call", args.port), realtime.log_path("voice-call", 0)]
    )
    if errors:
        print(f"\nserver/worker logged: {errors}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "commit": commit,
                "calls": args.calls,
                "agents": args.agents,
                "talk": args.talk,
                "completed": len(completed),
                "phases_ms": figures,
                "example": completed[0]["result"].timeline() if completed else "",
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"results in {RESULTS.relative_to(BASE_DIR)}")
    if failed:
        print(f"BENCH FAILED: {len(failed)} calls did not complete")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
