"""Business-time arithmetic on the Korean calendar (weekends, 설날, 추석, substitute days)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.sla import SEOUL, WorkingTime, closed_dates, korean_holidays

OFFICE = WorkingTime()  # Mon–Fri 09:00–18:00, Korean public holidays closed
HOURS = timedelta(hours=1)


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


def test_within_one_working_day():
    assert OFFICE.add(at(2026, 11, 26, 10), 3 * HOURS) == at(2026, 11, 26, 13)


def test_the_rest_carries_over_to_the_next_morning():
    # Thursday 16:00 + 4 h: 2 h today, 2 h from Friday 09:00.
    assert OFFICE.add(at(2026, 11, 26, 16), 4 * HOURS) == at(2026, 11, 27, 11)


def test_a_weekend_is_skipped():
    # Friday 17:00 + 2 h → Monday 10:00.
    assert OFFICE.add(at(2026, 11, 27, 17), 2 * HOURS) == at(2026, 11, 30, 10)


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert OFFICE.add(at(2026, 11, 28, 23), HOURS) == at(2026, 11, 30, 10)  # Saturday night
    assert OFFICE.add(at(2026, 11, 26, 7, 30), HOURS) == at(2026, 11, 26, 10)  # early morning


def test_seollal_and_its_substitute_holiday_are_closed():
    # 2027 설날: 6–8 February (Sat–Mon) and the substitute holiday on Tuesday the 9th.
    names = korean_holidays(2027)
    assert date(2027, 2, 9) in names and "대체" in names[date(2027, 2, 9)]
    # Friday 5 Feb 17:00 + 2 h → Wednesday 10 Feb 10:00.
    assert OFFICE.add(at(2027, 2, 5, 17), 2 * HOURS) == at(2027, 2, 10, 10)


def test_chuseok_is_closed():
    # 2026 추석: 24–26 September (Thu–Sat). Wednesday 23rd 17:00 + 3 h → Monday 28th 11:00.
    assert OFFICE.add(at(2026, 9, 23, 17), 3 * HOURS) == at(2026, 9, 28, 11)


def test_seollal_on_weekdays_closes_three_days():
    # 2026 설날: 16–18 February (Mon–Wed). Friday 13th 17:00 + 2 h → Thursday 19th 10:00.
    assert OFFICE.add(at(2026, 2, 13, 17), 2 * HOURS) == at(2026, 2, 19, 10)


def test_chuseok_on_a_national_holiday_gets_a_substitute_day():
    # 2028 추석: 2–4 October, the 3rd also 개천절 → substitute holiday Thursday the 5th.
    names = korean_holidays(2028)
    assert "대체" in names[date(2028, 10, 5)]
    # Friday 29 Sep 17:00 + 2 h: Mon 2 – Thu 5 closed → Friday 6 Oct 10:00.
    assert OFFICE.add(at(2028, 9, 29, 17), 2 * HOURS) == at(2028, 10, 6, 10)


def test_a_national_holiday_on_saturday_closes_the_monday_after():
    # 개천절 2026 is a Saturday; its substitute is Monday 5 October.
    assert OFFICE.add(at(2026, 10, 2, 17), 2 * HOURS) == at(2026, 10, 6, 10)


def test_working_time_between_skips_chuseok():
    assert OFFICE.between(at(2026, 9, 23, 17), at(2026, 9, 28, 10)) == 2 * HOURS


def test_seoul_has_no_daylight_saving_so_targets_are_plain_arithmetic():
    # Europe moves its clocks on 29 March 2026; Seoul does not, and neither does the clock.
    berlin = ZoneInfo("Europe/Berlin")
    before_the_change = datetime(2026, 3, 28, 12, tzinfo=berlin)
    always = WorkingTime(always_open=True)
    due = always.add(before_the_change, 24 * HOURS)
    assert due - before_the_change == 24 * HOURS
    assert due == at(2026, 3, 29, 20) and due.utcoffset() == timedelta(hours=9)
    assert due.astimezone(berlin).hour == 13  # Berlin's wall clock jumped; the target did not
    # Office hours: Friday 27 March 17:00 Seoul + 2 h → Monday 10:00, as any other weekend.
    assert OFFICE.add(at(2026, 3, 27, 17), 2 * HOURS) == at(2026, 3, 30, 10)
    assert OFFICE.between(at(2026, 3, 27, 9), at(2026, 3, 30, 18)) == 18 * HOURS


def test_a_24_7_pause_costs_exactly_its_length_even_over_a_holiday():
    always = WorkingTime(always_open=True)
    due = at(2026, 9, 24, 12)
    assert always.resume(due, at(2026, 9, 24, 10), at(2026, 9, 25, 10)) == at(2026, 9, 25, 12)


def test_a_manual_closure_inside_a_pause_costs_nothing():
    calendar = WorkingTime(closed=closed_dates([date(2026, 11, 27)]))
    due = at(2026, 11, 26, 18)
    # Paused Thursday 15:00 (3 h left), resumed Monday 9:00 after the closed Friday.
    assert calendar.resume(due, at(2026, 11, 26, 15), at(2026, 11, 30, 9)) == at(2026, 11, 30, 12)


def test_a_manual_closure_is_closed_too():
    calendar = WorkingTime(closed=closed_dates([date(2026, 11, 27)]))
    assert calendar.add(at(2026, 11, 26, 17), 2 * HOURS) == at(2026, 11, 30, 10)


def test_a_24_7_queue_counts_every_hour():
    always = WorkingTime(always_open=True)
    assert always.add(at(2027, 2, 6, 22), 5 * HOURS) == at(2027, 2, 7, 3)


def test_working_time_between_two_moments():
    assert OFFICE.between(at(2026, 11, 27, 17), at(2026, 11, 30, 10)) == 2 * HOURS
    assert OFFICE.between(at(2026, 11, 30, 10), at(2026, 11, 27, 17)) == timedelta()


def test_a_pause_moves_the_due_time_and_a_holiday_inside_it_costs_nothing():
    due = OFFICE.add(at(2026, 9, 22, 9), 18 * HOURS)  # Tue 09:00 + two full days → Wed 18:00
    assert due == at(2026, 9, 23, 18)
    # Paused Wed 14:00 (4 h left), resumed after 추석 on Mon 28th 09:00 → Mon 13:00.
    assert OFFICE.resume(due, at(2026, 9, 23, 14), at(2026, 9, 28, 9)) == at(2026, 9, 28, 13)


def test_two_shifts_a_day_and_a_shift_to_midnight():
    shifts = WorkingTime(
        hours={d: [("08:00", "12:00"), ("13:00", "24:00")] for d in range(7)},
        closed=closed_dates([], public_holidays=False),
    )
    assert shifts.add(at(2026, 11, 26, 11), 2 * HOURS) == at(2026, 11, 26, 14)
    assert shifts.add(at(2026, 11, 26, 23), 2 * HOURS) == at(2026, 11, 27, 9)


def test_naive_times_and_negative_targets_are_refused():
    with pytest.raises(ValueError):
        OFFICE.add(datetime(2026, 11, 26, 10), HOURS)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        OFFICE.add(at(2026, 11, 26, 10), -HOURS)


# --- open now? (a queue's opening hours) ---------------------------------------------------
def test_office_hours_are_open_from_the_opening_minute_to_just_before_closing():
    assert not OFFICE.is_open(at(2026, 11, 26, 8, 59))  # Thursday
    assert OFFICE.is_open(at(2026, 11, 26, 9))
    assert OFFICE.is_open(at(2026, 11, 26, 17, 59))
    assert not OFFICE.is_open(at(2026, 11, 26, 18))
    assert not OFFICE.is_open(at(2026, 11, 28, 11))  # Saturday


def test_a_moment_in_another_zone_is_read_in_seoul_time():
    # 01:30 UTC on Thursday is 10:30 in Seoul: open; 10:30 UTC is 19:30 there: closed.
    assert OFFICE.is_open(datetime(2026, 11, 26, 1, 30, tzinfo=ZoneInfo("UTC")))
    assert not OFFICE.is_open(datetime(2026, 11, 26, 10, 30, tzinfo=ZoneInfo("UTC")))


def test_christmas_and_chuseok_are_closed_all_day_even_on_weekdays():
    assert not OFFICE.is_open(at(2026, 12, 25, 11))  # 기독탄신일, a Friday
    assert not OFFICE.is_open(at(2026, 9, 24, 11))  # 추석 연휴, a Thursday
    assert OFFICE.is_open(at(2026, 12, 24, 11))


def test_a_manual_closure_closes_the_day_and_24_7_is_always_open():
    closure = WorkingTime(closed=closed_dates([date(2026, 11, 26)]))
    assert not closure.is_open(at(2026, 11, 26, 11))
    always = WorkingTime(always_open=True, closed=closed_dates([date(2026, 12, 25)]))
    assert always.is_open(at(2026, 12, 25, 3)) and always.is_open(at(2026, 11, 28, 23))


def test_a_shift_to_midnight_is_open_until_midnight():
    evenings = WorkingTime(
        hours={d: [("13:00", "24:00")] for d in range(7)},
        closed=closed_dates([], public_holidays=False),
    )
    assert evenings.is_open(at(2026, 11, 26, 23, 59))
    assert not evenings.is_open(at(2026, 11, 27, 0, 30))


def test_whether_a_naive_time_is_open_is_refused():
    with pytest.raises(ValueError):
        OFFICE.is_open(datetime(2026, 11, 26, 10))  # noqa: DTZ001 - the point of the test


@pytest.fixture
def office(db):
    from tickets.models import BusinessCalendar

    return BusinessCalendar.objects.create(name="평일 업무시간")


@pytest.mark.django_db
def test_a_new_ticket_gets_due_times_from_the_most_specific_policy(office):
    from tickets.models import SlaPolicy, Ticket
    from tickets.services import category_get_or_create_path, ticket_create

    leaf = category_get_or_create_path(path="환경·청소/대형폐기물")
    SlaPolicy.objects.create(
        name="기본", calendar=office, first_response_minutes=60, resolution_minutes=9 * 60 * 3
    )
    SlaPolicy.objects.create(
        name="청소 긴급",
        calendar=office,
        category=leaf.parent,
        priority=Ticket.Priority.URGENT,
        first_response_minutes=30,
        resolution_minutes=9 * 60,
    )
    # Friday 17:00 before a weekend.
    urgent = ticket_create(
        subject="폐가구 무단투기",
        channel="voice",
        category=leaf,
        priority=Ticket.Priority.URGENT,
        created_at=at(2026, 11, 27, 17),
    )
    normal = ticket_create(
        subject="수거 일정 문의", channel="voice", category=leaf, created_at=at(2026, 11, 27, 17)
    )
    assert (urgent.first_response_due, urgent.resolution_due) == (
        at(2026, 11, 27, 17, 30),
        at(2026, 11, 30, 17),
    )
    assert (normal.first_response_due, normal.resolution_due) == (
        at(2026, 11, 27, 18),
        at(2026, 12, 2, 17),
    )


@pytest.mark.django_db
def test_no_policy_means_no_due_time():
    from tickets.services import ticket_create

    ticket = ticket_create(subject="일반 문의", channel="webchat")
    assert ticket.first_response_due is None and ticket.resolution_due is None


@pytest.mark.django_db
def test_a_calendar_open_on_public_holidays_counts_chuseok(office):
    office.public_holidays = False
    office.save()
    # 추석 2026 (Thu 24 – Sat 26) is worked: Wednesday 17:00 + 3 h → Thursday 11:00.
    assert office.working_time().add(at(2026, 9, 23, 17), 3 * HOURS) == at(2026, 9, 24, 11)


@pytest.mark.django_db
def test_a_24_7_calendar_ignores_hours_holidays_and_closures(office):
    from tickets.models import CalendarClosure

    office.always_open = True
    office.save()
    CalendarClosure.objects.create(calendar=office, date=date(2026, 9, 24))
    assert office.working_time().add(at(2026, 9, 23, 17), 24 * HOURS) == at(2026, 9, 24, 17)


@pytest.mark.django_db
def test_a_calendar_closure_and_custom_hours_apply(office):
    from tickets.models import CalendarClosure

    CalendarClosure.objects.create(calendar=office, date=date(2026, 11, 30), reason="시 개청기념일")
    office.hours = {"0": [["09:00", "18:00"]], "1": [["09:00", "18:00"]], "2": [["09:00", "12:00"]]}
    office.save()
    clock = office.working_time()
    # Friday is not a working day here; Monday is closed: Tuesday 09:00 + 10 h → Wed 10:00.
    assert clock.add(at(2026, 11, 27, 10), 10 * HOURS) == at(2026, 12, 2, 10)
