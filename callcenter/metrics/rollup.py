"""The rollup computation: the same sums as the raw one, read from the StatRow rows the
worker keeps, at the coarsest grain that covers each part of the range."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Sum

from callcenter.metrics.measures import SEOUL, CellKey, Measures, _add, _prefixed
from callcenter.metrics.periods import _TRUNC, _period_floor, _period_next, _Slicing
from callcenter.models import StatRow

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
