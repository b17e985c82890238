"""Ticket benchmark: the list page, the SLA check, Open311 and tracking at 50,000 tickets.

    make bench-tickets                                      # PostgreSQL and SQLite, 50,000 each
    .venv/bin/python bench/tickets.py --db postgres          # PostgreSQL only
    .venv/bin/python bench/tickets.py --tickets 5000 --db sqlite --requests 30   # a quick look
    .venv/bin/python bench/tickets.py --db postgres --keep   # keep the database for EXPLAIN

Data
    Loads a realistic volume straight into a throwaway database with bulk_create (the
    services would take an hour for 50,000 tickets): a category tree of 7 groups and 20
    services (tickets.services.category_get_or_create_path), two business calendars and
    five SLA policies, 36 agents, 2 supervisors, 12 departments, citizens with mobile phones
    (about 2.5 tickets each), and tickets numbered 120-<year>-NNNNNN in creation order, created
    over the last 90 days. About 8 % are still active, mostly from the last days (new, open,
    transferred, answered; a few paused), the rest resolved or closed with their answer;
    8 % came in through Open311 with an address and coordinates. Due times come from the
    matching policy in its calendar, as ticket_create sets them. Events: "created" for every
    ticket, transfers, department answers (public), resolutions, SLA pauses, and internal notes
    on a quarter of the tickets.

Figures (every request through django.test.Client, the real views and templates)
    1. GET /tickets/ as an agent: p50/p95/p99 over --requests requests for each filter
       (default list, transferred by due, two-word search, overdue in a category group,
       a citizen's phone, page 50), with the matching count and the queries of one request;
    2. tickets.services.sla_check(): the first run (creates the alerts) and a second,
       steady-state run, with their query counts (a connection.execute_wrapper counter);
    3. Open311 GET requests.json / requests.xml (default 90-day window, at most 1,000
       requests) and POST requests.json with a valid key;
    4. POST /track/ with a ticket number and its citizen's phone (found / not found); the
       cache is cleared between calls so the rate limit never answers instead.

The PostgreSQL database (open120_bench_tickets on 127.0.0.1, trust auth) is created and
dropped here and ANALYZEd after the load (as autovacuum soon would: without statistics the
planner takes 20,000 citizens for 1,300 and a phone filter runs for minutes); SQLite uses
a file in the temp directory. Each database runs in its own child process (Django settings
are per process).
"""

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SQLITE_PATH = Path(tempfile.gettempdir()) / "open120_bench_tickets.sqlite3"
PG_DB = "open120_bench_tickets"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
RESULT = "RESULT "
BATCH = 2000

