"""The one metrics module: DESIGN.md's service metrics, computed the same way for every
screen (the supervisor dashboard, the live wallboard, historical reports, exports, the daily
e-mail summary, an agent's scorecard).

Everything is built from additive sums (:class:`Measures`): counts and microseconds. Sums of
any slice over any set of intervals add up; ratios (service level, ASA, AHT, FCR, CSAT,
occupancy, …) are computed from the sums only when read. Two sources give the same sums:

* ``source="raw"``: a direct computation over Contact, Ticket, TicketEvent, SurveyAnswer and
  AgentPresenceEvent rows;
* ``source="rollup"``: sums of :class:`~callcenter.models.StatRow` rows that the worker keeps
  (``callcenter.services.stats``) and ``manage.py rebuild_stats`` rebuilds.

Populations and buckets (what each sum counts, and by which time it is bucketed):

* contacts: inbound contacts that were queued (``direction=inbound``, ``queued_at`` set),
  bucketed by ``queued_at``. offered = all of them; answered = ``answered_at`` set;
  abandoned = ``abandoned`` and waited > 5 s (``ended_at − queued_at``); short_abandoned =
  abandoned within 5 s; in_threshold = answered within T (20 s voice/video, 60 s the others);
  handled = answered and ended; wait_us = Σ(answered_at − queued_at) of answered ones;
  talk_us = Σ(ended_at − answered_at − hold) of handled ones; hold_us = Σ hold_seconds of
  handled ones; wrap_us = Σ(wrapup_ended_at − ended_at) of handled ones with a wrap-up end.
  Slices: channel (always), queue, agent, category (the category of the contact's earliest
  linked ticket).
* idle_us: time agents spent in presence "available" with no contact in hand (answered, not
  through wrap-up), bucketed by when it happened (split at bucket edges). Slices: agent.
* tickets (unmerged): opened by ``created_at``; resolved and fcr_resolved by ``resolved_at``
  (FCR as ``tickets.selectors.first_contact_resolutions``); transferred by each
  TicketEvent TRANSFERRED; overdue by ``resolution_due`` (in the past, not resolved by then).
  Slices: channel (the ticket's channel of origin), category, department, agent (the agent
  of the ticket's creator; for a transfer, of the event's actor).
* surveys: SurveyAnswer by ``created_at``; satisfied = score 4–5. Slices: channel (the
  answer's), agent and queue (of the answer's contact), category (of the answer's ticket).

Details the definitions above leave open, decided here once:

* talk_us never goes below zero: a contact whose hold exceeds its answered span counts no
  talk (its hold still counts in full).
* An agent's "available" span runs to their next presence event, or to min(now, range end)
  for the last one; their contacts in hand run from ``answered_at`` to ``wrapup_ended_at``,
  else ``ended_at``, else now.
* Idle time belongs to no channel: its rows have channel ``""``, so a channel filter leaves
  it out and a report by channel shows it on a line of its own.
* A transfer's department is the department it went to (``data["department"]``).
* A slice with no queue, agent, category or department is key 0 ("none").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import (
    Cast,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractMinute,
    Greatest,
    TruncDay,
    TruncHour,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    REALTIME_CHANNELS,
    Agent,
    AgentPresenceEvent,
    Channel,
    Contact,
    Presence,
    Queue,
    StatRow,
)
from tickets.models import Category, Department, SurveyAnswer, Ticket, TicketEvent
from tickets.selectors import first_contact_resolutions

SEOUL = ZoneInfo("Asia/Seoul")

VOICE_THRESHOLD = timedelta(seconds=20)
CHAT_THRESHOLD = timedelta(seconds=60)
SHORT_ABANDON = timedelta(seconds=5)
SERVICE_LEVEL_TARGET = 0.8

# Report intervals and groupings (the URL and export contract of /supervisor/reports/).
INTERVALS = ("15m", "hour", "day", "week", "month")
GROUPS = ("none", "channel", "queue", "agent", "category", "department")
SOURCES = ("rollup", "raw")
# StatRow dimensions, and the groups read from a dimension of their own.
DIMENSIONS = ("all", "queue", "agent", "category", "department")
KEY_GROUPS = ("queue", "agent", "category", "department")

US = 1_000_000


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _td(us: int | float) -> timedelta:
    return timedelta(microseconds=us)


@dataclass
class Measures:
    """Additive sums of one slice of one period. ``a + b`` adds two periods or slices."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    in_threshold: int = 0
    handled: int = 0
    wait_us: int = 0
    talk_us: int = 0
    hold_us: int = 0
    wrap_us: int = 0
    idle_us: int = 0
    tickets_opened: int = 0
    tickets_resolved: int = 0
    fcr_resolved: int = 0
    tickets_transferred: int = 0
    tickets_overdue: int = 0
    survey_answers: int = 0
    survey_satisfied: int = 0

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return _FIELD_NAMES

    @classmethod
    def from_sums(cls, row: dict, prefix: str = "") -> Measures:
        """Measures from a database row holding some of the sums, named ``prefix`` + the
        field's name (None counts as 0)."""
        return cls(
            **{
                name: int(row[prefix + name] or 0)
                for name in cls.field_names()
                if prefix + name in row
            }
        )

    def __add__(self, other: Measures) -> Measures:
        return Measures(
            **{name: getattr(self, name) + getattr(other, name) for name in _FIELD_NAMES}
        )

    def __iadd__(self, other: Measures) -> Measures:
        """Add ``other`` in place (folding many rows without a new object per row)."""
        for name in _FIELD_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def copy(self) -> Measures:
        return replace(self)

    def __bool__(self) -> bool:
        """False when every sum is zero (a slice with no data)."""
        return any(getattr(self, name) for name in self.field_names())

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.field_names()}

    # --- ratios (None when the denominator is zero) -------------------------------------
    @property
    def service_level(self) -> float | None:
        """Answered within T ÷ (offered − abandoned within 5 s)."""
        base = self.offered - self.short_abandoned
        return self.in_threshold / base if base else None

    @staticmethod
    def _mean(total_us: int, count: int) -> timedelta | None:
        return _td(total_us / count) if count else None

    @property
    def asa(self) -> timedelta | None:
        """Queue time of answered contacts ÷ answered contacts."""
        return self._mean(self.wait_us, self.answered)

    @property
    def abandonment_rate(self) -> float | None:
        """Abandoned after 5 s in queue ÷ offered."""
        return self.abandoned / self.offered if self.offered else None

    @property
    def handle_us(self) -> int:
        return self.talk_us + self.hold_us + self.wrap_us

    @property
    def aht(self) -> timedelta | None:
        """(talk + hold + wrap-up) ÷ handled contacts."""
        return self._mean(self.handle_us, self.handled)

    @property
    def aht_talk(self) -> timedelta | None:
        return self._mean(self.talk_us, self.handled)

    @property
    def aht_hold(self) -> timedelta | None:
        return self._mean(self.hold_us, self.handled)

    @property
    def aht_wrap(self) -> timedelta | None:
        return self._mean(self.wrap_us, self.handled)

    @property
    def fcr(self) -> float | None:
        """Resolved on first contact ÷ resolved tickets."""
        return self.fcr_resolved / self.tickets_resolved if self.tickets_resolved else None

    @property
    def csat(self) -> float | None:
        """Survey answers of 4–5 ÷ survey answers."""
        return self.survey_satisfied / self.survey_answers if self.survey_answers else None

    @property
    def occupancy(self) -> float | None:
        """Handling time ÷ (handling + available idle time)."""
        base = self.handle_us + self.idle_us
        return self.handle_us / base if base else None

    # Compatibility with the older ContactMetrics names used by templates.
    @property
    def answered_in_threshold(self) -> int:
        return self.in_threshold

    @property
    def total_wait(self) -> timedelta:
        return _td(self.wait_us)

    @property
    def total_handle(self) -> timedelta:
        return _td(self.handle_us)


