"""Reports benchmark: five million contacts, the rollups' rebuild and the report page.

    make bench-reports                                      # 5,000,000 contacts over 365 days
    .venv/bin/python bench/reports.py --contacts 200000     # a quick look first
    .venv/bin/python bench/reports.py --reuse               # the same database, times only
    .venv/bin/python bench/reports.py --reuse --rebuild     # …and time rebuild_stats again

Data (PostgreSQL only: the database open120_bench_reports on 127.0.0.1, trust auth, is
dropped and created here; ``--database-url`` names another PostgreSQL database, SQLite is
refused)
    ``manage.py load_demo --no-history`` (queues, categories, departments, SLA policies,
    people, the KB), then ``manage.py generate_contacts --contacts N --days D`` (the demo
    month's generator, callcenter.services.demo_history, ending yesterday: a Monday peak,
    morning peak and lunch dip, every channel, simulated queues with abandons, tickets,
    transfers, repeat contacts, surveys, agents' presence; it prints rows/s), then
    ANALYZE (the indexes FCR needs, a contact's and a ticket's citizen with their time, come
    with the migrations). ``--no-messages`` generates no chat transcripts.

Figures
    1. the generation (wall time, rows/s as generate_contacts prints them);
    2. ``manage.py rebuild_stats`` over the whole range (wall time, rows written);
    3. GET /supervisor/reports/?from=…&to=…&interval=day&source=rollup|raw through
       django.test.Client logged in as supervisor1, for the last 30 days and the last 365
       days by day: p50/p95/max ms over ``--repeats`` requests for rollups (after one
       warm-up request, not counted) and ``--raw-repeats`` for raw rows (a raw year takes
       minutes at millions of contacts), with the status and the page's size;
    4. callcenter.metrics.report(interval="day") alone for the same ranges and sources.
    The aim: any report under 300 ms.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_DB = "open120_bench_reports"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
RESULT = "RESULT "


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def manage(database_url: str, *args: str) -> float:
    """Run a manage.py command with its output shown; its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=environment(database_url), check=True
    )
    return time.perf_counter() - started


def psql(database: str, *statements: str) -> None:
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    for statement in statements:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", statement],
            check=True,
            env=env,
        )


def database_name(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise SystemExit("bench/reports.py runs on PostgreSQL only (SQLite is refused).")
    return parsed.path.lstrip("/")


def prepare(args, url: str) -> dict:
    name = database_name(url)
    figures = {}
    if not args.reuse:
        psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        manage(url, "migrate", "-v0", "--noinput")
        manage(url, "load_demo", "--no-history")
        command = ["generate_contacts", "--contacts", str(args.contacts), "--days", str(args.days)]
        command += ["--seed", str(args.seed)]
        if args.no_messages:
            command.append("--no-messages")
        figures["generate_s"] = manage(url, *command)
    psql(name, "ANALYZE")
    if not args.reuse or args.rebuild:
        first, last = span(args.days)
        rebuild = ["rebuild_stats", "--from", first, "--to", last, "--no-progress"]
        figures["rebuild_s"] = manage(url, *rebuild)
    return figures


def span(days: int) -> tuple[str, str]:
    """The generated days: ``days`` Seoul days ending yesterday (generate_contacts' default)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    yesterday = datetime.now(ZoneInfo("Asia/Seoul")).date() - timedelta(days=1)
    return (yesterday - timedelta(days=days - 1)).isoformat(), yesterday.isoformat()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def worker(args) -> dict:
    """In the benchmark database's process: time the page and metrics.report."""
    from datetime import date

    from django.db import connection
    from django.test import Client

    from callcenter import metrics
    from callcenter.models import Contact, StatRow, User
    from tickets.models import SurveyAnswer, Ticket

    first, last = (date.fromisoformat(day) for day in span(args.days))
    ranges = {
        "month": (last - timedelta(days=29), last),
        "year": (max(first, last - timedelta(days=364)), last),
    }
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(username="supervisor1"))
    result = {
        "contacts": Contact.objects.count(),
        "tickets": Ticket.objects.count(),
        "answers": SurveyAnswer.objects.count(),
        "statrows": StatRow.objects.count(),
        "page": [],
        "report": [],
    }
    for name, (start, end) in ranges.items():
        for source in ("rollup", "raw"):
            repeats = args.repeats if source == "rollup" else args.raw_repeats
            query = {"from": start, "to": end, "interval": "day", "source": source}
            # Rollup reports get a warm-up request that is not counted; raw ones are slow
            # enough that the first request is as good as any.
            warm = 1 if source == "rollup" else 0
            times, status, size = [], None, 0
            for attempt in range(repeats + warm):
                started = time.perf_counter()
                response = client.get("/supervisor/reports/", query)
                elapsed = (time.perf_counter() - started) * 1000
                status, size = response.status_code, len(response.content)
                if attempt >= warm:
                    times.append(elapsed)
            result["page"].append(
                {"range": name, "source": source, "status": status, "bytes": size} | summary(times)
            )
            print(f"page {name} {source}: {result['page'][-1]}", file=sys.stderr, flush=True)
            times, rows = [], 0
            for attempt in range(repeats + warm):
                started = time.perf_counter()
                rows = len(metrics.report(start=start, end=end, interval="day", source=source))
                elapsed = (time.perf_counter() - started) * 1000
                if attempt >= warm:
                    times.append(elapsed)
            result["report"].append(
                {"range": name, "source": source, "rows": rows, "n": repeats} | summary(times)
            )
            print(f"report {name} {source}: {result['report'][-1]}", file=sys.stderr, flush=True)
    result["database"] = connection.settings_dict["NAME"]
    return result


