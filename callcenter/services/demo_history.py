"""Generated contact history that looks like a 120 centre's: the demo month of ``load_demo``
and the millions of contacts of ``generate_contacts`` (bench/reports.py), one generator.

Deterministic for a seed. Fast: rows are written in batches (psycopg COPY on PostgreSQL,
``bulk_create`` elsewhere) with ids chosen here, so no service runs per row and no signal
fires; the sequences are reset afterwards. Not for a centre that is taking contacts at the
same moment (the ids are taken from the current maximum).

The shapes:

* volume: weekdays with Monday the heaviest, weekends and public holidays about 40 %;
  around the clock with a morning peak (09–11), a lunch dip (12–13), an afternoon bump and
  quiet nights;
* channels: voice most, then Kakao and web chat, SMS, sign-language video a few per cent
  (answered by signing agents only), foreign-language citizens in the foreign queue;
* queueing is simulated: each queue has a pool of agents on duty hour by hour (staffed
  from the expected load with a margin that changes by the hour), a contact waits for the
  first free agent (a chat agent holds three chats), a citizen whose patience runs out
  hangs up (a few within 5 s: short abandons), so service level moves with the load and
  is worst at the peaks;
* talk (with holds on some calls) and wrap-up times by channel; presence events over the
  agents' hours: available, busy and wrap-up around each call or video call, breaks
  between spans of duty, offline at the end;
* tickets on most answered contacts, with the demo's categories and inquiries; some
  transferred to the category's department with a due date (answered within days, some
  late, some still open: overdue), the rest resolved at the end of wrap-up; repeat
  contacts (the same citizen on the same category within days) so FCR is below 100 %;
  happy-call surveys after resolution, about 30 % answered, mostly 4–5 out of 5;
* chat transcripts (four messages) when ``messages`` is set.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from callcenter.models import (
    Agent,
    AgentPresenceEvent,
    Channel,
    Citizen,
    Contact,
    Language,
    Message,
    Presence,
    Queue,
    User,
)
from knowledge.models import Article
from tickets.models import (
    Category,
    Department,
    Officer,
    Survey,
    SurveyAnswer,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from tickets.selectors import sla_policy_for, sla_policy_list
from tickets.sla import SEOUL, WorkingTime, is_korean_holiday

# Contacts by hour of the day (Seoul): quiet nights, morning peak, lunch dip, afternoon bump.
HOUR_WEIGHTS = (
    0.55, 0.38, 0.28, 0.24, 0.24, 0.34, 0.7, 1.7,
    4.6, 9.6, 10.0, 8.9, 5.1, 5.9, 8.7, 8.3,
    7.4, 5.6, 3.5, 2.7, 2.2, 1.8, 1.3, 0.9,
)  # fmt: skip
# Monday is the heaviest day; Saturday and Sunday about 40 % of a weekday.
WEEKDAY_WEIGHTS = (1.24, 1.05, 1.0, 0.98, 0.95, 0.43, 0.38)
HOLIDAY_WEIGHT = 0.42
DAY_NOISE = 0.07

# Korean-speaking citizens' channels; a few per cent sign-language video.
CHANNEL_WEIGHTS = {
    Channel.VOICE: 58,
    Channel.KAKAO: 17,
    Channel.WEBCHAT: 14,
    Channel.SMS: 7,
    Channel.VIDEO: 4,
}
FOREIGN_SHARE = 0.04
FOREIGN_CHANNELS = {Channel.VOICE: 70, Channel.WEBCHAT: 15, Channel.KAKAO: 15}
FOREIGN_LANGUAGES = (Language.ENGLISH, Language.CHINESE, Language.VIETNAMESE, Language.JAPANESE)

# Seconds: (median, spread) of lognormal talk and wrap-up times; patience (mean) before a
# waiting citizen gives up; time from an agent being free to the contact being answered.
TALK = {
    Channel.VOICE: (170, 0.55),
    Channel.VIDEO: (360, 0.5),
    Channel.WEBCHAT: (420, 0.55),
    Channel.KAKAO: (480, 0.55),
    Channel.SMS: (720, 0.6),
}
WRAP = {
    Channel.VOICE: (45, 0.5),
    Channel.VIDEO: (60, 0.5),
    Channel.WEBCHAT: (30, 0.5),
    Channel.KAKAO: (30, 0.5),
    Channel.SMS: (25, 0.5),
}
PATIENCE = {
    Channel.VOICE: 150,
    Channel.VIDEO: 180,
    Channel.WEBCHAT: 300,
    Channel.KAKAO: 420,
    Channel.SMS: 1800,
}
SHORT_ABANDON = {Channel.VOICE: 0.03, Channel.VIDEO: 0.02}  # chats: 1 %
HOLD_SHARE = 0.25  # of answered calls, held 15–150 s (inside the talk span)
CHATS_PER_AGENT = 3

TICKET_SHARE = 0.9  # of answered contacts; the rest were quick answers
REPEAT_SHARE = 0.11  # arrivals that are the same citizen again on a recent ticket's category
TRANSFER_SHARE = 0.8  # of inquiries that need a department
DEPARTMENT_ANSWERS = 0.8  # transferred tickets the department answers (some late)
LEFT_OPEN = 0.04  # of the rest: still open, the agent follows up
SURVEY_ANSWERED = 0.3
SCORES = (1, 2, 3, 4, 5)
SCORE_WEIGHTS = (3, 4, 8, 27, 58)
SCORE_WEIGHTS_AFTER_WAIT = (6, 7, 12, 30, 45)  # waited over a minute, or a late answer
TRANSFER_DUE = timedelta(days=7)
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(9, 0)

SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류"
    "나진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부"
)
GIVEN = "민서지현수영준우하윤도예은호성진연주원재희정혜아유태경승동상나래빈찬솔다인채서건한"
GREETING = "안녕하세요, 120 시민상담센터입니다. 무엇을 도와드릴까요?"
THANKS = "네, 알겠습니다. 감사합니다."
BREAK_REASON = "휴식"

BATCH = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class HistoryCounts:
    contacts: int = 0
    tickets: int = 0
    citizens: int = 0
    rows: int = 0

    def as_text(self) -> str:
        return (
            f"{self.contacts:,} contacts, {self.tickets:,} tickets, {self.citizens:,} citizens "
            f"({self.rows:,} rows)"
        )


@dataclass
class _Pool:
    """The agents answering one queue's contacts; chats let an agent hold several."""

    queue: Queue
    realtime: bool
    share: float
    aht: float
    agents: list[Agent] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return 1 if self.realtime else CHATS_PER_AGENT


