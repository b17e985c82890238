"""The raw computation: the sums of each population (contacts, tickets, transfers, surveys)
and agents' idle time, straight from Contact, Ticket, TicketEvent, SurveyAnswer and
AgentPresenceEvent rows; and :func:`stat_cells`, what the StatRow rollups hold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from callcenter.metrics.measures import (
    DIMENSIONS,
    CellKey,
    Measures,
    _add,
    _annotate_contact_spans,
    _contact_sums,
    _prefixed,
)
from callcenter.metrics.periods import (
    _period_annotations,
    _period_columns,
    _period_of,
    _Slicing,
    _split,
)
from callcenter.models import Agent, AgentPresenceEvent, Contact, Presence
from tickets.models import Department, SurveyAnswer, Ticket, TicketEvent
from tickets.selectors import first_contact_resolutions


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
def _subtract(spans: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]):
    """``spans`` (sorted, disjoint) minus the union of ``holes``, in one sweep: a year of an
    agent's available spans and contacts is thousands of each."""
    holes = sorted(holes)
    result = []
    first = 0  # holes before this one end before every span still to come
    for a, b in spans:
        while first < len(holes) and holes[first][1] <= a:
            first += 1
        cursor = a
        for index in range(first, len(holes)):
            h_start, h_end = holes[index]
            if h_start >= b:
                break
            if h_end <= cursor:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = h_end
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