_FIELD_NAMES = tuple(f.name for f in fields(Measures))


@dataclass
class ReportRow:
    """One line of a report: a period (its start, aware, Asia/Seoul; None when the report is
    not by interval), a group (its key and label; None/"" when not grouped) and its sums."""

    period: datetime | None
    key: int | str | None
    label: str
    measures: Measures


# A cell of sums: (period start or None, slice key or None, channel or None); None where
# the computation was not split that way.
CellKey = tuple[datetime | None, int | None, str | None]


def _add(cells: dict, cell: tuple, measures: Measures) -> None:
    """Add ``measures`` into ``cells[cell]`` (a copy the first time: cells never share)."""
    if cell in cells:
        cells[cell] += measures
    else:
        cells[cell] = measures.copy()


# --- the contact aggregate (shared with selectors.contact_metrics) -------------------------
class _Microseconds(Func):
    """A duration expression as whole microseconds, exact on both databases: PostgreSQL's
    interval through EXTRACT (numeric, exact), SQLite's durations are microseconds already."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(EXTRACT(EPOCH FROM {sql}) * 1000000)::bigint", params


def _span_us(end: str, start: str) -> _Microseconds:
    return _Microseconds(F(end) - F(start))


def _annotate_contact_spans(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return contacts.annotate(
        m_wait=_span_us("answered_at", "queued_at"),
        m_abandon_wait=_span_us("ended_at", "queued_at"),
        m_talk_span=_span_us("ended_at", "answered_at"),
        m_wrap=_span_us("wrapup_ended_at", "ended_at"),
    )


def _prefixed(sums: dict) -> dict:
    """Aggregates named apart from the model's fields (``abandoned`` is both)."""
    return {f"s_{name}": aggregate for name, aggregate in sums.items()}