# Category path → subjects citizens ask about on it.
SERVICES = {
    "교통/불법주정차": ["불법주차 신고", "소화전 앞 불법주차 신고", "장애인 주차구역 위반 신고"],
    "교통/주정차 과태료": ["주정차 위반 과태료 이의신청", "과태료 고지서 문의"],
    "교통/대중교통": ["버스 배차 간격 불편", "정류장 안내 단말기 고장", "심야버스 노선 문의"],
    "교통/도로·시설물": ["도로 파손 포트홀 신고", "신호등 고장 신고", "가로등 소등 신고"],
    "세무/자동차세": ["자동차세 연납 신청", "자동차세 이중 부과 문의"],
    "세무/재산세": ["재산세 고지서 문의", "재산세 납부 기한 문의"],
    "세무/지방소득세": ["지방소득세 환급 문의"],
    "환경/생활폐기물": ["대형폐기물 수거 신청", "음식물 쓰레기 수거 누락", "쓰레기 무단투기 신고"],
    "환경/소음·악취": ["공사장 소음 민원", "층간소음 상담 신청", "음식점 악취 민원"],
    "환경/공원·녹지": ["공원 시설 파손 신고", "가로수 가지치기 요청"],
    "복지/기초연금": ["기초연금 신청 자격 문의", "기초연금 지급일 문의"],
    "복지/긴급지원": ["긴급 생계지원 신청", "위기가구 신고"],
    "복지/장애인": ["장애인 활동지원 신청", "장애인 콜택시 예약 문의"],
    "민원서류/주민등록": ["주민등록등본 발급 문의", "전입신고 방법 문의"],
    "민원서류/여권": ["여권 재발급 신청", "여권 발급 소요기간 문의"],
    "민원서류/가족관계": ["가족관계증명서 인터넷 발급"],
    "보건/예방접종": ["독감 예방접종 대상 문의", "어린이 예방접종 일정"],
    "보건/식품위생": ["보건증 발급 문의", "음식점 위생 불량 신고"],
    "주택/전월세": ["전세 보증금 반환 상담", "청년 월세 지원 신청"],
    "주택/건축": ["불법 증축 신고", "건축물대장 발급 문의"],
}
# Two Korean words each, as an agent types them into the list's search box.
SEARCHES = ["불법주차 신고", "자동차세 연납", "대형폐기물 수거", "여권 재발급", "기초연금 신청"]
DEPARTMENTS = [
    "교통행정과",
    "주차관리과",
    "도로과",
    "세무1과",
    "세무2과",
    "청소행정과",
    "환경과",
    "공원녹지과",
    "복지정책과",
    "민원여권과",
    "보건위생과",
    "건축과",
]
DISTRICTS = ["종로구", "중구", "용산구", "성동구", "마포구", "강서구", "관악구", "송파구"]
STREETS = [
    "세종대로",
    "을지로",
    "한강대로",
    "왕십리로",
    "월드컵로",
    "공항대로",
    "관악로",
    "올림픽로",
]
DETAILS = [
    "어제부터 계속 같은 상황입니다.",
    "아이들이 다니는 길이라 위험해 보입니다.",
    "지난번에도 말씀드렸는데 아직 해결이 안 됐어요.",
    "처리 절차와 필요한 서류를 알려 주세요.",
    "주말에도 확인이 가능한지 궁금합니다.",
    "담당 부서 연락처를 알고 싶습니다.",
    "사진을 보낼 수 있는 방법이 있나요?",
    "어르신이 대신 전화하셨습니다.",
]
ANSWERS = [
    "담당 부서에서 현장을 확인하고 조치를 완료했습니다.",
    "신청 방법과 필요 서류를 안내해 드렸습니다.",
    "관할 부서에 전달하였으며 처리 결과를 문자로 알려 드릴 예정입니다.",
    "온라인 신청 경로(정부24)를 안내해 드렸습니다.",
    "현장 단속을 요청하였고 과태료가 부과되었습니다.",
]
NOTES = [
    "시민에게 재통화 예정",
    "담당 부서 확인 중, 내일 회신 예정",
    "현장 사진 추가 요청함",
    "동일 민원 반복 접수, 주의 필요",
    "부서 담당자 부재로 재이관 검토",
]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "민준",
    "서연",
    "지훈",
    "하은",
    "도윤",
    "수빈",
    "예준",
    "지민",
    "현우",
    "영숙",
    "정호",
    "미경",
]


# --- the parent process ---------------------------------------------------------------------


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "TRACK_LIMIT_PER_HOUR": "1000000",
        "PYTHONUNBUFFERED": "1",
    }


