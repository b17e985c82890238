"""The sums every metric is read from: the thresholds and report vocabulary, :class:`Measures`
(additive counts and microseconds) and :class:`ReportRow`, and the contact aggregate that
every screen's service level, ASA, abandonment and AHT come from."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Greatest

from callcenter.models import REALTIME_CHANNELS, Contact

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
