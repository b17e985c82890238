"""The periodic SLA check: 80 % warnings and breaches, once each, on business time."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets.models import BusinessCalendar, SlaAlert, SlaPolicy, Ticket, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    sla_check,
    ticket_create,
    ticket_resolve,
    ticket_sla_pause,
    ticket_sla_resume,
    ticket_transfer,
    ticket_update,
)
from tickets.services.department import ticket_department_answer
from tickets.services.sla import sla_candidates
from tickets.sla import SEOUL
from tickets.tasks import sla_check_task

Clock, Level = SlaAlert.Clock, SlaAlert.Level


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


@pytest.fixture
def roads(db):
    """Potholes: first response within an hour, resolution within three working hours."""
    category = category_get_or_create_path(path="도로/포트홀")
    SlaPolicy.objects.create(
        name="도로",
        category=category,
        calendar=BusinessCalendar.objects.create(name="평일 업무시간"),
        first_response_minutes=60,
        resolution_minutes=3 * 60,
    )
    return category


def pothole(category, created_at, assignee=None) -> Ticket:
    ticket = ticket_create(
        subject="포트홀 신고", channel="voice", category=category, created_at=created_at
    )
    if assignee is not None:
        ticket_update(ticket=ticket, actor=assignee, assignee=assignee)
    return ticket


def alerts(ticket) -> list[tuple[str, str, datetime]]:
    return sorted(ticket.sla_alerts.values_list("clock", "level", "due_at"))


@pytest.mark.django_db
def test_the_first_response_clock_warns_at_80_percent_and_only_once(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9), assignee=agent_user)  # first response 10:00
    assert sla_check(now=at(2026, 11, 23, 9, 47)) == []

    [warning] = sla_check(now=at(2026, 11, 23, 9, 48))
    assert (warning.ticket, warning.clock, warning.level, warning.due_at) == (
        ticket,
        Clock.FIRST_RESPONSE,
        Level.WARNING,
        at(2026, 11, 23, 10),
    )
    assert warning.assignee == agent_user
    assert sla_check(now=at(2026, 11, 23, 9, 50)) == []
    event = ticket.events.get(type=TicketEvent.Type.SLA_WARNING)
    assert event.data == {"clock": "first_response", "due": "2026-11-23T10:00:00+09:00"}


@pytest.mark.django_db
def test_a_breach_is_recorded_once_for_reports(roads):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    sla_check(now=at(2026, 11, 23, 9, 50))
    [breach] = sla_check(now=at(2026, 11, 23, 10))
    assert (breach.clock, breach.level) == (Clock.FIRST_RESPONSE, Level.BREACH)
    assert sla_check(now=at(2026, 11, 23, 10, 1)) == []
    assert alerts(ticket) == [
        ("first_response", "breach", at(2026, 11, 23, 10)),
        ("first_response", "warning", at(2026, 11, 23, 10)),
    ]
    assert ticket.events.filter(type=TicketEvent.Type.SLA_BREACHED).count() == 1
    assert SlaAlert.objects.filter(level=Level.BREACH).count() == 1


@pytest.mark.django_db
def test_a_check_that_comes_late_records_the_breach_without_a_warning(roads):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    created = sla_check(now=at(2026, 11, 23, 13))
    assert sorted((a.clock, a.level) for a in created) == [
        ("first_response", "breach"),
        ("resolution", "breach"),
    ]
    assert not ticket.events.filter(type=TicketEvent.Type.SLA_WARNING).exists()


@pytest.mark.django_db
def test_a_ticket_due_after_the_weekend_is_not_at_80_percent_on_friday_evening(roads):
    # Friday 16:00: first response due 17:00, resolution due Monday 10:00 (2 h + 1 h).
    ticket = pothole(roads, at(2026, 11, 27, 16))
    assert ticket.resolution_due == at(2026, 11, 30, 10)
    created = sla_check(now=at(2026, 11, 29, 12))  # Sunday: by the wall clock, nearly due
    assert [(a.clock, a.level) for a in created] == [("first_response", "breach")]
    assert sla_check(now=at(2026, 11, 30, 9, 23)) == []
    [warning] = sla_check(now=at(2026, 11, 30, 9, 24))  # 2 h 24 min of 3 h
    assert (warning.clock, warning.level) == (Clock.RESOLUTION, Level.WARNING)


@pytest.mark.django_db
def test_time_spent_paused_does_not_count_toward_80_percent(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=at(2026, 11, 23, 9, 10))
    ticket.refresh_from_db()
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 9, 30))
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 11, 24, 9))
    assert ticket.resolution_due == at(2026, 11, 24, 11, 30)
    assert sla_check(now=at(2026, 11, 24, 10)) == []  # 1 h 30 min of 3 h used
    [warning] = sla_check(now=at(2026, 11, 24, 10, 54))
    assert (warning.clock, warning.due_at) == (Clock.RESOLUTION, at(2026, 11, 24, 11, 30))


@pytest.mark.django_db
def test_a_paused_ticket_does_not_warn_and_a_moved_due_time_warns_again(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=at(2026, 11, 23, 9, 10))
    ticket.refresh_from_db()
    [first] = sla_check(now=at(2026, 11, 23, 11, 24))
    assert first.due_at == at(2026, 11, 23, 12)
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 11, 30))
    assert sla_check(now=at(2026, 11, 23, 17)) == []  # long past the old due time
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 11, 24, 9))
    [again] = sla_check(now=at(2026, 11, 24, 9, 1))
    assert (again.level, again.due_at) == (Level.WARNING, at(2026, 11, 24, 9, 30))
    [breach] = sla_check(now=at(2026, 11, 24, 9, 30))
    assert (breach.level, breach.due_at) == (Level.BREACH, at(2026, 11, 24, 9, 30))


@pytest.mark.django_db
def test_resolved_tickets_do_not_warn(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_resolve(ticket=ticket, actor=agent_user, answer="보수 완료", at=at(2026, 11, 23, 9, 30))
    assert sla_check(now=at(2026, 11, 23, 13)) == []
    assert not ticket.sla_alerts.exists()


@pytest.mark.django_db
def test_the_first_response_clock_stops_once_the_department_answers(
    roads, agent_user, officer_user
):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_transfer(
        ticket=ticket,
        department=officer_user.officer.department,
        actor=agent_user,
        at=at(2026, 11, 23, 9, 5),
    )
    ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="내일 보수합니다.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    [resolution] = sla_check(now=at(2026, 11, 23, 11, 30))
    assert (resolution.clock, resolution.level) == (Clock.RESOLUTION, Level.WARNING)
    assert resolution.department == officer_user.officer.department


@pytest.mark.django_db
def test_the_check_looks_only_at_tickets_near_their_due_time(roads):
    def queries_of_a_check() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert sla_check(now=at(2026, 11, 23, 9, 30)) == []
        return len(captured)

    for _ in range(3):
        pothole(roads, at(2026, 11, 23, 9))
    few = queries_of_a_check()
    for day in range(1, 30):
        pothole(roads, at(2026, 11, 23, 9) + timedelta(days=day))
    assert queries_of_a_check() == few
    assert sla_candidates(now=at(2026, 11, 23, 9, 30)).count() == 3


@pytest.mark.django_db
def test_the_celery_task_runs_the_check(roads):
    pothole(roads, timezone.now() - timedelta(days=7))
    assert sla_check_task() == 2
    assert sla_check_task() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_checks_running_at_the_same_time_notify_once(roads):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    workers = 6
    start = threading.Barrier(workers)
    created: list[SlaAlert] = []
    errors: list[BaseException] = []

    def check() -> None:
        try:
            start.wait()
            created.extend(sla_check(now=at(2026, 11, 23, 12)))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted((a.clock, a.level) for a in created) == [
        ("first_response", "breach"),
        ("resolution", "breach"),
    ]
    assert ticket.sla_alerts.count() == 2
    assert ticket.events.filter(type=TicketEvent.Type.SLA_BREACHED).count() == 2


@pytest.mark.django_db
def test_breaches_are_listed_read_only_in_admin_for_reports(roads, admin_client):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    sla_check(now=at(2026, 11, 23, 13))
    response = admin_client.get("/admin/tickets/slaalert/?level__exact=breach")
    assert response.status_code == 200
    assert response.content.decode().count(ticket.number) == 2
    alert = ticket.sla_alerts.first()
    assert admin_client.post(f"/admin/tickets/slaalert/{alert.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_a_reopened_tickets_resolution_clock_warns_at_80_percent_from_the_reopening(
    roads, agent_user
):
    from tickets.services import ticket_reopen

    # A long target elsewhere widens the check's horizon, so the 80 % rule itself decides.
    SlaPolicy.objects.create(
        name="민원 일반",
        calendar=BusinessCalendar.objects.get(),
        first_response_minutes=60,
        resolution_minutes=5 * 9 * 60,
    )
    ticket = pothole(roads, at(2026, 11, 23, 9), assignee=agent_user)
    ticket_resolve(ticket=ticket, actor=agent_user, answer="보수 완료", at=at(2026, 11, 23, 9, 30))
    # Reopened Wednesday 09:00: three working hours again, due 12:00; 80 % is 11:24.
    ticket_reopen(ticket=ticket, actor=agent_user, reason="다시 패임", at=at(2026, 11, 25, 9))
    ticket.refresh_from_db()
    assert ticket.resolution_due == at(2026, 11, 25, 12)
    # Counted from the creation, 20 of 21 working hours would be gone by 11:00.
    assert sla_check(now=at(2026, 11, 25, 11)) == []
    assert sla_check(now=at(2026, 11, 25, 11, 23)) == []
    [warning] = sla_check(now=at(2026, 11, 25, 11, 24))
    assert (warning.clock, warning.level) == (Clock.RESOLUTION, Level.WARNING)