def run_worker(database_url: str, args) -> dict:
    env = environment(database_url)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0", "--noinput"], cwd=BASE_DIR, env=env, check=True
    )
    command = [PYTHON, __file__, "--worker", "--tickets", str(args.tickets)]
    command += ["--requests", str(args.requests)]
    process = subprocess.run(
        command, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    for line in process.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
        print(line)
    raise SystemExit("the worker printed no result")


def sqlite_fresh(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def psql(*args: str) -> None:
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", *args], check=True, env=env)


def print_results(results: list[dict]) -> None:
    for result in results:
        data = result["data"]
        print()
        print(
            f"== {result['database']}: {data['tickets']:,} tickets ({data['active']:,} active, "
            f"{data['overdue']:,} overdue, {data['open311']:,} via Open311), "
            f"{data['events']:,} events, {data['citizens']:,} citizens; "
            f"loaded in {data['load_s']:.0f} s"
        )
        print()
        print(f"GET /tickets/ as an agent, {result['requests']} requests each")
        print(
            f"{'filter':<34}{'matches':>9}{'queries':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'max ms':>9}"
        )
        for row in result["list"]:
            print(
                f"{row['name']:<34}{row['matches']:>9,}{row['queries']:>9}{row['p50']:>9.1f}"
                f"{row['p95']:>9.1f}{row['p99']:>9.1f}{row['max']:>9.1f}"
            )
        print()
        sla = result["sla"]
        print(
            f"sla_check() with {sla['active']:,} active tickets: {sla['candidates']:,} candidates "
            f"(due within the warning horizon or overdue and not yet breached)"
        )
        print(f"{'run':<34}{'seconds':>9}{'queries':>9}{'alerts':>9}")
        for run in sla["runs"]:
            print(f"{run['name']:<34}{run['s']:>9.2f}{run['queries']:>9,}{run['alerts']:>9,}")
        print()
        print("Open311 and tracking")
        print(f"{'request':<34}{'n':>9}{'results':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for row in result["other"]:
            results = "–" if row["results"] is None else f"{row['results']:,}"
            print(
                f"{row['name']:<34}{row['n']:>9}{results:>9}{row['p50']:>9.1f}"
                f"{row['p95']:>9.1f}{row['max']:>9.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100, help="requests per list filter")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        logging.getLogger("django.request").setLevel(logging.ERROR)  # the 404s are expected
        print(RESULT + json.dumps(worker(args), ensure_ascii=False))
        return

    started = time.perf_counter()
    results = []
    if args.db in ("postgres", "both"):
        psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)
        try:
            results.append(run_worker(PG_URL, args) | {"database": "PostgreSQL"})
        finally:
            if not args.keep:
                psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    if args.db in ("sqlite", "both"):
        try:
            results.append(run_worker(sqlite_fresh(SQLITE_PATH), args) | {"database": "SQLite"})
        finally:
            if not args.keep:
                sqlite_fresh(SQLITE_PATH)
    print_results(results)
    print(f"\nbench/tickets.py took {time.perf_counter() - started:.0f} s")


# --- the worker: data -----------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timings(values: list[float]) -> dict:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def mobile_numbers(count: int, rng: random.Random) -> list[str]:
    """``count`` different valid Korean mobile numbers in E.164 (a few 010 blocks are not
    valid numbers for libphonenumber, and the forms refuse them)."""
    import phonenumbers

    numbers: set[str] = set()
    while len(numbers) < count:
        number = f"+8210{rng.randint(20_000_000, 99_999_999)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            numbers.add(number)
    return sorted(numbers)


def national(phone: str) -> str:
    """'+821012345678' → '010-1234-5678', as a citizen types it."""
    digits = "0" + phone[3:]
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def setup_reference_data(rng: random.Random) -> dict:
    """Categories, calendars, SLA policies, departments, staff: what tickets point at."""
    from django.contrib.auth.models import Group

    from callcenter.models import Channel, User
    from tickets.models import BusinessCalendar, CalendarClosure, SlaPolicy, Ticket
    from tickets.services import category_get_or_create_path, department_get_or_create

    services = {path: category_get_or_create_path(path=path) for path in SERVICES}
    groups = {category.parent for category in services.values()}
    office = BusinessCalendar.objects.create(name="평일 09–18시")
    CalendarClosure.objects.create(calendar=office, date="2026-10-15", reason="구민의 날")
    always = BusinessCalendar.objects.create(name="24시간", always_open=True)
    by_path = {category.path: category for category in {*services.values(), *groups}}
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(
                name="기본", calendar=office, first_response_minutes=240, resolution_minutes=1620
            ),
            SlaPolicy(
                name="긴급",
                priority=Ticket.Priority.URGENT,
                calendar=always,
                first_response_minutes=60,
                resolution_minutes=480,
            ),
            SlaPolicy(
                name="불법주정차",
                category=by_path["교통/불법주정차"],
                calendar=office,
                first_response_minutes=120,
                resolution_minutes=540,
            ),
            SlaPolicy(
                name="세무",
                category=by_path["세무"],
                calendar=office,
                first_response_minutes=480,
                resolution_minutes=4860,
            ),
            SlaPolicy(
                name="Open311",
                channel=Channel.OPEN311,
                calendar=office,
                first_response_minutes=480,
                resolution_minutes=2700,
            ),
        ]
    )
    departments = [department_get_or_create(name=name) for name in DEPARTMENTS]
    agent_group = Group.objects.get(name="agent")
    supervisor_group = Group.objects.get(name="supervisor")
    agents = []
    for n in range(36):
        user = User.objects.create_user(
            f"agent{n:02d}",
            first_name=rng.choice(GIVEN),
            last_name=rng.choice(SURNAMES),
        )
        user.groups.add(agent_group)
        agents.append(user)
    for n in range(2):
        User.objects.create_user(f"supervisor{n}").groups.add(supervisor_group)
    return {"services": list(services.values()), "departments": departments, "agents": agents}


def create_citizens(count: int, rng: random.Random) -> list:
    from django.utils import timezone

    from callcenter.models import Citizen

    citizens = [
        Citizen(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) if rng.random() < 0.85 else "",
            phone=number,
            consent_privacy=True,
            created_at=timezone.now() - timedelta(days=rng.uniform(0, 400)),
        )
        for number in mobile_numbers(count, rng)
    ]
    return Citizen.objects.bulk_create(citizens, batch_size=BATCH)


