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
       days by day (and the year compared with the year before): p50/p95/max ms over
       ``--repeats`` requests for rollups (after one warm-up request, not counted) and
       ``--raw-repeats`` for raw rows, with the status and the page's size;
    4. callcenter.metrics.report(interval="day") alone for the same ranges and sources
       (the raw year through the page only: it takes many minutes at millions of contacts;
       ``--no-raw-year`` leaves it out);
    5. the page from the rollups for every group × (a month by 15 minutes, hour, day; a
       year by day, week, month), ``--matrix-repeats`` requests each.
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


# Every cut a supervisor can ask the page for, from the rollups: (range, interval) × group.
MATRIX = [
    ("month", "15m"),
    ("month", "hour"),
    ("month", "day"),
    ("year", "day"),
    ("year", "week"),
    ("year", "month"),
]
GROUPS = ("none", "channel", "queue", "agent", "category", "department")


def _timed(call, repeats: int, warm: int) -> tuple[list[float], object]:
    """``call()`` ``warm + repeats`` times; the last ``repeats`` wall times in ms, the last
    result."""
    times, result = [], None
    for attempt in range(repeats + warm):
        started = time.perf_counter()
        result = call()
        elapsed = (time.perf_counter() - started) * 1000
        if attempt >= warm:
            times.append(elapsed)
    return times, result


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
        "matrix": [],
    }

    def page(name: str, source: str, repeats: int, warm: int, **query) -> None:
        start, end = ranges[name]
        query = {"from": start, "to": end, "interval": "day", "source": source, **query}
        times, response = _timed(lambda: client.get("/supervisor/reports/", query), repeats, warm)
        row = {"range": name, "source": source, "status": response.status_code}
        row |= {"bytes": len(response.content), "n": repeats} | summary(times)
        row |= {key: query[key] for key in ("interval", "group", "compare") if key in query}
        (result["matrix"] if "group" in query else result["page"]).append(row)
        print(f"page {row}", file=sys.stderr, flush=True)

    def report(name: str, source: str, repeats: int, warm: int) -> None:
        start, end = ranges[name]
        times, rows = _timed(
            lambda: metrics.report(start=start, end=end, interval="day", source=source),
            repeats,
            warm,
        )
        row = {"range": name, "source": source, "rows": len(rows), "n": repeats}
        result["report"].append(row | summary(times))
        print(f"report {result['report'][-1]}", file=sys.stderr, flush=True)

    # Rollups first (one warm-up request each, not counted), then every cut of the page.
    for name in ranges:
        page(name, "rollup", args.repeats, 1)
        report(name, "rollup", args.repeats, 1)
    page("year", "rollup", args.repeats, 1, compare="1")
    for name, interval in MATRIX:
        for group in GROUPS:
            page(name, "rollup", args.matrix_repeats, 1, interval=interval, group=group)
    # Raw rows, the cross-check, last: a raw year takes long at millions of contacts, so its
    # metrics.report() is timed through the page only (the same computation).
    if args.no_raw:
        result["database"] = connection.settings_dict["NAME"]
        return result
    page("month", "raw", args.raw_repeats, 0)
    report("month", "raw", args.raw_repeats, 0)
    if not args.no_raw_year:
        page("year", "raw", args.raw_repeats, 0)
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
            f"{'range':<8}{'source':<8}{'':<9}{extra:>8}{'n':>5}"
            f"{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
        )
        for row in rows:
            compare = "compare" if row.get("compare") else ""
            print(
                f"{row['range']:<8}{row['source']:<8}{compare:<9}{row[extra]:>8}{row['n']:>5}"
                f"{row['p50']:>10.1f}{row['p95']:>10.1f}{row['max']:>10.1f}"
            )
    print()
    print("GET /supervisor/reports/ from the rollups, every interval × group (p95 ms)")
    cuts = list(dict.fromkeys((row["range"], row["interval"]) for row in result["matrix"]))
    print(f"{'range':<8}{'interval':<10}" + "".join(f"{group:>12}" for group in GROUPS))
    for name, interval in cuts:
        cells = {
            row["group"]: row
            for row in result["matrix"]
            if (row["range"], row["interval"]) == (name, interval)
        }
        print(
            f"{name:<8}{interval:<10}"
            + "".join(f"{cells[group]['p95']:>12.1f}" for group in GROUPS if group in cells)
        )
    rollups = [
        row
        for row in result["page"] + result["report"] + result["matrix"]
        if row["source"] == "rollup"
    ]
    slowest = max(rollups, key=lambda row: row["p95"])
    verdict = "met" if slowest["p95"] < 300 else "missed"
    what = ", ".join(
        f"{key} {slowest[key]}" for key in ("range", "interval", "group") if key in slowest
    )
    print(
        f"\nAim: every report from rollups under 300 ms (p95) — {verdict} "
        f"(slowest p95 {slowest['p95']:.0f} ms: {what}); raw rows are the cross-check, "
        "not the serving path"
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
    parser.add_argument(
        "--matrix-repeats", type=int, default=5, help="requests per interval × group cut"
    )
    parser.add_argument(
        "--no-raw-year", action="store_true", help="skip the raw year page (minutes at 5M)"
    )
    parser.add_argument(
        "--no-raw", action="store_true", help="rollups only (the raw rows are the slow part)"
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
    command += ["--matrix-repeats", str(args.matrix_repeats)]
    command += ["--no-raw-year"] if args.no_raw_year else []
    command += ["--no-raw"] if args.no_raw else []
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
