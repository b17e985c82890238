"""The service metrics on hand-made sets with known answers (DESIGN.md's definitions),
from the raw rows and, rebuilt, from the statistics rows."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from callcenter import metrics
from callcenter.metrics import SEOUL, Measures
from callcenter.services.stats import stats_rebuild
from tests import factories
from tests.factories_metrics import (
    contact,
    presence,
    seoul,
    stop_clock,
    survey,
    ticket,
    transfer,
)

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 2)
SOURCES = ["raw", "rollup"]


def totals(source: str, start: date = MONDAY, end: date = MONDAY, **filters) -> Measures:
    if source == "rollup":
        stats_rebuild(start=start - timedelta(days=1), end=end + timedelta(days=1))
    return metrics.totals(start=start, end=end, source=source, **filters)


def report(source: str, *, start: date = MONDAY, end: date = MONDAY, **options):
    if source == "rollup":
        stats_rebuild(start=start - timedelta(days=1), end=end + timedelta(days=1))
    return metrics.report(start=start, end=end, source=source, **options)


@pytest.mark.parametrize("source", SOURCES)
def test_short_abandons_leave_the_service_level_base_and_are_not_counted_abandoned(source):
    nine = seoul(MONDAY, 9)
    contact(nine, answer_after=10, talk=60)  # in time
    contact(nine, answer_after=30, talk=60)  # late
    contact(nine, abandon_after=3)  # hung up within 5 s
    contact(nine, abandon_after=5)  # exactly 5 s: still a short abandon
    contact(nine, abandon_after=6)  # gave up after waiting

    figures = totals(source)

    assert (figures.offered, figures.answered) == (5, 2)
    assert (figures.short_abandoned, figures.abandoned) == (2, 1)
    assert figures.service_level == pytest.approx(1 / 3)  # 1 in time ÷ (5 − 2)
    assert figures.abandonment_rate == pytest.approx(1 / 5)


@pytest.mark.parametrize("source", SOURCES)
def test_calls_and_video_must_be_answered_in_20_seconds_and_chats_in_60(source):
    nine = seoul(MONDAY, 9)
    contact(nine, channel="voice", answer_after=20)  # exactly 20 s counts
    contact(nine, channel="voice", answer_after=20.5)
    contact(nine, channel="video", answer_after=20)
    contact(nine, channel="video", answer_after=25)  # in time for a chat, not for video
    contact(nine, channel="webchat", answer_after=60)
    contact(nine, channel="kakao", answer_after=61)

    figures = totals(source)

    assert figures.in_threshold == 3
    assert figures.service_level == pytest.approx(3 / 6)
    by_channel = {row.key: row.measures for row in report(source, interval=None, group="channel")}
    assert by_channel["voice"].service_level == 0.5
    assert by_channel["video"].service_level == 0.5
    assert by_channel["webchat"].service_level == 1.0
    assert by_channel["kakao"].service_level == 0.0


@pytest.mark.parametrize("source", SOURCES)
def test_the_average_speed_of_answer_counts_answered_contacts_only(source):
    nine = seoul(MONDAY, 9)
    contact(nine, answer_after=10, talk=60)
    contact(nine, answer_after=20)  # still talking: its wait counts
    contact(nine, channel="webchat", answer_after=45, talk=60)
    contact(nine, abandon_after=100)  # never answered: no part of ASA

    assert totals(source).asa == timedelta(seconds=25)


@pytest.mark.parametrize("source", SOURCES)
def test_handle_time_splits_into_talk_hold_and_wrap_up(source):
    nine = seoul(MONDAY, 9)
    agent = factories.AgentFactory()
    contact(nine, answer_after=5, talk=300, hold=60, wrap=30, agent=agent)
    contact(nine, answer_after=5, talk=100, agent=agent)  # still in wrap-up: no wrap time yet
    contact(nine, answer_after=5, agent=agent)  # still talking: not handled yet
    contact(nine, answer_after=5, talk=50, hold=80, wrap=10, agent=agent)  # hold > its span

    figures = totals(source)

    assert figures.handled == 3
    assert figures.talk_us == (240 + 100 + 0) * 1_000_000
    assert figures.hold_us == (60 + 80) * 1_000_000
    assert figures.wrap_us == (30 + 10) * 1_000_000
    assert figures.aht_talk == timedelta(seconds=340 / 3)
    assert figures.aht_hold == timedelta(seconds=140 / 3)
    assert figures.aht_wrap == timedelta(seconds=40 / 3)
    assert figures.aht == timedelta(seconds=520 / 3)


@pytest.mark.parametrize("source", SOURCES)
def test_a_transferred_contact_and_its_new_contact_each_count_in_their_queue(source):
    general = factories.QueueFactory(code="general", name="일반")
    foreign = factories.QueueFactory(code="foreign", name="외국어")
    first = contact(seoul(MONDAY, 9), answer_after=10, talk=120, wrap=0, queue=general)
    second = contact(first.ended_at, answer_after=30, talk=200, wrap=20, queue=foreign)
    second.transferred_from = first
    second.save(update_fields=["transferred_from"])

    queues = {row.label: row.measures for row in report(source, interval=None, group="queue")}

    assert set(queues) == {"일반", "외국어"}
    assert (queues["일반"].offered, queues["일반"].handled) == (1, 1)
    assert queues["일반"].aht == timedelta(seconds=120)
    assert queues["외국어"].aht == timedelta(seconds=220)
    assert queues["외국어"].service_level == 0.0
    assert totals(source).offered == 2


@pytest.mark.parametrize("source", SOURCES)
def test_a_ticket_transferred_to_a_department_counts_for_it_and_the_transferring_agent(
    source, agent_user
):
    roads = factories.DepartmentFactory(name="도로관리과", code="roads")
    taxes = factories.DepartmentFactory(name="세무과", code="taxes")
    pothole = ticket(seoul(MONDAY, 9), created_by=agent_user, department=roads)
    transfer(pothole, seoul(MONDAY, 9, 30), department=taxes, actor=agent_user)
    transfer(pothole, seoul(MONDAY, 11), department=roads, actor=None)

    departments = {
        row.label: row.measures.tickets_transferred
        for row in report(source, interval=None, group="department")
    }
    with translation.override("en"):
        agents = {
            row.label: row.measures.tickets_transferred
            for row in report(source, interval=None, group="agent")
        }

    assert departments == {"도로관리과": 1, "세무과": 1}
    assert agents == {"김민지": 1, "No agent": 1}
    assert totals(source).tickets_transferred == 2


@pytest.mark.parametrize("source", SOURCES)
def test_a_ticket_resolved_across_several_contacts_is_no_first_contact_resolution(source, citizen):
    nine = seoul(MONDAY, 9)
    parking, noise = factories.CategoryFactory(), factories.CategoryFactory()
    once = contact(nine, answer_after=5, talk=60, citizen=citizen)
    ticket(nine, contacts=(once,), category=parking, citizen=citizen, resolved_at=nine)
    calls = [contact(nine, answer_after=5, talk=60, citizen=citizen) for _n in range(2)]
    ticket(nine, contacts=tuple(calls), category=noise, citizen=citizen, resolved_at=nine)

    figures = totals(source)

    assert (figures.fcr_resolved, figures.tickets_resolved) == (1, 2)
    assert figures.fcr == 0.5


@pytest.mark.parametrize("source", SOURCES)
def test_a_repeat_contact_within_7_days_undoes_the_first_contact_resolution(source, citizen):
    parking = factories.CategoryFactory()
    first_call = contact(seoul(MONDAY, 9), answer_after=5, talk=60, citizen=citizen)
    ticket(
        seoul(MONDAY, 9),
        contacts=(first_call,),
        category=parking,
        citizen=citizen,
        resolved_at=seoul(MONDAY, 10),
    )
    again = contact(seoul(MONDAY + timedelta(days=3), 9), answer_after=5, talk=60, citizen=citizen)
    ticket(
        again.queued_at,
        contacts=(again,),
        category=parking,
        citizen=citizen,
        resolved_at=again.ended_at,
    )
    late = contact(seoul(MONDAY + timedelta(days=20), 9), answer_after=5, talk=60, citizen=citizen)
    ticket(late.queued_at, contacts=(late,), category=parking, citizen=citizen)

    days = {
        row.period.date(): row.measures
        for row in report(source, end=MONDAY + timedelta(days=3), interval="day")
    }

    assert (days[MONDAY].tickets_resolved, days[MONDAY].fcr_resolved) == (1, 0)
    later = days[MONDAY + timedelta(days=3)]
    assert (later.tickets_resolved, later.fcr_resolved) == (1, 1), "day 20 is past its 7 days"


@pytest.mark.parametrize("source", SOURCES)
def test_csat_counts_answers_of_4_and_5(source):
    nine = seoul(MONDAY, 9)
    for score in (5, 4, 3, 1):
        survey(nine, score)

    figures = totals(source)

    assert (figures.survey_satisfied, figures.survey_answers) == (2, 4)
    assert figures.csat == 0.5


@pytest.mark.parametrize("source", SOURCES)
def test_occupancy_is_handling_time_over_handling_and_available_idle_time(source):
    agent = factories.AgentFactory()
    presence(agent, seoul(MONDAY, 8, 50), "break")
    presence(agent, seoul(MONDAY, 9), "available")
    contact(seoul(MONDAY, 9, 10), answer_after=0, talk=600, wrap=300, agent=agent)
    presence(agent, seoul(MONDAY, 10, 30), "offline")

    figures = totals(source)
    by_hour = {row.period.hour: row.measures.idle_us for row in report(source, interval="hour")}

    assert figures.idle_us == 75 * 60 * 1_000_000  # 90 available minutes − 15 in hand
    assert figures.handle_us == 15 * 60 * 1_000_000
    assert figures.occupancy == pytest.approx(15 / 90)
    assert by_hour == {9: 45 * 60 * 1_000_000, 10: 30 * 60 * 1_000_000}


def test_an_agent_still_available_is_idle_until_now_and_not_beyond(monkeypatch):
    now = stop_clock(monkeypatch, seoul(MONDAY, 12))
    agent = factories.AgentFactory()
    presence(agent, now - timedelta(minutes=20), "available")

    figures = metrics.between(now - timedelta(hours=1), now + timedelta(hours=1))

    assert figures.idle_us == 20 * 60 * 1_000_000


@pytest.mark.parametrize("source", SOURCES)
def test_days_are_seoul_days(source):
    contact(seoul(MONDAY, 23, 59), abandon_after=30)  # 14:59 UTC
    contact(seoul(MONDAY + timedelta(days=1), 0, 1), abandon_after=30)  # 15:01 UTC, same UTC day

    rows = report(source, end=MONDAY + timedelta(days=1), interval="day")

    assert [(row.period, row.measures.offered) for row in rows] == [
        (seoul(MONDAY, 0), 1),
        (seoul(MONDAY + timedelta(days=1), 0), 1),
    ]
    assert all(row.period.tzinfo == SEOUL for row in rows)


@pytest.mark.parametrize("source", SOURCES)
def test_each_interval_buckets_by_its_own_seoul_periods(source):
    for at in (
        seoul(MONDAY, 9, 0),
        seoul(MONDAY, 9, 14, 59),
        seoul(MONDAY, 9, 15),
        seoul(MONDAY, 10, 5),
        seoul(date(2026, 11, 8), 23, 59),  # Sunday: still Monday the 2nd's week
        seoul(date(2026, 11, 9), 0, 1),  # Monday: the next week
        seoul(date(2026, 12, 1), 0, 0),  # the next month
    ):
        contact(at, abandon_after=10)
    end = date(2026, 12, 1)

    def periods(interval):
        return [
            (row.period, row.measures.offered) for row in report(source, end=end, interval=interval)
        ]

    assert periods("15m")[:3] == [
        (seoul(MONDAY, 9, 0), 2),
        (seoul(MONDAY, 9, 15), 1),
        (seoul(MONDAY, 10, 0), 1),
    ]
    assert periods("hour")[:2] == [(seoul(MONDAY, 9), 3), (seoul(MONDAY, 10), 1)]
    assert periods("day")[:2] == [(seoul(MONDAY, 0), 4), (seoul(date(2026, 11, 8), 0), 1)]
    assert periods("week") == [
        (seoul(MONDAY, 0), 5),
        (seoul(date(2026, 11, 9), 0), 1),
        (seoul(date(2026, 11, 30), 0), 1),
    ]
    assert periods("month") == [(seoul(date(2026, 11, 1), 0), 6), (seoul(end, 0), 1)]
    assert periods(None) == [(None, 7)]


@pytest.mark.parametrize("source", SOURCES)
def test_each_grouping_names_its_slices(source, agent_user):
    nine = seoul(MONDAY, 9)
    general = factories.QueueFactory(code="general", name="일반")
    traffic = factories.CategoryFactory(name="교통")
    parking = factories.CategoryFactory(name="주정차", parent=traffic)
    roads = factories.DepartmentFactory(name="도로관리과")
    call = contact(nine, answer_after=5, talk=60, agent=agent_user.agent, queue=general)
    chat = contact(nine, channel="kakao", abandon_after=30, queue=general)
    ticket(nine, contacts=(call,), category=parking, department=roads, created_by=agent_user)
    ticket(nine + timedelta(hours=1), contacts=(call,), category=traffic)  # a later ticket
    ticket(nine, contacts=(chat,), channel="kakao")

    def labels(group):
        with translation.override("en"):
            rows = report(source, interval=None, group=group)
        return [(row.key, row.label, row.measures.offered) for row in rows]

    assert labels("none") == [(None, "", 2)]
    assert labels("channel") == [("voice", "Phone", 1), ("kakao", "KakaoTalk", 1)]
    assert labels("queue") == [(general.pk, "일반", 2)]
    assert labels("agent") == [(agent_user.agent.pk, "김민지", 1), (0, "No agent", 1)]
    assert labels("category") == [
        (traffic.pk, "교통", 0),  # a ticket opened, no contact of its own
        (parking.pk, "교통/주정차", 1),  # the call's earliest ticket
        (0, "No category", 1),
    ]
    departments = report(source, interval=None, group="department")
    assert [(row.label, row.measures.tickets_opened) for row in departments][0] == ("도로관리과", 1)


@pytest.mark.parametrize(
    "options",
    [
        {"group": "agent", "queue_id": 1},
        {"group": "queue", "agent_id": 1},
        {"queue_id": 1, "agent_id": 1},
        {"interval": "year"},
        {"group": "citizen"},
    ],
)
def test_a_report_that_cannot_be_read_is_refused_with_a_reason(options):
    with pytest.raises(ValueError, match=r"\w"):
        metrics.report(start=MONDAY, end=MONDAY, **options)


@pytest.mark.parametrize("source", SOURCES)
def test_filters_keep_one_channel_queue_or_agent(source, agent_user):
    nine = seoul(MONDAY, 9)
    general = factories.QueueFactory(code="general")
    contact(nine, answer_after=5, talk=60, agent=agent_user.agent, queue=general)
    contact(nine, channel="webchat", answer_after=5, talk=60)
    contact(nine, channel="webchat", abandon_after=30, queue=general)

    assert totals(source, channel="webchat").offered == 2
    assert totals(source, queue_id=general.pk).offered == 2
    assert totals(source, agent_id=agent_user.agent.pk).offered == 1
    assert totals(source, channel="voice", queue_id=general.pk).offered == 1


@pytest.mark.parametrize("source", SOURCES)
def test_outbound_and_never_queued_contacts_are_no_part_of_the_service_figures(source):
    nine = seoul(MONDAY, 9)
    contact(nine, answer_after=5, talk=60)
    contact(nine, answer_after=5, talk=60, direction="outbound")  # a call-back
    factories.ContactFactory(channel="kakao", queued_at=None, created_at=nine)  # the bot's

    assert totals(source).offered == 1


@pytest.mark.parametrize("source", SOURCES)
def test_tickets_count_when_opened_resolved_and_overdue(source):
    nine = seoul(MONDAY, 9)
    ticket(nine, resolution_due=seoul(MONDAY, 12))  # overdue at noon
    ticket(nine, resolution_due=seoul(MONDAY, 12), resolved_at=seoul(MONDAY, 11))  # in time
    ticket(nine, resolution_due=seoul(MONDAY, 12), resolved_at=seoul(MONDAY, 13))  # late
    ticket(nine, resolution_due=timezone.now() + timedelta(days=1))  # not due yet
    kept = ticket(nine)
    ticket(nine, resolution_due=seoul(MONDAY, 12), merged_into=kept)  # a merged duplicate

    figures = totals(source)

    assert (figures.tickets_opened, figures.tickets_resolved) == (5, 2)
    assert figures.tickets_overdue == 2


@pytest.mark.parametrize("source", SOURCES)
def test_the_heat_map_counts_contacts_by_seoul_weekday_and_hour(source):
    contact(seoul(MONDAY, 9, 7), abandon_after=10)
    contact(seoul(MONDAY, 9, 59), answer_after=5, talk=30)
    contact(seoul(date(2026, 11, 8), 23, 59), abandon_after=10)  # Sunday
    if source == "rollup":
        stats_rebuild(start=MONDAY, end=date(2026, 11, 8))

    grid = metrics.heatmap(start=MONDAY, end=date(2026, 11, 8), source=source)

    assert len(grid) == 7 and all(len(hours) == 24 for hours in grid)
    assert grid[0][9] == 2 and grid[6][23] == 1
    assert sum(map(sum, grid)) == 3


def test_today_so_far_is_read_from_the_raw_rows_without_waiting_for_a_refresh(monkeypatch):
    now = stop_clock(monkeypatch, seoul(MONDAY, 0, 10))
    contact(now - timedelta(minutes=5), answer_after=5, talk=30)
    contact(now - timedelta(minutes=15), answer_after=5, talk=30)  # yesterday
    stats_rebuild(start=MONDAY - timedelta(days=1), end=MONDAY)
    contact(now - timedelta(minutes=1), abandon_after=10)  # after the last refresh

    days = metrics.recent_days(days=30)

    assert len(days) == 30
    assert days[-1][0] == MONDAY and days[-1][1].offered == 2
    assert days[-2][0] == MONDAY - timedelta(days=1) and days[-2][1].offered == 1
    assert days[-1][1] == metrics.between(seoul(MONDAY, 0), now)


def test_a_rollup_range_must_fall_on_quarter_hours():
    with pytest.raises(ValueError):
        metrics.between(seoul(MONDAY, 9, 7), seoul(MONDAY, 10), source="rollup")


def test_sums_add_up_and_ratios_are_unknown_without_a_base():
    empty = Measures()
    assert empty.service_level is None and empty.occupancy is None and empty.csat is None
    assert not empty
    both = Measures(offered=2, in_threshold=1) + Measures(offered=1, short_abandoned=1)
    assert both.service_level == 0.5


def test_idle_time_is_the_available_spans_minus_every_contact_in_hand_in_one_sweep():
    """metrics._subtract against a minute-by-minute reference, on random spans and holes
    that overlap, nest, touch and run past the spans (a year's worth is thousands)."""
    import random

    from callcenter.metrics import _subtract

    def minutes(spans):
        return {minute for a, b in spans for minute in range(a, b)}

    generator = random.Random(15)
    for _case in range(300):
        edges = sorted(generator.sample(range(0, 600), 2 * generator.randint(0, 6)))
        spans = list(zip(edges[::2], edges[1::2], strict=True))
        holes = []
        for _hole in range(generator.randint(0, 12)):
            start = generator.randrange(-20, 620)
            holes.append((start, start + generator.randint(1, 200)))
        result = _subtract(spans, holes)
        assert minutes(result) == minutes(spans) - minutes(holes)
        assert result == sorted(result)
        assert all(a < b for a, b in result)
        assert all(b1 <= a2 for (_a1, b1), (a2, _b2) in zip(result, result[1:], strict=False))