def ticket_ages(count: int, rng: random.Random) -> list[tuple[float, bool]]:
    """(age in days, still active) per ticket: 8 % active, most of them from the last days."""
    active = round(count * 0.08)
    ages = []
    for _ in range(active):
        roll = rng.random()
        if roll < 0.70:
            ages.append((rng.uniform(0, 2), True))
        elif roll < 0.88:
            ages.append((rng.uniform(2, 5), True))
        else:
            ages.append((rng.uniform(5, 40), True))
    ages += [(rng.uniform(0.05, 90), False) for _ in range(count - active)]
    return sorted(ages, reverse=True)  # oldest first: numbers follow creation


class DueTimes:
    """Due times as ticket_create sets them, one policy look-up per kind of ticket."""

    def __init__(self) -> None:
        self.policies: dict[tuple, object] = {}
        self.calendars: dict[int, object] = {}

    def __call__(self, category, priority: int, channel: str, start: datetime) -> dict:
        from tickets.selectors import sla_policy_for

        key = (category.pk, priority, channel)
        if key not in self.policies:
            self.policies[key] = sla_policy_for(
                category=category, priority=priority, channel=channel
            )
        policy = self.policies[key]
        if policy is None:
            return {"first_response_due": None, "resolution_due": None}
        if policy.calendar_id not in self.calendars:
            self.calendars[policy.calendar_id] = policy.calendar.working_time()
        calendar = self.calendars[policy.calendar_id]
        return {
            "first_response_due": calendar.add(
                start, timedelta(minutes=policy.first_response_minutes)
            ),
            "resolution_due": calendar.add(start, timedelta(minutes=policy.resolution_minutes)),
        }


def active_status(age_days: float, rng: random.Random) -> str:
    if age_days < 0.2 and rng.random() < 0.7:
        return "new"
    return rng.choices(["new", "open", "transferred", "answered"], [10, 40, 35, 15])[0]