def _contact_sums() -> dict:
    """The contact sums (see the module docstring) over contacts annotated with their spans."""
    answered = Q(answered_at__isnull=False)
    handled = answered & Q(ended_at__isnull=False)
    realtime = Q(channel__in=sorted(REALTIME_CHANNELS))
    short = _us(SHORT_ABANDON)
    hold = ExpressionWrapper(
        Cast("hold_seconds", BigIntegerField()) * Value(US), output_field=BigIntegerField()
    )
    talk = Greatest(
        ExpressionWrapper(F("m_talk_span") - hold, output_field=BigIntegerField()),
        Value(0, output_field=BigIntegerField()),
        output_field=BigIntegerField(),
    )
    return {
        "offered": Count("pk"),
        "answered": Count("pk", filter=answered),
        "abandoned": Count("pk", filter=Q(abandoned=True, m_abandon_wait__gt=short)),
        "short_abandoned": Count("pk", filter=Q(abandoned=True, m_abandon_wait__lte=short)),
        "in_threshold": Count(
            "pk",
            filter=answered
            & (
                (realtime & Q(m_wait__lte=_us(VOICE_THRESHOLD)))
                | (~realtime & Q(m_wait__lte=_us(CHAT_THRESHOLD)))
            ),
        ),
        "handled": Count("pk", filter=handled),
        "wait_us": Sum("m_wait", filter=answered),
        "talk_us": Sum(talk, filter=handled),
        "hold_us": Sum(hold, filter=handled),
        "wrap_us": Sum("m_wrap", filter=handled & Q(wrapup_ended_at__isnull=False)),
    }


def contact_measures(contacts: QuerySet[Contact]) -> Measures:
    """The contact sums of ``contacts`` (those queued among them), as the reports count
    them: the one aggregate behind every screen's service level, ASA, abandonment and AHT."""
    queued = _annotate_contact_spans(contacts.filter(queued_at__isnull=False))
    return Measures.from_sums(queued.aggregate(**_prefixed(_contact_sums())), "s_")


# --- populations of the raw computation -----------------------------------------------------
@dataclass(frozen=True)
class _Population:
    """One kind of row the sums count: its rows in a time range, the time it is bucketed
    by, its channel, its key per dimension and its sums."""

    rows: Callable[[datetime, datetime, datetime], QuerySet]
    time_field: str
    channel_field: str
    keys: dict[str, Callable[[], object]]
    sums: Callable[[], dict]


