"""Phone webhooks under load: /twilio/voice/incoming and the wait URL, signed as Twilio
signs them, against two daphne processes, beside a bare Django view returning fixed TwiML
(bench/twiml_bare.py, the floor: this project's settings and middleware, one constant view,
no database) in the same run.

    .venv/bin/python bench/voice.py                    # 100 requests/s for 20 s each
    .venv/bin/python bench/voice.py --rate 200 --duration 10

For each target (the floor, then the app on a fresh PostgreSQL database copied from a
migrated template, Redis for the channel layer) and each webhook, requests go out at
--rate per second on a fixed schedule, alternating between the two processes as a load
balancer would. Every incoming call has its own CallSid (a new contact and caller); the wait
URL is asked for calls queued beforehand (not timed). Latency is request sent → response
read, on one monotonic clock; a non-200 answer counts as an error.

Aims (issue "Phone"): p99 ≤ 2× the bare view and under 50 ms at 100 requests/s.
Results also go to var/bench-voice.json.
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

import aiohttp
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import realtime  # noqa: E402 - the shared server, database and figure helpers

BASE_DIR = realtime.BASE_DIR
AUTH_TOKEN = "bench-voice-token-" + "v" * 14
PUBLIC_BASE_URL = "https://120.bench.example"
RESULTS = BASE_DIR / "var" / "bench-voice.json"
AIM_P99_MS = 50
AIM_FLOOR_RATIO = 2
now = time.monotonic


def app_environment(args) -> dict[str, str]:
    return {
        **realtime.app_environment(args, f"open120-bench-voice-{os.getpid()}"),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }


def fresh_database(env: dict[str, str]) -> None:
    realtime.psql(f"DROP DATABASE IF EXISTS {realtime.DB_NAME} WITH (FORCE)")
    realtime.psql(f"CREATE DATABASE {realtime.DB_NAME} TEMPLATE {realtime.TEMPLATE_DB}")
    script = """
from callcenter.models import Queue, Skill
korean = Skill.objects.create(code="lang-ko", name="한국어", kind="language")
general = Queue.objects.create(code="general", name="일반", channels=["voice"])
general.required_skills.set([korean])
Queue.objects.create(code="foreign", name="외국어", channels=["voice"])
"""
    subprocess.run(
        [realtime.PYTHON, "manage.py", "shell", "-c", script], cwd=BASE_DIR, env=env, check=True
    )


def params(call_sid: str, **extra) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"+8210{int(call_sid[-8:], 16) % 100_000_000:08d}",
        "To": "+8220120120",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


def signed(path: str, form: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, form)
    return {"X-Twilio-Signature": signature}


async def load(args, ports, path: str, forms: list[dict]) -> dict:
    """POST each form at --rate per second; latency and errors."""
    latency: list[float] = []
    errors: list[str] = []
    first = now() + 0.2

    async def one(http, n: int, form: dict) -> None:
        await asyncio.sleep(max(0.0, first + n / args.rate - now()))
        port = ports[n % 2]
        sent = now()
        try:
            async with http.post(
                f"http://127.0.0.1:{port}{path}", data=form, headers=signed(path, form)
            ) as response:
                await response.read()
                if response.status != 200:
                    errors.append(f"HTTP {response.status}")
                    return
        except (aiohttp.ClientError, TimeoutError) as error:
            errors.append(repr(error)[:80])
            return
        latency.append(now() - sent)

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    started = now()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(one(http, n, form) for n, form in enumerate(forms)))
    elapsed = now() - started
    return {
        "requests": len(forms),
        "rps": round(len(latency) / elapsed, 1),
        "latency_ms": realtime.summary(latency),
        "errors": len(errors),
        "first_errors": list(dict.fromkeys(errors))[:3],
    }


def sids(prefix: str, count: int) -> list[str]:
    return [f"CA{prefix}{n:030x}"[:34] for n in range(count)]


def run_target(args, name: str, app: str, env: dict, ports) -> dict:
    servers = [realtime.start_server(env, p, app, f"voice-{name}") for p in ports]
    count = int(args.rate * args.duration)
    try:
        incoming = asyncio.run(
            load(args, ports, "/twilio/voice/incoming", [params(s) for s in sids("a1", count)])
        )
        waiting = sids("b2", min(count, 500))
        if name == "app":  # calls in the queue for the wait URL (not timed)
            setup = [params(s) for s in waiting]
            asyncio.run(load(args, ports, "/twilio/voice/incoming", setup))
            menu = [params(s, Digits="0") for s in waiting]
            asyncio.run(load(args, ports, "/twilio/voice/menu", menu))
        forms = [params(waiting[n % len(waiting)], QueuePosition="1") for n in range(count)]
        wait = asyncio.run(load(args, ports, "/twilio/voice/wait", forms))
    finally:
        realtime.stop_servers(servers)
    errors = realtime.server_errors([realtime.log_path(f"voice-{name}", p) for p in ports])
    return {"incoming": incoming, "wait": wait, "server_errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="requests per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds per webhook")
    parser.add_argument("--port", type=int, default=8320)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    commit = realtime.git("rev-parse", "--short", "HEAD")
    print(
        f"bench/voice.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{os.cpu_count()} cores; {args.rate:g} requests/s for {args.duration:g} s per webhook",
        flush=True,
    )
    env = app_environment(args)
    realtime.build_template(env)
    results = {}
    print("== floor: a bare view of this project (its middleware), fixed TwiML", flush=True)
    floor_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.twiml_bare"}
    results["floor"] = run_target(
        args, "floor", "bench.twiml_bare:application", floor_env, (args.port + 10, args.port + 11)
    )
    print("== app: /twilio/voice/incoming and /twilio/voice/wait", flush=True)
    fresh_database(env)
    results["app"] = run_target(
        args, "app", "callcenter.asgi:application", env, (args.port, args.port + 1)
    )
    print("\n| webhook | target | req/s | p50 | p95 | p99 | max | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for hook in ("incoming", "wait"):
        for target in ("floor", "app"):
            r = results[target][hook]
            lat = r["latency_ms"]
            print(
                f"| {hook} | {target} | {r['rps']} | {lat['p50']} | {lat['p95']} | {lat['p99']} "
                f"| {lat['max']} | {r['errors']} |"
            )
    print("(latencies in ms)\n")
    failed = False
    for hook in ("incoming", "wait"):
        app, floor = results["app"][hook], results["floor"][hook]
        p99, floor_p99 = app["latency_ms"]["p99"], floor["latency_ms"]["p99"]
        failed |= bool(app["errors"] or floor["errors"])
        if p99 is None or floor_p99 is None:
            print(f"  MISS  {hook}: no answers")
            continue
        ratio = p99 / floor_p99
        for ok, text in (
            (p99 < AIM_P99_MS, f"{hook}: p99 < {AIM_P99_MS} ms ({p99} ms)"),
            (ratio <= AIM_FLOOR_RATIO, f"{hook}: p99 ≤ 2× bare view ({ratio:.2f}×)"),
        ):
            print(f"  {'PASS' if ok else 'MISS'}  {text}")
    for target in ("floor", "app"):
        if results[target]["server_errors"]:
            print(f"  {target} logged: {results[target]['server_errors']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"commit": commit, "rate": args.rate, "results": results}, indent=2)
    )
    print(f"results in {RESULTS.relative_to(BASE_DIR)}")
    if failed:
        print("BENCH FAILED: some requests were not answered 200")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