def build_ticket(number: str, age: float, active: bool, now: datetime, ref: dict, rng, due_times):
    """One Ticket (unsaved) and the events it would have, as (type, at, data, public, actor)."""
    from callcenter.models import Channel
    from tickets.models import Ticket

    created = now - timedelta(days=age)
    category = rng.choice(ref["services"])
    subject = rng.choice(SERVICES[category.path])
    district, street = rng.choice(DISTRICTS), rng.choice(STREETS)
    channel = rng.choices(
        [Channel.VOICE, Channel.WEBCHAT, Channel.KAKAO, Channel.SMS, Channel.OPEN311],
        [62, 14, 13, 3, 8],
    )[0]
    priority = rng.choices([1, 2, 3, 4], [8, 74, 14, 4])[0]
    agent = rng.choice(ref["agents"])
    ticket = Ticket(
        number=number,
        citizen=rng.choice(ref["citizens"]) if rng.random() < 0.92 else None,
        category=category,
        subject=subject if rng.random() < 0.8 else f"{district} {subject}",
        description=f"{district} {street} 인근, {subject} 건입니다. {rng.choice(DETAILS)}",
        priority=priority,
        channel=channel,
        created_by=None if channel == Channel.OPEN311 else agent,
        created_at=created,
        **due_times(category, priority, channel, created),
    )
    if channel == Channel.OPEN311:
        ticket.address = f"서울특별시 {district} {street} {rng.randint(1, 300)}"
        ticket.latitude = Decimal(f"{rng.uniform(37.45, 37.65):.6f}")
        ticket.longitude = Decimal(f"{rng.uniform(126.85, 127.15):.6f}")
    events = [("created", created, {"channel": channel, "contacts": []}, False, ticket.created_by)]
    elapsed = now - created

    def later(fraction_max: float) -> datetime:
        return created + elapsed * rng.uniform(0.02, fraction_max)

    status = active_status(age, rng) if active else rng.choices(["resolved", "closed"], [3, 7])[0]
    ticket.status = status
    if status != "new" or rng.random() < 0.5:
        ticket.assignee = agent
    if status != "new":
        ticket.first_responded_at = later(0.2)
    transferred = status in ("transferred", "answered") or (not active and rng.random() < 0.25)
    if transferred:
        department = rng.choice(ref["departments"])
        ticket.department = department
        ticket.transferred_at = later(0.3)
        note = {"department": department.code, "note": "현장 확인 부탁드립니다.", "due": None}
        events.append(("transferred", ticket.transferred_at, note, False, agent))
        if status != "transferred":
            ticket.answered_at = later(0.7)
            answer = {"by": "department", "department": department.code}
            answer["answer"] = rng.choice(ANSWERS)
            events.append(("answered", ticket.answered_at, answer, True, None))
    if rng.random() < 0.25:
        events.append(("commented", later(0.8), {"text": rng.choice(NOTES)}, False, agent))
    if active and rng.random() < 0.03:
        ticket.sla_paused_at = later(0.9)
        events.append(("paused", ticket.sla_paused_at, {"reason": "시민 회신 대기"}, False, agent))
    elif active and rng.random() < 0.03:
        paused, resumed = later(0.4), later(0.6)
        data = {"paused_at": paused.isoformat(), "changed": {}}
        events.append(("resumed", max(paused, resumed), data, False, agent))
    if not active:
        ticket.answer = rng.choice(ANSWERS)
        ticket.resolved_at = later(0.9)
        ticket.first_responded_at = ticket.first_responded_at or ticket.resolved_at
        events.append(("answered", ticket.resolved_at, {"answer": ticket.answer}, True, agent))
        change = {"from": "open", "to": "resolved"}
        events.append(("status_changed", ticket.resolved_at, change, False, agent))
        if status == "closed":
            ticket.closed_at = ticket.resolved_at + (now - ticket.resolved_at) * rng.uniform(0, 1)
    return ticket, events


