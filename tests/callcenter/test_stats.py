"""The statistics rows: rebuilt from the raw rows, they give every report the same numbers
as a direct computation; the worker's refresh picks up late changes; the command."""

import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from callcenter import metrics
from callcenter.models import Agent, Queue, StatRow
from callcenter.services.stats import REFRESH_LOCK_KEY, stats_rebuild, stats_refresh
from tests.factories_metrics import contact, random_centre, seoul, stop_clock, survey

pytestmark = pytest.mark.django_db

FIRST = date(2026, 10, 30)  # a Friday: the set spans a weekend, a week edge and a month edge
DAYS = 4
RANGE = {"start": FIRST - timedelta(days=1), "end": FIRST + timedelta(days=DAYS + 3)}


@pytest.fixture
def centre():
    random_centre(seed=15, first=FIRST, days=DAYS)
    stats_rebuild(**RANGE)


@pytest.mark.parametrize("group", metrics.GROUPS)
def test_every_report_from_the_rollups_equals_the_direct_computation(centre, group):
    for interval in (None, *metrics.INTERVALS):
        raw = metrics.report(interval=interval, group=group, source="raw", **RANGE)
        rollup = metrics.report(interval=interval, group=group, source="rollup", **RANGE)
        assert raw == rollup, interval
        assert raw and all(row.measures for row in raw), "rows with data only"


def _filters(choice: str) -> dict:
    if choice == "queue":
        return {"queue_id": Queue.objects.get(code="rq-1").pk}
    if choice == "agent":
        return {"agent_id": Agent.objects.get(display_name="상담2").pk}
    return {"channel": choice}


@pytest.mark.parametrize("choice", ["voice", "kakao", "queue", "agent"])
def test_filtered_reports_from_the_rollups_equal_the_direct_computation(centre, choice):
    filters = _filters(choice)
    for group in ("none", "channel"):
        for interval in (None, "15m", "hour", "day", "week", "month"):
            raw = metrics.report(interval=interval, group=group, source="raw", **RANGE, **filters)
            rollup = metrics.report(interval=interval, group=group, **RANGE, **filters)
            assert raw == rollup, (group, interval)
            assert raw, "the filter keeps some rows"


def test_the_whole_range_holds_every_kind_of_sum(centre):
    total = metrics.totals(source="raw", **RANGE)
    assert total == metrics.totals(source="rollup", **RANGE)
    for name in metrics.Measures.field_names():
        assert getattr(total, name) > 0, f"the random set exercises {name}"


def test_each_dimension_adds_up_to_the_total_of_what_it_slices(centre):
    total = metrics.totals(source="rollup", **RANGE)
    by_queue = metrics.report(interval=None, group="queue", **RANGE)
    by_department = metrics.report(interval=None, group="department", **RANGE)
    assert sum(row.measures.offered for row in by_queue) == total.offered
    assert sum(row.measures.survey_answers for row in by_queue) == total.survey_answers
    assert sum(row.measures.tickets_opened for row in by_department) == total.tickets_opened
    assert sum(row.measures.idle_us for row in by_queue) == 0, "idle time is no queue's"


def test_the_heat_map_and_a_range_from_the_rollups_equal_the_direct_computation(centre):
    assert metrics.heatmap(source="raw", **RANGE) == metrics.heatmap(source="rollup", **RANGE)
    voice = {"channel": "voice"}
    assert metrics.heatmap(source="raw", **RANGE, **voice) == metrics.heatmap(**RANGE, **voice)
    queue = {"queue_id": Queue.objects.filter(contacts__isnull=False).first().pk}
    assert metrics.heatmap(source="raw", **RANGE, **queue) == metrics.heatmap(**RANGE, **queue)
    assert sum(map(sum, metrics.heatmap(**RANGE))) == metrics.totals(**RANGE).offered
    start, end = seoul(FIRST, 8, 45), seoul(FIRST + timedelta(days=1), 17, 15)
    assert metrics.between(start, end) == metrics.between(start, end, source="rollup")


def test_a_rebuild_replaces_the_rows_of_its_days_only(centre):
    rows = StatRow.objects.count()
    assert stats_rebuild(start=FIRST, end=FIRST) < rows
    assert StatRow.objects.count() == rows, "rebuilding a day writes back the same rows"
    before = StatRow.objects.filter(start__lt=seoul(RANGE["start"], 0))
    assert not before.filter(grain__in=("15m", "1d")).exists()
    # The week and the month holding the range's first day start before it.
    assert set(before.values_list("grain", flat=True)) == {"1w", "1mo"}