def print_results(figures: dict, result: dict) -> None:
    print()
    print(
        f"== {result['database']}: {result['contacts']:,} contacts, {result['tickets']:,} "
        f"tickets, {result['answers']:,} survey answers, {result['statrows']:,} StatRow rows"
    )
    if "generate_s" in figures:
        print(f"generate_contacts: {figures['generate_s']:.0f} s")
    if "rebuild_s" in figures:
        print(f"rebuild_stats over the whole range: {figures['rebuild_s']:.0f} s")
    for title, rows, extra in (
        ("GET /supervisor/reports/ (interval=day)", result["page"], "status"),
        ("callcenter.metrics.report(interval='day')", result["report"], "rows"),
    ):
        print()
        print(title)
        print(
            f"{'range':<8}{'source':<8}{extra:>8}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
        )
        for row in rows:
            n = row.get("n", "")
            print(
                f"{row['range']:<8}{row['source']:<8}{row[extra]:>8}{n:>5}{row['p50']:>10.1f}"
                f"{row['p95']:>10.1f}{row['max']:>10.1f}"
            )
    rollups = [row for row in result["page"] + result["report"] if row["source"] == "rollup"]
    slowest = max(row["p95"] for row in rollups)
    verdict = "met" if slowest < 300 else "missed"
    print(
        f"\nAim: every report from rollups under 300 ms (p95) — {verdict} "
        f"(slowest p95 {slowest:.0f} ms); raw rows are the cross-check, not the serving path"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=20, help="requests per rollup report")
    parser.add_argument(
        "--raw-repeats", type=int, default=1, help="requests per raw report (a year is slow)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database's data")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild too")
    parser.add_argument(
        "--no-messages", action="store_true", help="generate no chat transcripts (faster)"
    )
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        print(RESULT + json.dumps(worker(args), default=str))
        return
    database_name(args.database_url)
    started = time.perf_counter()
    figures = prepare(args, args.database_url)
    command = [PYTHON, __file__, "--worker", "--days", str(args.days)]
    command += ["--repeats", str(args.repeats), "--raw-repeats", str(args.raw_repeats)]
    process = subprocess.run(
        command,
        cwd=BASE_DIR,
        env=environment(args.database_url),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout.splitlines():
        if line.startswith(RESULT):
            print_results(figures, json.loads(line[len(RESULT) :]))
            break
        print(line)
    else:
        raise SystemExit("the worker printed no result")
    print(f"\nbench/reports.py took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
