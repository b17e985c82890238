"""The statistics rows (StatRow): rebuilt from the raw rows, a chunk of days at a time.

``stats_rebuild`` is what ``manage.py rebuild_stats`` runs over history; ``stats_refresh``
is what the worker runs every minute over the last STATS_REFRESH_DAYS days, so late
changes (a wrap-up ended, a survey answered, a repeat contact that undoes an FCR, a ticket
that went overdue) reach the rows within a minute. Both write exactly what
``callcenter.metrics.stat_cells`` computes, so reports from rollups equal a direct
computation.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zlib import crc32

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from callcenter import metrics
from callcenter.models import StatRow
from callcenter.services.scheduler import job_claim

# Days computed in one pass and replaced in one transaction: the raw rows of a week are
# read once per population instead of once per day.
CHUNK_DAYS = 7
# Held while a chunk is replaced, so two rebuilds never insert the same rows (PostgreSQL).
LOCK_KEY = crc32(b"open120.stats_rebuild")
# Held by a running refresh: a beat that comes while the last refresh still runs skips.
REFRESH_LOCK_KEY = crc32(b"open120.stats_refresh")
# The minute's refresh covers today and yesterday; the whole window comes this often.
RECENT_DAYS = 2
WINDOW_EVERY_SECONDS = 15 * 60


def _computed(first: date, last: date) -> dict:
    """The chunk's sums from the raw rows, in one read-only transaction (PostgreSQL: without
    JIT, whose compile time exceeds these short aggregates' run time)."""
    start, end = metrics.day_bounds(first, last)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return metrics.stat_cells(start=start, end=end, now=timezone.now())


COLUMNS = ("grain", "start", "dimension", "key", "channel", *metrics.Measures.field_names())


def _chunk_rows(first: date, last: date) -> list[tuple]:
    """The chunk's StatRow rows as value tuples in COLUMNS order: the 15-minute rows and
    their sums by Seoul day."""
    rows = []
    for dimension, cells in _computed(first, last).items():
        days: dict[tuple, metrics.Measures] = defaultdict(metrics.Measures)
        hours: dict[tuple, metrics.Measures] = defaultdict(metrics.Measures)
        for (bucket, key, channel), measures in cells.items():
            rows.append(
                (StatRow.Grain.QUARTER.value, bucket, dimension, key, channel)
                + tuple(measures.as_dict().values())
            )
            midnight = bucket.replace(hour=0, minute=0, second=0, microsecond=0)
            days[(midnight, key, channel)] += measures
            if dimension == StatRow.Dimension.ALL and measures.offered:
                hours[(midnight, bucket.hour, channel)] += measures
        for slice_, sums in ((dimension, days), (StatRow.Dimension.HOUR.value, hours)):
            rows.extend(
                (StatRow.Grain.DAY.value, midnight, slice_, key, channel)
                + tuple(measures.as_dict().values())
                for (midnight, key, channel), measures in sums.items()
            )
    return rows


def _insert(rows: Iterable[tuple], model=StatRow) -> None:
    """PostgreSQL: one COPY (a rebuild writes hundreds of thousands of rows); elsewhere
    bulk_create. ``model``: a migration's historical StatRow."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    model.objects.bulk_create(
        (model(**dict(zip(COLUMNS, row, strict=True))) for row in rows), batch_size=2000
    )


def _locked() -> None:
    """In a transaction: wait for any other writer of the rows (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _replace(first: date, last: date, rows: list[tuple]) -> None:
    start, end = metrics.day_bounds(first, last)
    with transaction.atomic():
        _locked()
        StatRow.objects.filter(
            grain__in=(StatRow.Grain.QUARTER, StatRow.Grain.DAY), start__gte=start, start__lt=end
        ).delete()
        _insert(rows)


# The longer grains and the report interval each one is: a week's or month's rows are the
# sums of its daily rows (the heat-map's "hour" rows stay daily).
COARSE_GRAINS = (
    (StatRow.Grain.WEEK, "week", TruncWeek),
    (StatRow.Grain.MONTH, "month", TruncMonth),
)


def _periods_holding(first: date, last: date, interval: str) -> tuple[date, date]:
    """The first day of the first week or month holding ``first``, and the last day of the
    last one holding ``last``."""
    if interval == "week":
        return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())
    following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.replace(day=1), following - timedelta(days=1)


def rollup_periods(first: date, last: date, *, model=StatRow) -> int:
    """Replace the week and month rows of every week and month holding a day of
    first…last (Seoul) with the sums of their daily rows; the number of rows written.
    ``model``: a migration's historical StatRow."""
    written = 0
    sums = {f"s_{name}": Sum(name) for name in metrics.Measures.field_names()}
    for grain, interval, trunc in COARSE_GRAINS:
        start, end = metrics.day_bounds(*_periods_holding(first, last, interval))
        days = (
            model.objects.filter(grain=StatRow.Grain.DAY, start__gte=start, start__lt=end)
            .exclude(dimension=StatRow.Dimension.HOUR)
            .annotate(m_period=trunc("start", tzinfo=metrics.SEOUL))
            .values("m_period", "dimension", "key", "channel")
            .annotate(**sums)
            .order_by()
        )
        with transaction.atomic():
            _locked()
            rows = [
                (grain.value, row["m_period"], row["dimension"], row["key"], row["channel"])
                + tuple(row[name] or 0 for name in sums)
                for row in days
            ]
            model.objects.filter(grain=grain, start__gte=start, start__lt=end).delete()
            _insert(rows, model)
        written += len(rows)
    return written


def stats_rebuild(
    *, start: date, end: date, progress: Callable[[int], object] | None = None
) -> int:
    """Delete and recompute the StatRow rows of the Seoul days start…end (inclusive) from
    the raw rows, then the week and month rows holding them; the number of rows written.
    ``progress`` is called with the number of days each chunk finished (a tqdm bar's
    ``update``)."""
    written = 0
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=CHUNK_DAYS - 1))
        rows = _chunk_rows(first, last)
        _replace(first, last, rows)
        written += len(rows)
        if progress is not None:
            progress((last - first).days + 1)
        first = last + timedelta(days=1)
    if start <= end:
        written += rollup_periods(start, end)
    return written


@contextmanager
def _refresh_lock():
    """True when this process may refresh now: no other refresh is running (PostgreSQL;
    SQLite serialises writers by itself)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK_KEY])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK_KEY])


def stats_refresh(*, now: datetime | None = None) -> int:
    """Rebuild recent Seoul days (the worker, every minute); the number of rows written, 0
    when another refresh is still running.

    Every minute: today and yesterday, where contacts end and wrap up and answers arrive.
    Once every WINDOW_EVERY_SECONDS: the last STATS_REFRESH_DAYS days, for what changes
    older days late (an FCR verdict undone by a repeat contact within 7 days, a survey of an
    older ticket): at 50,000 contacts a day, eight days every minute would not keep up."""
    today = timezone.localtime(now or timezone.now(), metrics.SEOUL).date()
    days = max(1, settings.STATS_REFRESH_DAYS)
    with _refresh_lock() as free:
        if not free:
            return 0
        if days > RECENT_DAYS and not job_claim("stats-refresh-window", WINDOW_EVERY_SECONDS):
            days = RECENT_DAYS
        return stats_rebuild(start=today - timedelta(days=days - 1), end=today)