# Ranges whose whole weeks and months come from the week and month rows, with days of data
# at the edges (Saturday 31 October) or none (1 October), and one with no whole period.
WIDE_RANGES = [
    (date(2026, 10, 1), date(2026, 11, 30)),
    (date(2026, 10, 31), date(2026, 11, 30)),
    (date(2026, 10, 29), date(2026, 11, 1)),
]


@pytest.mark.parametrize("group", metrics.GROUPS)
def test_reports_by_week_month_or_in_one_period_from_the_longer_rows_equal_raw(group):
    random_centre(seed=15, first=FIRST, days=DAYS)
    # Every day of the ranges (agents' idle time runs on after the last contact).
    stats_rebuild(start=WIDE_RANGES[0][0], end=WIDE_RANGES[0][1])
    for first, last in WIDE_RANGES:
        for interval in (None, "week", "month"):
            raw = metrics.report(
                start=first, end=last, interval=interval, group=group, source="raw"
            )
            rollup = metrics.report(start=first, end=last, interval=interval, group=group)
            assert raw == rollup, (first, interval)
            assert raw


@pytest.mark.parametrize("interval", ["15m", "day", "week", "month", None])
def test_the_head_of_a_report_is_its_first_rows(centre, interval):
    for group in ("agent", "channel"):
        rows = metrics.report(interval=interval, group=group, **RANGE)
        for limit in (1, 7, len(rows) - 1, len(rows), len(rows) + 5):
            head, more = metrics.report_head(limit=limit, interval=interval, group=group, **RANGE)
            assert (head, more) == (rows[:limit], len(rows) > limit), (group, limit)


def test_whole_months_and_weeks_are_read_from_their_own_rows(centre):
    start, end = metrics.day_bounds(date(2026, 10, 31), date(2026, 11, 30))
    assert [grain for grain, _a, _b in metrics._rollup_pieces(None, start, end)] == ["1d", "1mo"]
    weeks = metrics._rollup_pieces("week", start, end)
    assert [grain for grain, _a, _b in weeks] == ["1d", "1w", "1d"]
    assert timezone.localtime(weeks[1][1], metrics.SEOUL).date() == date(2026, 11, 2)
    assert metrics._rollup_pieces("day", start, end) == [("1d", start, end)]


def test_week_and_month_rows_are_the_sums_of_their_daily_rows(centre):
    names = metrics.Measures.field_names()
    for grain, days in (("1w", 7), ("1mo", None)):
        coarse = StatRow.objects.filter(grain=grain)
        assert coarse.exists()
        for row in coarse:
            start = timezone.localtime(row.start, metrics.SEOUL)
            if days is None:
                end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                end = start + timedelta(days=days)
            daily = StatRow.objects.filter(
                grain="1d",
                dimension=row.dimension,
                key=row.key,
                channel=row.channel,
                start__gte=start,
                start__lt=end,
            )
            sums = [sum(getattr(day, name) for day in daily) for name in names]
            assert sums == [getattr(row, name) for name in names], (grain, row)
    assert not StatRow.objects.filter(grain__in=("1w", "1mo"), dimension="hour").exists()


def test_the_longer_rows_can_be_summed_again_from_the_daily_ones(centre):
    """What the migration does on a database that already holds daily rows."""
    from callcenter.services.stats import rollup_periods

    kept = sorted(StatRow.objects.filter(grain__in=("1w", "1mo")).values_list())
    StatRow.objects.filter(grain__in=("1w", "1mo")).delete()
    assert rollup_periods(FIRST, FIRST + timedelta(days=DAYS - 1)) == len(kept)
    again = sorted(StatRow.objects.filter(grain__in=("1w", "1mo")).values_list())
    assert [row[1:] for row in again] == [row[1:] for row in kept]


def test_daily_rows_start_at_seoul_midnight_and_15_minute_rows_on_quarter_hours(centre):
    for row in StatRow.objects.filter(grain="1d"):
        local = timezone.localtime(row.start, metrics.SEOUL)
        assert (local.hour, local.minute) == (0, 0)
    for row in StatRow.objects.filter(grain="15m"):
        assert timezone.localtime(row.start, metrics.SEOUL).minute in (0, 15, 30, 45)