def load_tickets(count: int, now: datetime, ref: dict, rng: random.Random) -> None:
    from django.db.models import F
    from django.db.models.functions import Coalesce, Greatest
    from django.utils import timezone
    from tqdm import tqdm

    from tickets.models import Ticket, TicketCounter, TicketEvent

    due_times = DueTimes()
    counters: dict[int, int] = {}
    ages = ticket_ages(count, rng)
    with tqdm(total=count, desc="tickets", unit="ticket", file=sys.stderr) as progress:
        for first in range(0, count, BATCH):
            built = []
            for age, active in ages[first : first + BATCH]:
                year = timezone.localtime(now - timedelta(days=age)).year
                counters[year] = counters.get(year, 0) + 1
                number = f"120-{year}-{counters[year]:06d}"
                built.append(build_ticket(number, age, active, now, ref, rng, due_times))
            tickets = Ticket.objects.bulk_create([ticket for ticket, _ in built])
            TicketEvent.objects.bulk_create(
                TicketEvent(
                    ticket=ticket, type=kind, created_at=at, data=data, public=public, actor=actor
                )
                for ticket, (_, events) in zip(tickets, built, strict=True)
                for kind, at, data, public, actor in events
            )
            progress.update(len(tickets))
    TicketCounter.objects.bulk_create(
        [TicketCounter(year=year, last=last) for year, last in counters.items()]
    )
    # bulk_create stamps updated_at with now; the last step is what the list sorts by.
    Ticket.objects.update(
        updated_at=Coalesce(
            F("closed_at"),
            F("resolved_at"),
            Greatest(
                Coalesce(F("answered_at"), F("created_at")),
                Coalesce(F("transferred_at"), F("created_at")),
                Coalesce(F("first_responded_at"), F("created_at")),
            ),
        )
    )


# --- the worker: measurements ---------------------------------------------------------------


