"""The public reads every screen calls: reports by period and group (from the rollups or the
raw rows), their totals, the weekday × hour heatmap, arbitrary ranges (today so far) and
the last days; with the labels of groups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.metrics.measures import (
    GROUPS,
    INTERVALS,
    KEY_GROUPS,
    SEOUL,
    SOURCES,
    CellKey,
    Measures,
    ReportRow,
    _prefixed,
)
from callcenter.metrics.periods import _period_floor, _period_next, _Slicing
from callcenter.metrics.raw import _raw_cells
from callcenter.metrics.rollup import _rollup_cells
from callcenter.models import Agent, Channel, Contact, Queue, StatRow
from tickets.models import Category, Department


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
    *,
    limit: int,
    start: date,
    end: date,
    interval: str | None = "day",
    group: str = "none",
    channel: str | None = None,
    queue_id: int | None = None,
    agent_id: int | None = None,
    source: str = "rollup",
) -> tuple[list[ReportRow], bool]:
    """The first ``limit`` rows of :func:`report` and whether more follow, computing only
    the leading periods they need (a year by day by agent is some 170,000 rows; a page
    shows the first few hundred): windows of 1, 2, 4, … periods from ``start`` until
    enough rows are found."""
    slicing = _slicing(group, interval, channel, queue_id, agent_id, source)
    first, stop = day_bounds(start, end)
    if interval is None:
        rows = _rows(_cells(slicing, first, stop, source), group)
        return rows[:limit], len(rows) > limit
    rows: list[ReportRow] = []
    span = 1
    while first < stop:
        edge = _period_floor(first, interval)
        for _period in range(span):
            edge = _period_next(edge, interval)
        last = min(stop, edge)
        rows.extend(_rows(_cells(slicing, first, last, source), group))
        if len(rows) > limit:
            return rows[:limit], True
        first, span = last, span * 2
    return rows, False


def totals(*, start: date, end: date, source: str = "rollup", **filters) -> Measures:
    """The whole range's sums, ungrouped (``report(interval=None, group="none")``)."""
    rows = report(start=start, end=end, interval=None, group="none", source=source, **filters)
    total = Measures()
    for row in rows:
        total = total + row.measures
    return total


def _filtered(filters: dict, source: str) -> _Slicing:
    """The ungrouped, undivided slicing of a channel / queue_id / agent_id filter."""
    return _slicing(
        "none",
        None,
        filters.get("channel"),
        filters.get("queue_id"),
        filters.get("agent_id"),
        source,
    )


def heatmap(*, start: date, end: date, source: str = "rollup", **filters) -> list[list[int]]:
    """Contacts offered by weekday (0 = Monday) × hour of day (0–23), Seoul time."""
    slicing = _filtered(filters, source)
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
    slicing = _filtered(filters, source)
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