def test_the_refresh_picks_up_a_late_wrap_up_and_a_late_survey(agent_user, monkeypatch):
    now = stop_clock(monkeypatch, seoul(date(2026, 11, 4), 0, 40))
    today = now.date()
    call = contact(now - timedelta(minutes=30), answer_after=10, talk=60, agent=agent_user.agent)
    stats_refresh()
    before = metrics.report(start=today, end=today, interval=None)[0].measures
    assert (before.handled, before.wrap_us, before.survey_answers) == (1, 0, 0)

    call.wrapup_ended_at = call.ended_at + timedelta(seconds=45)
    call.save(update_fields=["wrapup_ended_at"])
    survey(now - timedelta(minutes=1), 5, contact=call)
    stats_refresh()

    after = metrics.report(start=today, end=today, interval=None)[0].measures
    assert after.wrap_us == 45_000_000
    assert (after.survey_answers, after.survey_satisfied) == (1, 1)
    # The month's row (what a report of the whole month reads) follows too.
    month = StatRow.objects.filter(grain="1mo", dimension="all")
    assert month.aggregate(wrap=Sum("wrap_us"), answers=Sum("survey_answers")) == {
        "wrap": 45_000_000,
        "answers": 1,
    }
    november = metrics.report(start=date(2026, 11, 1), end=date(2026, 11, 30), interval=None)
    assert november[0].measures == after


def test_the_refresh_covers_the_configured_number_of_days(settings, monkeypatch):
    settings.STATS_REFRESH_DAYS = 3
    today = stop_clock(monkeypatch, seoul(date(2026, 11, 4), 9)).date()
    for days_ago in (1, 2, 3):
        contact(seoul(today - timedelta(days=days_ago), 12), abandon_after=30)
    stats_refresh()
    days = metrics.report(start=today - timedelta(days=5), end=today, interval="day")
    assert [row.period.date() for row in days] == [
        today - timedelta(days=2),
        today - timedelta(days=1),
    ]


def test_the_older_days_of_the_window_are_refreshed_every_quarter_hour_not_every_minute(
    settings, monkeypatch
):
    settings.STATS_REFRESH_DAYS = 8
    now = stop_clock(monkeypatch, seoul(date(2026, 11, 10), 9))
    today = now.date()
    stats_refresh()
    old = contact(seoul(today - timedelta(days=5), 12), abandon_after=30)
    recent = contact(seoul(today - timedelta(days=1), 12), abandon_after=30)

    stop_clock(monkeypatch, now + timedelta(minutes=1))
    stats_refresh()
    days = metrics.report(start=today - timedelta(days=7), end=today, interval="day")
    assert [row.period.date() for row in days] == [timezone.localtime(recent.queued_at).date()]

    stop_clock(monkeypatch, now + timedelta(minutes=16))
    stats_refresh()
    days = metrics.report(start=today - timedelta(days=7), end=today, interval="day")
    assert [row.period.date() for row in days] == [
        timezone.localtime(old.queued_at).date(),
        timezone.localtime(recent.queued_at).date(),
    ]


def test_rebuild_stats_shows_progress_and_says_how_many_rows_it_wrote():
    day = date(2026, 11, 3)
    contact(seoul(day, 9), answer_after=5, talk=100)
    contact(seoul(day, 23, 59), channel="webchat", abandon_after=90)
    out, err = StringIO(), StringIO()

    call_command(
        "rebuild_stats", "--from", "2026-11-01", "--to", "2026-11-10", stdout=out, stderr=err
    )

    assert "10/10" in err.getvalue(), "the bar counts the days"
    written = int(re.search(r"Wrote (\d+) statistics rows", out.getvalue()).group(1))
    assert written == StatRow.objects.count() > 0
    assert "2026-11-01 … 2026-11-10" in out.getvalue()
    assert metrics.totals(start=day, end=day).offered == 2


def test_rebuild_stats_starts_from_the_first_contact_by_default(monkeypatch):
    today = stop_clock(monkeypatch, seoul(date(2026, 11, 4), 9)).date()
    contact(seoul(today - timedelta(days=3), 23, 59), abandon_after=30)
    out = StringIO()

    call_command("rebuild_stats", "--no-progress", stdout=out)

    assert "2026-11-01 … 2026-11-04" in out.getvalue()
    assert metrics.totals(start=today - timedelta(days=3), end=today).offered == 1


def test_rebuild_stats_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(Exception, match="before"):
        call_command("rebuild_stats", "--from", "2026-11-10", "--to", "2026-11-01")


@pytest.mark.postgres
def test_a_refresh_that_comes_while_another_runs_skips_its_turn():
    contact(timezone.now() - timedelta(minutes=5), abandon_after=30)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK_KEY])
        assert stats_refresh() == 0
        assert not StatRow.objects.exists()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK_KEY])
        assert stats_refresh() > 0
    finally:
        other.close()