@dataclass
class _Arrival:
    at: datetime
    channel: str
    pool: str
    citizen: int
    language: str
    category: int
    repeat: bool


class _Clock:
    """WorkingTime.add for many tickets: the working intervals of the whole range once,
    then two bisections per due time instead of a walk over the days."""

    def __init__(self, working: WorkingTime, first: date, last: date) -> None:
        self.always_open = working.always_open
        self.openings: list[float] = []
        self.closings: list[float] = []
        self.before: list[float] = []
        total = 0.0
        day = first
        while day <= last:
            for opening, closing in working.intervals(day):
                self.openings.append(opening.timestamp())
                self.closings.append(closing.timestamp())
                self.before.append(total)
                total += closing.timestamp() - opening.timestamp()
            day += timedelta(days=1)

    def add(self, start: datetime, minutes: int) -> datetime | None:
        if self.always_open:
            return start + timedelta(minutes=minutes)
        at = start.timestamp()
        index = bisect.bisect_right(self.closings, at)
        if index >= len(self.openings):
            return None
        worked = self.before[index] + max(0.0, at - self.openings[index])
        target = worked + minutes * 60
        # A target at the very end of an interval is its closing time, as WorkingTime.add says.
        found = bisect.bisect_left(self.before, target) - 1
        if found >= len(self.openings) or (
            found == len(self.openings) - 1
            and target > self.before[found] + self.closings[found] - self.openings[found]
        ):
            return None
        return datetime.fromtimestamp(self.openings[found] + target - self.before[found], SEOUL)


class _Writer:
    """Buffers rows per model and writes them in batches: COPY on PostgreSQL, executemany
    with the values adapted here on SQLite (Django's per-value adaptation is most of a
    bulk_create's time), bulk_create elsewhere. Rows are dicts of field attnames; missing
    fields take their default."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.buffers: dict[type[models.Model], list[dict]] = defaultdict(list)
        self.written = 0

    @property
    def models(self) -> list[type[models.Model]]:
        return list(self.buffers)

    def add(self, model: type[models.Model], row: dict) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush_model(model)

    def flush(self) -> None:
        for model in list(self.buffers):
            self.flush_model(model)

    def flush_model(self, model: type[models.Model]) -> None:
        rows = self.buffers[model]
        if not rows:
            return
        self.buffers[model] = []
        self.written += len(rows)
        if self.vendor == "postgresql":
            self._copy(model, rows)
        elif self.vendor == "sqlite":
            self._executemany(model, rows)
        else:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)

    @staticmethod
    def _fields(model: type[models.Model], row: dict) -> list[models.Field]:
        """The columns to write: all, without the primary key when the rows have none."""
        return [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in row)]

    @staticmethod
    def _values(fields: list[models.Field], rows: list[dict], adapt=None) -> Iterable[list]:
        pairs = [(f.attname, f.get_default()) for f in fields]
        json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
        for row in rows:
            values = [row.get(name, default) for name, default in pairs]
            if adapt is not None:
                values = [adapt(value) for value in values]
            for index in json_columns:
                values[index] = json.dumps(values[index], ensure_ascii=False)
            yield values

    def _copy(self, model: type[models.Model], rows: list[dict]) -> None:
        fields = self._fields(model, rows[0])
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for values in self._values(fields, rows):
                copy.write_row(values)

    def _executemany(self, model: type[models.Model], rows: list[dict]) -> None:
        fields = self._fields(model, rows[0])
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        marks = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - model names
                list(self._values(fields, rows, _sqlite_value)),
            )


def _sqlite_value(value):
    """What Django stores on SQLite: datetimes as naive UTC text, booleans as 0/1."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    if isinstance(value, bool):
        return int(value)
    return value


