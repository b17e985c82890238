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
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")

VOICE_THRESHOLD = timedelta(seconds=20)
CHAT_THRESHOLD = timedelta(seconds=60)
SHORT_ABANDON = timedelta(seconds=5)
SERVICE_LEVEL_TARGET = 0.8

# Report intervals and groupings (the URL and export contract of /supervisor/reports/).
INTERVALS = ("15m", "hour", "day", "week", "month")
GROUPS = ("none", "channel", "queue", "agent", "category", "department")


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
        return tuple(f.name for f in fields(cls))

    def __add__(self, other: Measures) -> Measures:
        return Measures(
            **{name: getattr(self, name) + getattr(other, name) for name in self.field_names()}
        )

    # --- ratios (None when the denominator is zero) -------------------------------------
    @property
    def service_level(self) -> float | None:
        """Answered within T ÷ (offered − abandoned within 5 s)."""
        base = self.offered - self.short_abandoned
        return self.in_threshold / base if base else None

    @property
    def asa(self) -> timedelta | None:
        """Queue time of answered contacts ÷ answered contacts."""
        return _td(self.wait_us / self.answered) if self.answered else None

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
        return _td(self.handle_us / self.handled) if self.handled else None

    @property
    def aht_talk(self) -> timedelta | None:
        return _td(self.talk_us / self.handled) if self.handled else None

    @property
    def aht_hold(self) -> timedelta | None:
        return _td(self.hold_us / self.handled) if self.handled else None

    @property
    def aht_wrap(self) -> timedelta | None:
        return _td(self.wrap_us / self.handled) if self.handled else None

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


@dataclass
class ReportRow:
    """One line of a report: a period (its start, aware, Asia/Seoul; None when the report is
    not by interval), a group (its key and label; None/"" when not grouped) and its sums."""

    period: datetime | None
    key: int | str | None
    label: str
    measures: Measures


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
    ``queue_id`` and ``agent_id`` filter. ``source`` "rollup" or "raw": the same answer."""
    raise NotImplementedError


def totals(*, start: date, end: date, source: str = "rollup", **filters) -> Measures:
    """The whole range's sums, ungrouped (``report(interval=None, group="none")``)."""
    rows = report(start=start, end=end, interval=None, group="none", source=source, **filters)
    total = Measures()
    for row in rows:
        total = total + row.measures
    return total


def heatmap(*, start: date, end: date, source: str = "rollup", **filters) -> list[list[int]]:
    """Contacts offered by weekday (0 = Monday) × hour of day (0–23), Seoul time."""
    raise NotImplementedError


def between(start: datetime, end: datetime, *, source: str = "raw", **filters) -> Measures:
    """Sums for an arbitrary aware [start, end) range (today so far, the last hour), raw."""
    raise NotImplementedError
