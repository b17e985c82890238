"""Business time: due times counted in working hours on a Korean business calendar.

Pure functions over a :class:`WorkingTime` (weekly opening hours, closed dates, or 24/7);
nothing here touches the database, so every calendar case is a plain unit test. Times are
aware datetimes; the arithmetic happens in Asia/Seoul wall time (no DST there), results
come back in the same zone.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SEOUL = ZoneInfo("Asia/Seoul")
# Weekday (Monday = 0) → opening intervals, as "HH:MM" pairs.
OFFICE_HOURS: dict[int, list[tuple[str, str]]] = {d: [("09:00", "18:00")] for d in range(5)}
MAX_DAYS_AHEAD = 3660  # a target that does not fit in ten years is a configuration error


@lru_cache(maxsize=64)
def korean_holidays(year: int) -> dict[date, str]:
    """Korean public holidays of ``year`` (lunar 설날/추석 and substitute days included)."""
    return dict(holidays.country_holidays("KR", years=year, language="ko").items())


def is_korean_holiday(day: date) -> bool:
    return day in korean_holidays(day.year)


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class WorkingTime:
    """When the clock runs. ``always_open`` (24/7 queues) ignores hours and closures."""

    hours: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: dict(OFFICE_HOURS))
    closed: Callable[[date], bool] = is_korean_holiday
    always_open: bool = False

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one calendar day, as aware datetimes."""
        if self.closed(day):
            return []
        result = []
        for start, end in self.hours.get(day.weekday(), []):
            opening = datetime.combine(day, _parse(start), SEOUL)
            closing = (
                datetime.combine(day + timedelta(days=1), time.min, SEOUL)
                if end == "24:00"
                else datetime.combine(day, _parse(end), SEOUL)
            )
            if closing > opening:
                result.append((opening, closing))
        return sorted(result)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in working time (a queue with this calendar takes calls)."""
        if at.tzinfo is None:
            raise ValueError("at must be an aware datetime")
        if self.always_open:
            return True
        at = at.astimezone(SEOUL)
        return any(opening <= at < closing for opening, closing in self.intervals(at.date()))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if duration < timedelta():
            raise ValueError("duration must not be negative")
        start = start.astimezone(SEOUL)
        if self.always_open:
            return start + duration
        left = duration
        day = start.date()
        for _ in range(MAX_DAYS_AHEAD):
            for opening, closing in self.intervals(day):
                begin = max(opening, start)
                if begin >= closing:
                    continue
                available = closing - begin
                if left <= available:
                    return begin + left
                left -= available
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time for this target")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when end is not after start)."""
        start, end = start.astimezone(SEOUL), end.astimezone(SEOUL)
        if end <= start:
            return timedelta()
        if self.always_open:
            return end - start
        total = timedelta()
        day = start.date()
        while day <= end.date():
            for opening, closing in self.intervals(day):
                overlap = min(closing, end) - max(opening, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def resume(self, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """A due time after a pause: the working time left at the pause, from the resume."""
        return self.add(resumed_at, self.between(paused_at, due))


def closed_dates(extra: Iterable[date], *, public_holidays: bool = True) -> Callable[[date], bool]:
    """A ``closed`` test: Korean public holidays (optional) plus manual closures."""
    manual = frozenset(extra)

    def closed(day: date) -> bool:
        return day in manual or (public_holidays and is_korean_holiday(day))

    return closed