def _lognormal(rng: random.Random, median: float, spread: float, low: float, high: float):
    return min(high, max(low, rng.lognormvariate(math.log(median), spread)))


def _send_after(moment: datetime) -> datetime:
    """A happy call is never sent at night (21:00–09:00 Seoul): the next morning."""
    local = moment.astimezone(SEOUL)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return moment
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=SEOUL)


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _citizen_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _new_citizen_language(index: int) -> str:
    """One generated citizen in 25 speaks English, Chinese, Vietnamese or Japanese."""
    if index % 25 == 7:
        return FOREIGN_LANGUAGES[index // 25 % len(FOREIGN_LANGUAGES)]
    return Language.KOREAN


def _day_weight(day: date) -> float:
    if is_korean_holiday(day):
        return HOLIDAY_WEIGHT
    return WEEKDAY_WEIGHTS[day.weekday()]


class HistoryGenerator:
    """Writes ``contacts`` (about) over the Seoul days ``start``…``end`` ending before
    ``now``. ``agents`` answer them (signing ones the video queue), ``citizens`` (existing
    rows) come first among the callers, ``citizen_pool`` more are created. Provider ids
    start with ``prefix`` (how a second run recognises the history)."""

    def __init__(
        self,
        *,
        start: date,
        end: date,
        contacts: int,
        seed: int,
        prefix: str,
        agents: list[Agent],
        queues: dict[str, Queue],
        inquiries: dict[str, list[dict]],
        now: datetime,
        citizens: Iterable[Citizen] = (),
        citizen_pool: int | None = None,
        messages: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if end < start:
            raise ValueError("end must not be before start")
        self.start, self.end, self.now = start, end, now
        self.contacts, self.seed, self.prefix = contacts, seed, prefix
        self.rng = random.Random(f"{seed}-history")  # noqa: S311 - demo data, not secrets
        self.queues = queues
        self.inquiries = inquiries
        self.messages = messages
        self.progress = progress or (lambda n: None)
        self.counts = HistoryCounts()
        self.writer = _Writer()
        self.existing_citizens = [c.pk for c in citizens]
        self.citizen_pool = citizen_pool if citizen_pool is not None else max(contacts // 3, 50)
        self.agents = agents
        self.users = {agent.pk: agent.user_id for agent in agents}

    # --- set-up ------------------------------------------------------------------------
    def _reference(self) -> None:
        paths = sorted(self.inquiries)
        categories = {}
        for category in Category.objects.select_related("parent__parent"):
            categories[category.path] = category
        self.categories = [categories[path] for path in paths if path in categories]
        if not self.categories:
            raise ValueError("No demo categories: load the demo reference data first.")
        self.category_inquiries = [self.inquiries[p] for p in paths if p in categories]
        # Frequent subjects first: parking, rubbish and certificates come up most.
        self.category_weights = [
            3.0 if any(word in c.name for word in ("주정차", "생활쓰레기", "민원서류", "대중교통"))
            else 1.0
            for c in self.categories
        ]  # fmt: skip
        self.departments = self._category_departments()
        self.officers = dict(
            Officer.objects.values_list("department_id", "user_id").order_by("-pk")
        )
        supervisors = User.objects.filter(groups__name="supervisor").order_by("pk")
        self.supervisor = supervisors.values_list("pk", flat=True).first()
        policies = sla_policy_list()
        calendars: dict[int, _Clock] = {}
        horizon = self.end + timedelta(days=60)
        self.policy = {}
        for index, category in enumerate(self.categories):
            for channel in Channel.values:
                policy = sla_policy_for(
                    category=category, priority=Ticket.Priority.NORMAL, channel=channel,
                    policies=policies,
                )  # fmt: skip
                if policy is None:
                    self.policy[index, channel] = None
                    continue
                if policy.calendar_id not in calendars:
                    calendars[policy.calendar_id] = _Clock(
                        policy.calendar.working_time(), self.start - timedelta(days=1), horizon
                    )
                self.policy[index, channel] = (
                    calendars[policy.calendar_id],
                    policy.first_response_minutes,
                    policy.resolution_minutes,
                )

    def _category_departments(self) -> list[Department | None]:
        """The department a category's transfers go to: the owner of the category's first
        knowledge-base article, else the first department."""
        owners: dict[int, int] = {}
        for category_id, department_id in (
            Article.objects.exclude(department=None)
            .order_by("pk")
            .values_list("category_id", "department_id")
        ):
            owners.setdefault(category_id, department_id)
        departments = {d.pk: d for d in Department.objects.order_by("pk")}
        fallback = next(iter(departments.values()), None)
        return [departments.get(owners.get(c.pk), fallback) for c in self.categories]

    def _pools(self, daily: float) -> dict[str, _Pool]:
        video_share = CHANNEL_WEIGHTS[Channel.VIDEO] / sum(CHANNEL_WEIGHTS.values())
        ko = 1 - FOREIGN_SHARE
        voice = CHANNEL_WEIGHTS[Channel.VOICE] / sum(CHANNEL_WEIGHTS.values())
        pools = {
            "sign-video": _Pool(self.queues["sign-video"], True, ko * video_share, 470),
            "foreign": _Pool(self.queues["foreign"], True, FOREIGN_SHARE, 260),
            "general": _Pool(self.queues["general"], True, ko * voice, 250),
            "chat": _Pool(self.queues["chat"], False, ko * (1 - voice - video_share), 560),
        }
        # The busiest hour: a Monday's (× 1.24) 10:00 (about a tenth of the day).
        need = {name: self._staff(pool, daily * 1.24 * 0.1, 1.4) for name, pool in pools.items()}
        signing, speaking, rest = [], [], []
        for agent in self.agents:
            codes = {skill.code for skill in agent.skills.all()}
            if "sign-language" in codes:
                signing.append(agent)
            elif codes & {"lang-en", "lang-zh", "lang-ja", "lang-vi", "lang-mn"}:
                speaking.append(agent)
            else:
                rest.append(agent)
        if not signing:
            raise ValueError("The video queue needs an agent with the sign-language skill.")
        pools["sign-video"].agents = signing
        take = min(len(speaking), max(need["foreign"], 1))
        pools["foreign"].agents, rest = speaking[:take], speaking[take:] + rest
        if not pools["foreign"].agents:
            pools["foreign"].agents, rest = rest[:1], rest[1:]
        general = max(1, round(len(rest) * need["general"] / (need["general"] + need["chat"])))
        general = min(general, len(rest) - 1)
        pools["general"].agents, pools["chat"].agents = rest[:general], rest[general:]
        if not pools["chat"].agents or not pools["general"].agents:
            raise ValueError("Too few agents for the generated history.")
        return pools

    @staticmethod
    def _staff(pool: _Pool, contacts_per_hour: float, margin: float) -> int:
        erlangs = contacts_per_hour * pool.share * pool.aht / 3600 / pool.slots
        return max(1, math.ceil(erlangs + margin * math.sqrt(erlangs)))

    def _make_citizens(self) -> list[int]:
        rng = random.Random(f"{self.seed}-citizens")  # noqa: S311 - demo data, not secrets
        first = _next_id(Citizen)
        phones = Citizen.objects.filter(phone__startswith="+82100").count()
        ids = []
        for index in range(self.citizen_pool):
            pk = first + index
            # 010-0xxx-xxxx: a block no Korean mobile number is given from (demo phones).
            number = 1_000_000 + phones + index
            self.writer.add(
                Citizen,
                {
                    "id": pk,
                    "name": _citizen_name(rng),
                    "phone": f"+8210{number:08d}",
                    "preferred_language": _new_citizen_language(index),
                    "consent_privacy": True,
                    "consent_contact": True,
                    "consented_at": datetime.combine(self.start, time(9), SEOUL),
                    "created_at": datetime.combine(self.start, time(0), SEOUL),
                    "kakao_user_key": "",
                },
            )
            ids.append(pk)
        self.counts.citizens = len(ids)
        return ids

    # --- the run -------------------------------------------------------------------------
    def run(self) -> HistoryCounts:
        self._reference()
        days = [
            self.start + timedelta(days=offset)
            for offset in range((self.end - self.start).days + 1)
        ]
        weights = [_day_weight(day) * (1 + self.rng.uniform(-DAY_NOISE, DAY_NOISE)) for day in days]
        unit = self.contacts / sum(weights)  # contacts of a day of weight 1
        self.pools = self._pools(unit)
        self.pool_agents = {name: [a.pk for a in pool.agents] for name, pool in self.pools.items()}
        self.cutoff = self.now - timedelta(hours=2)
        self.counters = dict(TicketCounter.objects.values_list("year", "last"))
        self.next_ticket = _next_id(Ticket)
        self.next_contact = _next_id(Contact)
        self.next_survey = _next_id(Survey)
        self.serial = 0
        self.free_until: dict[int, float] = {}
        self.on_duty: dict[int, bool] = {}
        self.slot_free: dict[tuple[int, int], float] = {}
        self.recent: list[list[tuple[int, int]]] = []  # per day: (citizen, category) ticketed
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # This session only: a day's commit need not wait for the disk.
                cursor.execute("SET synchronous_commit TO OFF")
        with transaction.atomic():
            citizen_ids = self.existing_citizens + self._make_citizens()
            self.writer.flush()
        self.citizen_ids = citizen_ids
        self.citizen_language = self._citizen_languages(citizen_ids)
        for index, day in enumerate(days):
            with transaction.atomic():
                made = self._day(index, day, round(unit * weights[index]))
                self.writer.flush()
            self.progress(made)
        with transaction.atomic():
            for year, last in self.counters.items():
                TicketCounter.objects.update_or_create(year=year, defaults={"last": last})
        self._reset_sequences()
        self._analyze()
        self.counts.rows = self.writer.written
        return self.counts

    def _citizen_languages(self, ids: list[int]) -> dict[int, str]:
        """Existing citizens keep their language; about 4 % of the new ones speak another."""
        languages = dict(
            Citizen.objects.filter(pk__in=self.existing_citizens).values_list(
                "pk", "preferred_language"
            )
        )
        for index, pk in enumerate(ids[len(self.existing_citizens) :]):
            languages[pk] = _new_citizen_language(index)
        return languages

    def _reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(
            no_style(), [Citizen, Contact, Ticket, Survey]
        )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _analyze(self) -> None:
        """Fresh planner statistics, as autovacuum would give them later: without them
        PostgreSQL plans the reports' joins over these tables as if they were empty."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in self.writer.models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    # --- one day -----------------------------------------------------------------------
    def _arrivals(self, day: date, volume: int) -> list[_Arrival]:
        rng = self.rng
        midnight = datetime.combine(day, time(0), SEOUL).timestamp()
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=volume)
        stamps = sorted(midnight + hour * 3600 + rng.random() * 3600 for hour in hours)
        foreign_open = day.weekday() < 5 and not is_korean_holiday(day)
        channels, channel_weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
        foreign_channels, foreign_weights = zip(*FOREIGN_CHANNELS.items(), strict=True)
        recent = [ticketed for ticketed in self.recent[-6:] if ticketed]
        arrivals = []
        for stamp in stamps:
            at = datetime.fromtimestamp(stamp, SEOUL)
            if at >= self.cutoff:
                break
            if recent and rng.random() < REPEAT_SHARE:
                # Recent days first: people call back the next day more than a week later.
                pick = recent[-1 - min(int(rng.expovariate(0.6)), len(recent) - 1)]
                citizen, category = rng.choice(pick)
                repeat = True
            else:
                citizen = rng.choice(self.citizen_ids)
                category = rng.choices(range(len(self.categories)), self.category_weights)[0]
                repeat = False
            language = self.citizen_language.get(citizen, Language.KOREAN)
            if language == Language.KOREAN:
                channel = rng.choices(channels, channel_weights)[0]
            else:
                channel = rng.choices(foreign_channels, foreign_weights)[0]
            if channel == Channel.VIDEO:
                pool = "sign-video"
            elif language != Language.KOREAN and foreign_open and 9 <= at.hour < 18:
                pool = "foreign"
            else:
                pool = "general" if channel == Channel.VOICE else "chat"
            arrivals.append(_Arrival(at, channel, pool, citizen, language, category, repeat))
        return arrivals

    def _roster(self, index: int, day: date, volume: int) -> dict[str, list[set[int]]]:
        """Agents on duty by pool and hour: as many as the expected load needs with a margin
        that changes by the hour; the day's and the night's rota turn every day."""
        rng = self.rng
        total = sum(HOUR_WEIGHTS)
        roster = {}
        for name, pool in self.pools.items():
            agents = self.pool_agents[name]
            count = len(agents)
            day_order = [agents[(index * 3 + k) % count] for k in range(count)]
            night_order = [agents[(index * 3 + count // 2 + k) % count] for k in range(count)]
            hours = []
            for hour in range(24):
                expected = volume * HOUR_WEIGHTS[hour] / total
                staff = min(count, self._staff(pool, expected, rng.uniform(0.0, 1.2)))
                order = day_order if 7 <= hour < 22 else night_order
                hours.append(set(order[:staff]))
            roster[name] = hours
        return roster

    def _day(self, index: int, day: date, volume: int) -> int:
        arrivals = self._arrivals(day, volume)
        roster = self._roster(index, day, volume)
        by_pool: dict[str, list[_Arrival]] = defaultdict(list)
        for arrival in arrivals:
            by_pool[arrival.pool].append(arrival)
        contacts: list[dict] = []
        presence: list[tuple[float, int, int, str, str]] = []
        midnight = datetime.combine(day, time(0), SEOUL).timestamp()
        cutoff = self.cutoff.astimezone(SEOUL)
        last_hour = 23 if day < cutoff.date() else cutoff.hour
        for name, pool in self.pools.items():
            self._simulate(
                pool, self.pool_agents[name], by_pool[name], roster[name], midnight, last_hour,
                contacts, presence,
            )  # fmt: skip
        if day >= cutoff.date():
            self._close_shifts(presence)
        contacts.sort(key=lambda row: row["queued_at"])
        ticketed: list[tuple[int, int]] = []
        for row in contacts:
            self._write_contact(row, ticketed)
        self.recent.append(ticketed)
        presence.sort()
        for stamp, _order, agent, state, reason in presence:
            self.writer.add(
                AgentPresenceEvent,
                {
                    "agent_id": agent,
                    "presence": state,
                    "reason": reason,
                    "created_at": datetime.fromtimestamp(stamp, SEOUL),
                },
            )
        self.counts.contacts += len(contacts)
        return len(contacts)

    def _simulate(
        self,
        pool: _Pool,
        agents: list[int],
        arrivals: list[_Arrival],
        roster: list[set[int]],
        midnight: float,
        last_hour: int,
        contacts: list[dict],
        presence: list,
    ) -> None:
        rng = self.rng
        heap: list[tuple[float, int, int]] = []
        position = 0
        for hour in range(last_hour + 1):
            boundary = midnight + hour * 3600
            self._shift_change(pool, agents, roster, hour, boundary, presence)
            heap = [
                (max(self.slot_free.get((agent, slot), 0.0), boundary), agent, slot)
                for agent in agents
                if self.on_duty.get(agent)
                for slot in range(pool.slots)
            ]
            heapq.heapify(heap)
            while position < len(arrivals) and arrivals[position].at.hour == hour:
                arrival = arrivals[position]
                position += 1
                contacts.append(self._serve(pool, arrival, heap, presence, rng))

    def _shift_change(self, pool, agents, roster, hour, boundary, presence) -> None:
        on = roster[hour]
        for agent in agents:
            was = self.on_duty.get(agent, False)
            now = agent in on
            if now and not was:
                at = max(boundary, self.free_until.get(agent, 0.0))
                presence.append((at, 3, agent, Presence.AVAILABLE, ""))
            elif was and not now:
                at = max(boundary, self.free_until.get(agent, 0.0))
                later = any(agent in roster[h] for h in range(hour + 1, 24))
                state, reason = (Presence.BREAK, BREAK_REASON) if later else (Presence.OFFLINE, "")
                presence.append((at, 2, agent, state, reason))
            self.on_duty[agent] = now

    def _close_shifts(self, presence) -> None:
        """The history ends before now: every agent still on duty signs off."""
        end = self.cutoff.timestamp()
        for agent, on in self.on_duty.items():
            if on:
                at = max(end, self.free_until.get(agent, 0.0))
                presence.append((at, 2, agent, Presence.OFFLINE, ""))
                self.on_duty[agent] = False

    def _serve(self, pool: _Pool, arrival: _Arrival, heap, presence, rng) -> dict:
        channel = arrival.channel
        queued = arrival.at.timestamp()
        short = rng.random() < SHORT_ABANDON.get(channel, 0.01)
        if short:
            patience = rng.uniform(1.0, 5.0)
        else:
            patience = min(3600.0, 6 + rng.expovariate(1 / PATIENCE[channel]))
        inquiry = rng.randrange(len(self.category_inquiries[arrival.category]))
        row = {
            "arrival": arrival,
            "inquiry": inquiry,
            "queued_at": queued,
            "agent": None,
        }
        if not heap:
            row["abandoned_at"] = queued + patience
            return row
        free_at, agent, slot = heap[0]
        ring = rng.uniform(2.0, 8.0) if pool.realtime else rng.uniform(3.0, 20.0)
        answered = max(queued, free_at) + ring
        if answered - queued > patience:
            row["abandoned_at"] = queued + patience
            return row
        talk = _lognormal(rng, *TALK[channel], 20, 3600)
        hold = rng.uniform(15, 150) if channel == Channel.VOICE and rng.random() < HOLD_SHARE else 0
        hold = int(hold)
        ended = answered + talk + hold
        wrapped = ended + _lognormal(rng, *WRAP[channel], 5, 600)
        heapq.heapreplace(heap, (wrapped, agent, slot))
        self.slot_free[agent, slot] = wrapped
        self.free_until[agent] = max(self.free_until.get(agent, 0.0), wrapped)
        if pool.realtime:
            presence.append((answered, 1, agent, Presence.BUSY, ""))
            presence.append((ended, 1, agent, Presence.WRAPUP, ""))
            presence.append((wrapped, 1, agent, Presence.AVAILABLE, ""))
        row.update(
            agent=agent, ring=ring, answered=answered, ended=ended, wrapped=wrapped, hold=hold
        )
        return row

    # --- rows ----------------------------------------------------------------------------
    def _write_contact(self, row: dict, ticketed: list[tuple[int, int]]) -> None:
        arrival: _Arrival = row["arrival"]
        pool = self.pools[arrival.pool]
        inquiry = self.category_inquiries[arrival.category][row["inquiry"]]
        pk = self.next_contact
        self.next_contact += 1
        self.serial += 1
        stamp = datetime.fromtimestamp
        queued = stamp(row["queued_at"], SEOUL)
        agent = row["agent"]
        contact = {
            "id": pk,
            "channel": arrival.channel,
            "direction": Contact.Direction.INBOUND,
            "provider_id": f"{self.prefix}{self.serial:07d}",
            "citizen_id": arrival.citizen,
            "queue_id": pool.queue.pk,
            "agent_id": agent,
            "language": arrival.language,
            "created_at": queued,
            "queued_at": queued,
            "hold_seconds": row.get("hold", 0),
            "abandoned": agent is None,
        }
        chat = arrival.channel not in (Channel.VOICE, Channel.VIDEO)
        if agent is None:
            contact["ended_at"] = stamp(row["abandoned_at"], SEOUL)
            self.writer.add(Contact, contact)
            if chat and self.messages:
                self._message(pk, Message.Sender.CITIZEN, None, inquiry["utterance"], queued)
            return
        answered = stamp(row["answered"], SEOUL)
        ended = stamp(row["ended"], SEOUL)
        wrapped = stamp(row["wrapped"], SEOUL)
        contact |= {
            "offered_at": stamp(row["answered"] - row["ring"], SEOUL),
            "answered_at": answered,
            "ended_at": ended,
            "wrapup_ended_at": wrapped,
        }
        self.writer.add(Contact, contact)
        user = self.users[agent]
        if chat and self.messages:
            talk = ended - answered
            for sender, who, text, at in (
                (Message.Sender.CITIZEN, None, inquiry["utterance"], queued),
                (Message.Sender.AGENT, user, GREETING, answered + timedelta(seconds=2)),
                (Message.Sender.AGENT, user, inquiry["answer"], answered + talk * 0.6),
                (Message.Sender.CITIZEN, None, THANKS, ended - timedelta(seconds=5)),
            ):  # fmt: skip
                self._message(pk, sender, who, text, at)
        if self.rng.random() < TICKET_SHARE:
            self._ticket(contact, arrival, inquiry, user, ended, wrapped, row)
            ticketed.append((arrival.citizen, arrival.category))

    def _message(self, contact: int, sender: str, user: int | None, text: str, at: datetime):
        self.writer.add(
            Message,
            {
                "contact_id": contact,
                "sender": sender,
                "sender_user_id": user,
                "text": text,
                "attachments": [],
                "created_at": at,
                "delivered_at": at,
            },
        )

    def _ticket(self, contact, arrival, inquiry, user, ended, wrapped, row) -> None:
        rng = self.rng
        pk = self.next_ticket
        self.next_ticket += 1
        created = contact["answered_at"] + timedelta(
            seconds=min(60.0, (row["ended"] - row["answered"]) / 2)
        )
        year = created.year
        self.counters[year] = self.counters.get(year, 0) + 1
        policy = self.policy.get((arrival.category, arrival.channel))
        first_due = resolution_due = None
        if policy is not None:
            clock, first_minutes, resolution_minutes = policy
            first_due = clock.add(created, first_minutes)
            resolution_due = clock.add(created, resolution_minutes)
        department = self.departments[arrival.category]
        ticket = {
            "id": pk,
            "number": f"120-{year}-{self.counters[year]:06d}",
            "citizen_id": arrival.citizen,
            "category_id": self.categories[arrival.category].pk,
            "subject": inquiry["subject"],
            "description": inquiry["utterance"],
            "status": Ticket.Status.OPEN,
            "priority": Ticket.Priority.NORMAL,
            "channel": arrival.channel,
            "created_by_id": user,
            "assignee_id": user,
            "first_response_due": first_due,
            "resolution_due": resolution_due,
            "created_at": created,
            "updated_at": created,
        }
        events = [
            (
                TicketEvent.Type.CREATED,
                user,
                {"channel": arrival.channel, "contacts": [contact["id"]]},
                created,
                False,
            )
        ]
        resolved_at = None
        resolver = user
        previous = Ticket.Status.OPEN
        if inquiry.get("transfer") and department and rng.random() < TRANSFER_SHARE:
            due = ended + TRANSFER_DUE
            ticket |= {
                "status": Ticket.Status.TRANSFERRED,
                "department_id": department.pk,
                "transferred_at": ended,
                "resolution_due": due,
                "first_responded_at": ended,
            }
            note = inquiry["utterance"]
            events.append(
                (
                    TicketEvent.Type.TRANSFERRED,
                    user,
                    {"department": department.code, "note": note, "due": due.isoformat()},
                    ended,
                    False,
                )
            )
            previous = Ticket.Status.TRANSFERRED
            if rng.random() < DEPARTMENT_ANSWERS:
                answered = ended + timedelta(days=_lognormal(rng, 3.0, 0.7, 0.1, 20.0))
                if answered < self.now:
                    resolved_at = answered
                    resolver = self.officers.get(department.pk, self.supervisor)
                    ticket["answered_at"] = answered
        elif rng.random() >= LEFT_OPEN:
            resolved_at = wrapped
        if resolved_at is not None:
            ticket |= {
                "status": Ticket.Status.RESOLVED,
                "answer": inquiry["answer"],
                "resolved_at": resolved_at,
                "first_responded_at": ticket.get("first_responded_at") or resolved_at,
                "updated_at": resolved_at,
            }
            answer = {"answer": inquiry["answer"]}
            events.append((TicketEvent.Type.ANSWERED, resolver, answer, resolved_at, True))
            events.append(
                (
                    TicketEvent.Type.STATUS_CHANGED,
                    resolver,
                    {"from": previous, "to": Ticket.Status.RESOLVED},
                    resolved_at,
                    False,
                )
            )
        self.writer.add(Ticket, ticket)
        self.writer.add(Ticket.contacts.through, {"ticket_id": pk, "contact_id": contact["id"]})
        if resolved_at is not None:
            self._survey(ticket, contact, row, resolved_at, events)
        for kind, actor, data, at, public in events:
            self.writer.add(
                TicketEvent,
                {
                    "ticket_id": pk,
                    "type": kind,
                    "actor_id": actor,
                    "data": data,
                    "public": public,
                    "created_at": at,
                },
            )
        self.counts.tickets += 1

    def _survey(self, ticket, contact, row, resolved_at, events) -> None:
        rng = self.rng
        pk = self.next_survey
        self.next_survey += 1
        method = Survey.Method.KAKAO if contact["channel"] == Channel.KAKAO else Survey.Method.SMS
        send_after = _send_after(resolved_at)
        survey = {
            "id": pk,
            "ticket_id": ticket["id"],
            "citizen_id": ticket["citizen_id"],
            "method": method,
            "status": Survey.Status.SCHEDULED,
            "send_after": send_after,
            "created_at": resolved_at,
        }
        answered_at = send_after + timedelta(minutes=5 + rng.expovariate(1 / 90))
        if send_after < self.now:
            survey |= {"status": Survey.Status.SENT, "sent_at": send_after}
            if rng.random() < SURVEY_ANSWERED and answered_at < self.now:
                waited = row["answered"] - row["queued_at"] > 60
                late = (
                    ticket["resolution_due"] is not None and resolved_at > ticket["resolution_due"]
                )
                weights = SCORE_WEIGHTS_AFTER_WAIT if waited or late else SCORE_WEIGHTS
                score = rng.choices(SCORES, weights)[0]
                survey |= {"status": Survey.Status.ANSWERED, "answered_at": answered_at}
                self.writer.add(Survey, survey)
                self.writer.add(
                    SurveyAnswer,
                    {
                        "survey_id": pk,
                        "contact_id": contact["id"],
                        "ticket_id": ticket["id"],
                        "score": score,
                        "solved": score >= 4 or rng.random() < 0.3,
                        "comment": "",
                        "channel": Channel.KAKAO if method == Survey.Method.KAKAO else Channel.SMS,
                        "created_at": answered_at,
                    },
                )
                events.append(
                    (
                        TicketEvent.Type.SURVEY_ANSWERED,
                        None,
                        {"survey": pk, "score": score, "solved": score >= 4},
                        answered_at,
                        False,
                    )
                )
                return
        self.writer.add(Survey, survey)
