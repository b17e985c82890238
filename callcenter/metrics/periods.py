"""Seoul periods (15 minutes, hour, day, week, month): database truncations, their Python
counterparts and spans cut at period edges; and :class:`_Slicing`, what one computation
is split and filtered by. Shared by the raw and the rollup computations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import ExpressionWrapper, IntegerField, Value
from django.db.models.functions import (
    Cast,
    ExtractMinute,
    TruncDay,
    TruncHour,
    TruncMonth,
    TruncWeek,
)

from callcenter.metrics.measures import SEOUL, CellKey, _us

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