class QueryCounter:
    """Counts the queries run inside it. Not CaptureQueriesContext: its log keeps only the
    last 9,000 queries, and the first SLA check runs more."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> "QueryCounter":
        from django.db import connection

        self._context = connection.execute_wrapper(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)


def measure(call, n: int) -> list[float]:
    call()  # warm-up, not counted
    wall = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        wall.append((time.perf_counter() - started) * 1000)
    return wall


def list_figures(client, user, n: int, rng: random.Random) -> list[dict]:
    from tickets import selectors
    from tickets.forms import TicketFilterForm
    from tickets.models import Category, Ticket

    groups = list(Category.objects.filter(parent=None).values_list("pk", flat=True))
    phones = list(
        Ticket.objects.filter(citizen__isnull=False)
        .order_by()
        .values_list("citizen__phone", flat=True)
        .distinct()[:500]
    )
    variants = [
        ("default", lambda: {}),
        ("status=transferred&sort=due", lambda: {"status": "transferred", "sort": "due"}),
        ("q=<two Korean words>", lambda: {"q": rng.choice(SEARCHES)}),
        ("overdue=1&category=<group>", lambda: {"overdue": "1", "category": rng.choice(groups)}),
        ("citizen=<phone>", lambda: {"citizen": national(str(rng.choice(phones)))}),
        ("page=50", lambda: {"page": "50"}),
    ]
    rows = []
    for name, params in variants:

        def get(params=params) -> None:
            response = client.get("/tickets/", params())
            assert response.status_code == 200, response.status_code

        sample = params()
        with QueryCounter() as queries:
            client.get("/tickets/", sample)
        form = TicketFilterForm(sample)
        assert form.is_valid(), form.errors
        matches = selectors.ticket_list(user=user, **form.filters()).count()
        rows.append(
            {"name": name, "matches": matches, "queries": queries.count} | timings(measure(get, n))
        )
        print(f"  /tickets/ {name}: p95 {rows[-1]['p95']:.1f} ms", file=sys.stderr)
    return rows


def sla_figures() -> dict:
    from django.utils import timezone

    from tickets.models import ACTIVE_STATUSES, Ticket
    from tickets.services import sla_check
    from tickets.services.sla import sla_candidates

    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES, merged_into=None).count()
    candidates = sla_candidates(now=timezone.now()).count()
    runs = []
    for name in ("first run (creates the alerts)", "second run (steady state)"):
        with QueryCounter() as queries:
            started = time.perf_counter()
            alerts = sla_check()
            seconds = time.perf_counter() - started
        runs.append({"name": name, "s": seconds, "queries": queries.count, "alerts": len(alerts)})
        print(f"  sla_check {name}: {seconds:.2f} s", file=sys.stderr)
    return {"active": active, "candidates": candidates, "runs": runs}


def other_figures(client, n: int, rng: random.Random) -> list[dict]:
    from django.core.cache import cache

    from tickets.models import Category, Ticket
    from tickets.services import open311_key_create

    rows = []

    def row(name: str, wall: list[float], results: int | None = None) -> None:
        rows.append({"name": name, "n": len(wall), "results": results} | timings(wall))
        print(f"  {name}: p95 {rows[-1]['p95']:.1f} ms", file=sys.stderr)

    found = {}
    for fmt in ("json", "xml"):

        def get(fmt=fmt) -> None:
            response = client.get(f"/open311/v2/requests.{fmt}")
            assert response.status_code == 200, response.status_code
            found[fmt] = response.content

        wall = measure(get, max(10, n // 2))
        count = len(json.loads(found[fmt])) if fmt == "json" else found[fmt].count(b"<request>")
        row(f"Open311 GET requests.{fmt}", wall, count)

    _key, api_key = open311_key_create(name="bench")
    services = list(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    phones = mobile_numbers(n + 1, rng)

    def post() -> None:
        response = client.post(
            "/open311/v2/requests.json",
            {
                "api_key": api_key,
                "service_code": rng.choice(services),
                "address_string": f"서울특별시 {rng.choice(DISTRICTS)} {rng.choice(STREETS)} 12",
                "lat": f"{rng.uniform(37.45, 37.65):.6f}",
                "long": f"{rng.uniform(126.85, 127.15):.6f}",
                "description": f"{rng.choice(SEARCHES)} 요청합니다. {rng.choice(DETAILS)}",
                "phone": national(phones.pop()),
                "first_name": rng.choice(GIVEN),
                "last_name": rng.choice(SURNAMES),
            },
        )
        assert response.status_code == 200, response.content

    row("Open311 POST requests.json", measure(post, n))

    tracked = list(
        Ticket.objects.filter(citizen__isnull=False)
        .order_by("?")
        .values_list("number", "citizen__phone")[:200]
    )

    def lookup(*, right_phone: bool) -> None:
        number, phone = rng.choice(tracked)
        if not right_phone:
            phone = mobile_numbers(1, rng)[0]
        cache.clear()
        response = client.post("/track/", {"number": number, "phone": national(str(phone))})
        assert response.status_code == (200 if right_phone else 404), response.status_code

    row("POST /track/ (found)", measure(lambda: lookup(right_phone=True), n))
    row("POST /track/ (not found)", measure(lambda: lookup(right_phone=False), n))
    return rows


def worker(args) -> dict:
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from callcenter.models import User
    from tickets.models import ACTIVE_STATUSES, Ticket, TicketEvent

    rng = random.Random(120)
    now = timezone.now()
    started = time.perf_counter()
    ref = setup_reference_data(rng)
    ref["citizens"] = create_citizens(max(1, args.tickets * 2 // 5), rng)
    load_tickets(args.tickets, now, ref, rng)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
            cursor.execute("ANALYZE")
    load_s = time.perf_counter() - started
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES, merged_into=None)
    data = {
        "tickets": Ticket.objects.count(),
        "active": active.count(),
        "overdue": active.filter(sla_paused_at=None, resolution_due__lt=now).count(),
        "open311": Ticket.objects.filter(channel="open311").count(),
        "events": TicketEvent.objects.count(),
        "citizens": len(ref["citizens"]),
        "load_s": load_s,
    }
    print(f"  data loaded in {load_s:.0f} s", file=sys.stderr)

    user = User.objects.create_user("bench-agent", first_name="민지", last_name="김")
    user.groups.add(Group.objects.get(name="agent"))
    agent = Client(SERVER_NAME="127.0.0.1")
    agent.force_login(user)
    anonymous = Client(SERVER_NAME="127.0.0.1")
    return {
        "data": data,
        "requests": args.requests,
        "list": list_figures(agent, user, args.requests, rng),
        "sla": sla_figures(),
        "other": other_figures(anonymous, args.requests, rng),
    }


if __name__ == "__main__":
    main()