def _contacts(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return _annotate_contact_spans(
        Contact.objects.filter(
            direction=Contact.Direction.INBOUND, queued_at__gte=start, queued_at__lt=end
        )
    )


def _earliest_ticket_category():
    earliest = Ticket.objects.filter(contacts=OuterRef("pk")).order_by("created_at", "pk")
    return Subquery(earliest.values("category_id")[:1], output_field=IntegerField())


def _tickets_opened(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return Ticket.objects.filter(
        merged_into__isnull=True, created_at__gte=start, created_at__lt=end
    )


def _tickets_resolved_in(start: datetime, end: datetime) -> QuerySet:
    return Ticket.objects.filter(
        merged_into__isnull=True, resolved_at__gte=start, resolved_at__lt=end
    )


def _tickets_resolved(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return _tickets_resolved_in(start, end)


def _resolved_sums(start: datetime, end: datetime) -> dict:
    first_contact = first_contact_resolutions(_tickets_resolved_in(start, end)).values("pk")
    return {
        "tickets_resolved": Count("pk"),
        "fcr_resolved": Count("pk", filter=Q(pk__in=first_contact)),
    }


def _transfers(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return TicketEvent.objects.filter(
        type=TicketEvent.Type.TRANSFERRED,
        ticket__merged_into__isnull=True,
        created_at__gte=start,
        created_at__lt=end,
    ).annotate(m_department_code=KeyTextTransform("department", "data"))


def _transfer_department():
    department = Department.objects.filter(code=OuterRef("m_department_code"))
    return Subquery(department.values("pk")[:1], output_field=IntegerField())


def _tickets_overdue(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return Ticket.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=F("resolution_due")),
        merged_into__isnull=True,
        resolution_due__gte=start,
        resolution_due__lt=min(end, now),
    )


def _surveys(start: datetime, end: datetime, now: datetime) -> QuerySet:
    return SurveyAnswer.objects.filter(created_at__gte=start, created_at__lt=end)


_TICKET_KEYS = {
    "agent": lambda: F("created_by__agent__id"),
    "category": lambda: F("category_id"),
    "department": lambda: F("department_id"),
}


def _populations(start: datetime, end: datetime) -> list[_Population]:
    return [
        _Population(
            rows=_contacts,
            time_field="queued_at",
            channel_field="channel",
            keys={
                "queue": lambda: F("queue_id"),
                "agent": lambda: F("agent_id"),
                "category": _earliest_ticket_category,
            },
            sums=_contact_sums,
        ),
        _Population(
            rows=_tickets_opened,
            time_field="created_at",
            channel_field="channel",
            keys=_TICKET_KEYS,
            sums=lambda: {"tickets_opened": Count("pk")},
        ),
        _Population(
            rows=_tickets_resolved,
            time_field="resolved_at",
            channel_field="channel",
            keys=_TICKET_KEYS,
            sums=lambda: _resolved_sums(start, end),
        ),
        _Population(
            rows=_transfers,
            time_field="created_at",
            channel_field="ticket__channel",
            keys={
                "agent": lambda: F("actor__agent__id"),
                "category": lambda: F("ticket__category_id"),
                "department": _transfer_department,
            },
            sums=lambda: {"tickets_transferred": Count("pk")},
        ),
        _Population(
            rows=_tickets_overdue,
            time_field="resolution_due",
            channel_field="channel",
            keys=_TICKET_KEYS,
            sums=lambda: {"tickets_overdue": Count("pk")},
        ),
        _Population(
            rows=_surveys,
            time_field="created_at",
            channel_field="channel",
            keys={
                "queue": lambda: F("contact__queue_id"),
                "agent": lambda: F("contact__agent_id"),
                "category": lambda: F("ticket__category_id"),
            },
            sums=lambda: {
                "survey_answers": Count("pk"),
                "survey_satisfied": Count("pk", filter=Q(score__gte=4)),
            },
        ),
    ]


_TRUNC = {"hour": TruncHour, "day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _period_annotations(field: str, interval: str | None) -> dict:
    if interval is None:
        return {}
    if interval == "15m":
        minute = Cast(ExtractMinute(field, tzinfo=SEOUL), IntegerField())
        return {
            "m_hour": TruncHour(field, tzinfo=SEOUL),
            "m_quarter": ExpressionWrapper(minute / Value(15), output_field=IntegerField()),
        }
    return {"m_period": _TRUNC[interval](field, tzinfo=SEOUL)}


def _period_of(row: dict, interval: str | None) -> datetime | None:
    if interval is None:
        return None
    if interval == "15m":
        return row["m_hour"].astimezone(SEOUL) + timedelta(minutes=15 * int(row["m_quarter"]))
    return row["m_period"].astimezone(SEOUL)


def _period_columns(interval: str | None) -> list[str]:
    if interval is None:
        return []
    return ["m_hour", "m_quarter"] if interval == "15m" else ["m_period"]


@dataclass(frozen=True)
class _Slicing:
    """What one computation is for: the dimension (its populations and keys), how it is
    split (interval, by key, by channel) and filtered (channel, key)."""

    dimension: str
    interval: str | None
    by_key: bool
    by_channel: bool
    channel: str | None = None
    key: int | None = None

    def cell(self, period: datetime | None, key, channel) -> CellKey:
        return (
            period,
            (int(key or 0) if self.dimension != "all" else 0) if self.by_key else None,
            (channel or "") if self.by_channel else None,
        )


def _population_cells(
    population: _Population,
    slicing: _Slicing,
    start: datetime,
    end: datetime,
    now: datetime,
    cells: dict[CellKey, Measures],
) -> None:
    if slicing.dimension != "all" and slicing.dimension not in population.keys:
        return
    if population.rows is _tickets_overdue and min(end, now) <= start:
        return
    rows = population.rows(start, end, now)
    if slicing.channel:
        rows = rows.filter(**{population.channel_field: slicing.channel})
    annotations = _period_annotations(population.time_field, slicing.interval)
    columns = _period_columns(slicing.interval)
    if slicing.dimension != "all":
        annotations["m_key"] = population.keys[slicing.dimension]()
        if slicing.by_key:
            columns.append("m_key")
    if slicing.by_channel:
        annotations["m_channel"] = F(population.channel_field)
        columns.append("m_channel")
    rows = rows.annotate(**annotations)
    if slicing.key is not None:
        rows = rows.filter(m_key=slicing.key)
    if columns:
        sums = _prefixed(population.sums())
        results: Iterable[dict] = rows.values(*columns).annotate(**sums).order_by()
    else:
        results = [rows.aggregate(**_prefixed(population.sums()))]
    for row in results:
        measures = Measures.from_sums(row, "s_")
        if not measures:
            continue
        cell = slicing.cell(
            _period_of(row, slicing.interval), row.get("m_key"), row.get("m_channel")
        )
        _add(cells, cell, measures)


# --- idle time ----------------------------------------------------------------------------
def _period_floor(moment: datetime, interval: str | None) -> datetime | None:
    """The Seoul period ``moment`` falls in (its start)."""
    if interval is None:
        return None
    local = moment.astimezone(SEOUL)
    if interval == "15m":
        return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _period_next(period: datetime, interval: str) -> datetime:
    if interval == "15m":
        return period + timedelta(minutes=15)
    if interval == "hour":
        return period + timedelta(hours=1)
    if interval == "day":
        return datetime.combine(period.date() + timedelta(days=1), time.min, tzinfo=SEOUL)
    if interval == "week":
        return datetime.combine(period.date() + timedelta(days=7), time.min, tzinfo=SEOUL)
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return datetime(year, month, 1, tzinfo=SEOUL)


def _split(a: datetime, b: datetime, interval: str | None) -> Iterable[tuple[datetime | None, int]]:
    """[a, b) cut at the period edges: (period, microseconds) pieces."""
    if interval is None:
        yield None, _us(b - a)
        return
    period = _period_floor(a, interval)
    while a < b:
        edge = _period_next(period, interval)
        piece_end = min(b, edge)
        yield period, _us(piece_end - a)
        a, period = piece_end, edge


def _subtract(spans: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]):
    """``spans`` (sorted, disjoint) minus the union of ``holes``."""
    holes = sorted(holes)
    result = []
    for a, b in spans:
        cursor = a
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= b:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= b:
                break
        if cursor < b:
            result.append((cursor, b))
    return result


def _available_spans(
    start: datetime, stop: datetime, agent_id: int | None
) -> dict[int, list[tuple[datetime, datetime]]]:
    agents = Agent.objects.all() if agent_id is None else Agent.objects.filter(pk=agent_id)
    before = AgentPresenceEvent.objects.filter(agent=OuterRef("pk"), created_at__lt=start).order_by(
        "-created_at", "-pk"
    )
    state = dict(
        agents.annotate(m_presence=Subquery(before.values("presence")[:1]))
        .order_by()
        .values_list("pk", "m_presence")
    )
    events = AgentPresenceEvent.objects.filter(created_at__gte=start, created_at__lt=stop)
    if agent_id is not None:
        events = events.filter(agent_id=agent_id)
    cursor = dict.fromkeys(state, start)
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for agent, at, presence in events.order_by("agent_id", "created_at", "pk").values_list(
        "agent_id", "created_at", "presence"
    ):
        if state.get(agent) == Presence.AVAILABLE and at > cursor.get(agent, start):
            spans[agent].append((cursor.get(agent, start), at))
        state[agent], cursor[agent] = presence, at
    for agent, presence in state.items():
        if presence == Presence.AVAILABLE and cursor.get(agent, start) < stop:
            spans[agent].append((cursor.get(agent, start), stop))
    return spans


def _handling_spans(
    agent_ids: Iterable[int], start: datetime, stop: datetime, now: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    contacts = Contact.objects.filter(
        Q(wrapup_ended_at__gt=start)
        | Q(wrapup_ended_at__isnull=True, ended_at__gt=start)
        | Q(wrapup_ended_at__isnull=True, ended_at__isnull=True),
        agent_id__in=list(agent_ids),
        answered_at__isnull=False,
        answered_at__lt=stop,
    ).values_list("agent_id", "answered_at", "wrapup_ended_at", "ended_at")
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for agent, answered, wrapped, ended in contacts:
        spans[agent].append((answered, wrapped or ended or now))
    return spans


def _idle_cells(
    slicing: _Slicing,
    start: datetime,
    end: datetime,
    now: datetime,
    cells: dict[CellKey, Measures],
) -> None:
    if slicing.dimension not in ("all", "agent") or slicing.channel:
        return
    stop = min(end, now)
    if stop <= start:
        return
    agent_id = slicing.key if slicing.dimension == "agent" else None
    available = _available_spans(start, stop, agent_id)
    handling = _handling_spans(available, start, stop, now)
    for agent, spans in available.items():
        for a, b in _subtract(spans, handling.get(agent, [])):
            for period, idle in _split(a, b, slicing.interval):
                if idle:
                    _add(cells, slicing.cell(period, agent, ""), Measures(idle_us=idle))


def _raw_cells(
    slicing: _Slicing, start: datetime, end: datetime, now: datetime | None = None
) -> dict[CellKey, Measures]:
    now = now or timezone.now()
    cells: dict[CellKey, Measures] = {}
    for population in _populations(start, end):
        _population_cells(population, slicing, start, end, now, cells)
    _idle_cells(slicing, start, end, now, cells)
    return cells


def stat_cells(
    *, start: datetime, end: datetime, now: datetime | None = None
) -> dict[str, dict[tuple[datetime, int, str], Measures]]:
    """What StatRow holds for [start, end) (15-minute aligned), computed from the raw rows:
    for each dimension, the sums per 15-minute bucket start (Seoul), key and channel.
    ``stats_rebuild`` writes these; the daily rows are their sums by Seoul day.

    One query per population gives every dimension at once (grouped by all their keys,
    then folded here), so the costly parts (FCR, a contact's category) run once."""
    now = now or timezone.now()
    result: dict[str, dict] = {dimension: {} for dimension in DIMENSIONS}
    for population in _populations(start, end):
        if population.rows is _tickets_overdue and min(end, now) <= start:
            continue
        dimensions = [d for d in DIMENSIONS if d in population.keys]
        annotations = {
            **_period_annotations(population.time_field, "15m"),
            "m_channel": F(population.channel_field),
            **{f"m_key_{d}": population.keys[d]() for d in dimensions},
        }
        columns = [*_period_columns("15m"), "m_channel", *(f"m_key_{d}" for d in dimensions)]
        rows = (
            population.rows(start, end, now)
            .annotate(**annotations)
            .values(*columns)
            .annotate(**_prefixed(population.sums()))
            .order_by()
        )
        for row in rows:
            measures = Measures.from_sums(row, "s_")
            if not measures:
                continue
            period, channel = _period_of(row, "15m"), row["m_channel"] or ""
            _add(result["all"], (period, 0, channel), measures)
            for dimension in dimensions:
                key = int(row[f"m_key_{dimension}"] or 0)
                _add(result[dimension], (period, key, channel), measures)
    by_agent: dict[CellKey, Measures] = {}
    slicing = _Slicing(dimension="agent", interval="15m", by_key=True, by_channel=True)
    _idle_cells(slicing, start, end, now, by_agent)
    for (period, key, channel), measures in by_agent.items():
        _add(result["agent"], (period, key, channel), measures)
        _add(result["all"], (period, 0, channel), measures)
    return result


# --- the rollup computation ------------------------------------------------------------------
# The grain whose rows are each one period of an interval.
_GRAIN_OF = {
    "15m": StatRow.Grain.QUARTER,
    "day": StatRow.Grain.DAY,
    "week": StatRow.Grain.WEEK,
    "month": StatRow.Grain.MONTH,
}
# The longer grain a report of each interval reads for its whole weeks or months (the days
# at the range's edges come from the daily rows).
_COARSE = {
    "week": (StatRow.Grain.WEEK, "week"),
    "month": (StatRow.Grain.MONTH, "month"),
    None: (StatRow.Grain.MONTH, "month"),
}


def _rollup_pieces(
    interval: str | None, start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime]]:
    """(grain, from, to) pieces that make up [start, end): 15-minute rows for intervals
    under a day, daily rows for days; for weeks, months and one period, the week or month
    rows of the whole weeks or months inside the range and daily rows for the rest."""
    if interval in ("15m", "hour"):
        return [(StatRow.Grain.QUARTER, start, end)]
    midnights = all(_period_floor(edge, "day") == edge for edge in (start, end))
    if interval == "day" or not midnights:
        return [(StatRow.Grain.DAY, start, end)]
    grain, period = _COARSE[interval]
    first = _period_floor(start, period)
    if first < start:
        first = _period_next(first, period)
    last = _period_floor(end, period)
    if first >= last:
        return [(StatRow.Grain.DAY, start, end)]
    pieces = [
        (StatRow.Grain.DAY, start, first),
        (grain, first, last),
        (StatRow.Grain.DAY, last, end),
    ]
    return [piece for piece in pieces if piece[1] < piece[2]]


def _rollup_cells(slicing: _Slicing, start: datetime, end: datetime) -> dict[CellKey, Measures]:
    cells: dict[CellKey, Measures] = {}
    sums = _prefixed({name: Sum(name) for name in Measures.field_names()})
    for grain, first, last in _rollup_pieces(slicing.interval, start, end):
        rows = StatRow.objects.filter(
            grain=grain, dimension=slicing.dimension, start__gte=first, start__lt=last
        )
        if slicing.channel:
            rows = rows.filter(channel=slicing.channel)
        if slicing.key is not None:
            rows = rows.filter(key=slicing.key)
        columns = []
        if slicing.interval is not None:
            same = _GRAIN_OF.get(slicing.interval)
            period = (
                F("start") if grain == same else _TRUNC[slicing.interval]("start", tzinfo=SEOUL)
            )
            rows, columns = rows.annotate(m_period=period), ["m_period"]
        if slicing.by_key:
            columns.append("key")
        if slicing.by_channel:
            columns.append("channel")
        if columns:
            results: Iterable[dict] = rows.values(*columns).annotate(**sums).order_by()
        else:
            results = [rows.aggregate(**sums)]
        for row in results:
            measures = Measures.from_sums(row, "s_")
            if measures:
                period = row["m_period"].astimezone(SEOUL) if "m_period" in row else None
                _add(cells, slicing.cell(period, row.get("key"), row.get("channel")), measures)
    return cells


# --- the public reads -------------------------------------------------------------------------
def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start's Seoul midnight, the Seoul midnight after ``end``)."""
    return (
        datetime.combine(start, time.min, tzinfo=SEOUL),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=SEOUL),
    )


def _dimension_for(
    group: str, queue_id: int | None, agent_id: int | None
) -> tuple[str, int | None]:
    """The StatRow dimension a report reads and the key it filters on."""
    if group not in GROUPS:
        raise ValueError(_("Unknown grouping: %(group)s.") % {"group": group})
    if queue_id is not None and agent_id is not None:
        raise ValueError(_("Choose a queue or an agent, not both."))
    if group in KEY_GROUPS:
        if queue_id is not None or agent_id is not None:
            raise ValueError(
                _("A queue or an agent can be chosen only for a report not grouped by %(group)s.")
                % {"group": group}
            )
        return group, None
    if queue_id is not None:
        return "queue", int(queue_id)
    if agent_id is not None:
        return "agent", int(agent_id)
    return "all", None


def _slicing(group, interval, channel, queue_id, agent_id, source) -> _Slicing:
    if interval is not None and interval not in INTERVALS:
        raise ValueError(_("Unknown interval: %(interval)s.") % {"interval": interval})
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}.")
    dimension, key = _dimension_for(group, queue_id, agent_id)
    return _Slicing(
        dimension=dimension,
        interval=interval,
        by_key=group in KEY_GROUPS,
        by_channel=group == "channel",
        channel=channel or None,
        key=key,
    )


def _cells(slicing: _Slicing, start: datetime, end: datetime, source: str):
    if source == "raw":
        return _raw_cells(slicing, start, end)
    return _rollup_cells(slicing, start, end)


def _labels(group: str, keys: set) -> dict:
    if group == "none":
        return {None: ""}
    if group == "channel":
        names = {value: str(label) for value, label in Channel.choices}
        return {key: names.get(key) or (key or _("No channel (agents' idle time)")) for key in keys}
    ids = {key for key in keys if key}
    if group == "queue":
        names = dict(Queue.objects.filter(pk__in=ids).values_list("pk", "name"))
        none = _("No queue")
    elif group == "agent":
        names = dict(Agent.objects.filter(pk__in=ids).values_list("pk", "display_name"))
        none = _("No agent")
    elif group == "category":
        names = category_paths(ids)
        none = _("No category")
    else:
        names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
        none = _("No department")
    return {key: names.get(key, f"#{key}") if key else none for key in keys}


def category_paths(ids: Iterable[int]) -> dict[int, str]:
    """'교통/주정차' for each category id, in two queries whatever the depth."""
    nodes = dict(Category.objects.values_list("pk", "name"))
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    paths = {}
    for pk in ids:
        names, node = [], pk
        while node is not None and node in nodes and len(names) < 20:
            names.append(nodes[node])
            node = parents[node]
        paths[pk] = "/".join(reversed(names))
    return paths


def _rows(cells: dict[CellKey, Measures], group: str) -> list[ReportRow]:
    group_keys = {key if group in KEY_GROUPS else channel for _p, key, channel in cells}
    labels = _labels(group, group_keys)
    channel_order = {value: index for index, value in enumerate(Channel.values)}
    rows = [
        ReportRow(
            period=period,
            key=(key if group in KEY_GROUPS else channel),
            label=labels[key if group in KEY_GROUPS else channel],
            measures=measures,
        )
        for (period, key, channel), measures in cells.items()
    ]

    def order(row: ReportRow) -> tuple:
        if group == "channel":
            within = (channel_order.get(row.key, len(channel_order)), "")
        else:
            within = (row.key == 0, row.label)
        return (row.period is not None, row.period or datetime.min.replace(tzinfo=SEOUL), within)

    return sorted(rows, key=order)


def report(
    *,
    start: date,
    end: date,
    interval: str | None = "day",
    group: str = "none",
    channel: str | None = None,
    queue_id: int | None = None,
    agent_id: int | None = None,
    source: str = "rollup",
) -> list[ReportRow]:
    """Sums for the Seoul days ``start``…``end`` (inclusive), one row per (period, group),
    periods oldest first, only periods/groups with data. ``interval`` one of INTERVALS or
    None (one period for the whole range); ``group`` one of GROUPS. ``channel``,
    ``queue_id`` and ``agent_id`` filter. ``source`` "rollup" or "raw": the same answer.

    ``queue_id``/``agent_id`` combine only with group "none" or "channel", and not with
    each other: anything else raises ValueError (a message for a form error)."""
    slicing = _slicing(group, interval, channel, queue_id, agent_id, source)
    range_start, range_end = day_bounds(start, end)
    return _rows(_cells(slicing, range_start, range_end, source), group)


def report_head(
    *, limit: int, start: date, end: date, interval: str | None = "day", **arguments
) -> tuple[list[ReportRow], bool]:
    """The first ``limit`` rows of :func:`report` and whether more follow, computing only
    the leading periods they need (a year by day by agent is some 170,000 rows; a page
    shows the first few hundred): windows of 1, 2, 4, … days (weeks, months) from ``start``
    until enough rows are found."""
    if interval is None:
        rows = report(start=start, end=end, interval=None, **arguments)
        return rows[:limit], len(rows) > limit
    step = interval if interval in ("week", "month") else "day"
    rows: list[ReportRow] = []
    first, span = start, 1
    while first <= end:
        edge = _period_floor(datetime.combine(first, time.min, tzinfo=SEOUL), step)
        for _period in range(span):
            edge = _period_next(edge, step)
        last = min(end, edge.date() - timedelta(days=1))
        rows.extend(report(start=first, end=last, interval=interval, **arguments))
        if len(rows) > limit:
            return rows[:limit], True
        first, span = last + timedelta(days=1), span * 2
    return rows, False


def totals(*, start: date, end: date, source: str = "rollup", **filters) -> Measures:
    """The whole range's sums, ungrouped (``report(interval=None, group="none")``)."""
    rows = report(start=start, end=end, interval=None, group="none", source=source, **filters)
    total = Measures()
    for row in rows:
        total = total + row.measures
    return total


def heatmap(*, start: date, end: date, source: str = "rollup", **filters) -> list[list[int]]:
    """Contacts offered by weekday (0 = Monday) × hour of day (0–23), Seoul time."""
    slicing = _slicing(
        "none",
        None,
        filters.get("channel"),
        filters.get("queue_id"),
        filters.get("agent_id"),
        source,
    )
    range_start, range_end = day_bounds(start, end)
    if source == "raw":
        rows = Contact.objects.filter(
            direction=Contact.Direction.INBOUND,
            queued_at__gte=range_start,
            queued_at__lt=range_end,
        )
        field, offered = "queued_at", Count("pk")
        if slicing.dimension != "all":
            rows = rows.filter(**{f"{slicing.dimension}_id": slicing.key})
    elif slicing.dimension == "all":
        # The daily "hour" rows: one per day, hour and channel.
        rows = StatRow.objects.filter(
            grain=StatRow.Grain.DAY,
            dimension=StatRow.Dimension.HOUR,
            start__gte=range_start,
            start__lt=range_end,
        )
        field, offered, hour = "start", Sum("offered"), F("key")
    else:
        rows = StatRow.objects.filter(
            grain=StatRow.Grain.QUARTER,
            dimension=slicing.dimension,
            start__gte=range_start,
            start__lt=range_end,
            key=slicing.key,
            offered__gt=0,
        )
        field, offered = "start", Sum("offered")
    if source == "raw" or slicing.dimension != "all":
        hour = ExtractHour(field, tzinfo=SEOUL)
    if slicing.channel:
        rows = rows.filter(channel=slicing.channel)
    counts = (
        rows.annotate(m_weekday=ExtractIsoWeekDay(field, tzinfo=SEOUL), m_hour=hour)
        .values("m_weekday", "m_hour")
        .annotate(m_offered=offered)
        .order_by()
    )
    grid = [[0] * 24 for _day in range(7)]
    for row in counts:
        grid[int(row["m_weekday"]) - 1][int(row["m_hour"])] += int(row["m_offered"] or 0)
    return grid


def between(start: datetime, end: datetime, *, source: str = "raw", **filters) -> Measures:
    """Sums for an arbitrary aware [start, end) range (today so far, the last hour), raw.
    With ``source="rollup"`` both ends must fall on 15-minute edges."""
    slicing = _slicing(
        "none",
        None,
        filters.get("channel"),
        filters.get("queue_id"),
        filters.get("agent_id"),
        source,
    )
    if source == "rollup" and any(
        moment != _period_floor(moment, "15m") for moment in (start, end)
    ):
        raise ValueError("A rollup range must start and end on 15-minute edges.")
    if source == "rollup":
        slicing = _Slicing(
            dimension=slicing.dimension,
            interval=None,
            by_key=False,
            by_channel=False,
            channel=slicing.channel,
            key=slicing.key,
        )
        rows = StatRow.objects.filter(
            grain=StatRow.Grain.QUARTER,
            dimension=slicing.dimension,
            start__gte=start,
            start__lt=end,
        )
        if slicing.channel:
            rows = rows.filter(channel=slicing.channel)
        if slicing.key is not None:
            rows = rows.filter(key=slicing.key)
        sums = _prefixed({name: Sum(name) for name in Measures.field_names()})
        return Measures.from_sums(rows.aggregate(**sums), "s_")
    total = Measures()
    for measures in _raw_cells(slicing, start, end).values():
        total = total + measures
    return total


def by_group_between(start: datetime, end: datetime, *, group: str) -> dict:
    """Raw sums of [start, end) per queue, agent, category, department or channel (its key
    → Measures): the live screens' per-queue and per-agent figures for today so far."""
    slicing = _slicing(group, None, None, None, None, "raw")
    cells = _raw_cells(slicing, start, end)
    return {(key if group in KEY_GROUPS else channel): m for (_p, key, channel), m in cells.items()}


def recent_days(
    *, days: int, now: datetime | None = None, **filters
) -> list[tuple[date, Measures]]:
    """The last ``days`` Seoul days up to today, oldest first, every day kept (zero sums
    when nothing happened): the finished days from the rollups, today from the raw rows,
    so today is exact even between two refreshes."""
    now = now or timezone.now()
    today = now.astimezone(SEOUL).date()
    first = today - timedelta(days=days - 1)
    by_day: dict[date, Measures] = {}
    if days > 1:
        for row in report(start=first, end=today - timedelta(days=1), interval="day", **filters):
            by_day[row.period.date()] = row.measures
    midnight, _tomorrow = day_bounds(today, today)
    by_day[today] = between(midnight, now, **filters)
    return [
        (first + timedelta(days=n), by_day.get(first + timedelta(days=n), Measures()))
        for n in range(days)
    ]
