"""SLA clocks of a ticket: pausing while waiting for the citizen, resuming, moving."""

from datetime import datetime

import pytest
from django.utils import translation

from tickets.models import BusinessCalendar, SlaPolicy, Ticket, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    department_get_or_create,
    ticket_create,
    ticket_resolve,
    ticket_sla_pause,
    ticket_sla_resume,
    ticket_transfer,
    ticket_update,
)
from tickets.sla import SEOUL

pytestmark = pytest.mark.django_db

DAY = 9 * 60  # one working day, in minutes


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


@pytest.fixture
def office():
    return BusinessCalendar.objects.create(name="평일 업무시간")


@pytest.fixture
def roads(office):
    """Pothole reports: first response within 4 working hours, resolution within two days."""
    category = category_get_or_create_path(path="도로/포트홀")
    SlaPolicy.objects.create(
        name="도로",
        category=category,
        calendar=office,
        first_response_minutes=4 * 60,
        resolution_minutes=2 * DAY,
    )
    return category


@pytest.fixture
def taxes(office):
    category = category_get_or_create_path(path="세무/자동차세")
    SlaPolicy.objects.create(
        name="세무",
        category=category,
        calendar=office,
        first_response_minutes=DAY,
        resolution_minutes=3 * DAY,
    )
    return category


def pothole(category, created_at, **fields) -> Ticket:
    return ticket_create(
        subject="포트홀 신고", channel="voice", category=category, created_at=created_at, **fields
    )


def events(ticket, type_) -> list[TicketEvent]:
    return list(ticket.events.filter(type=type_))


def test_a_pause_over_chuseok_moves_the_resolution_due_by_working_time_only(roads, agent_user):
    # Tuesday 22 Sep 2026 09:00: resolution due Wednesday 18:00, before 추석 (24–26 Sep).
    ticket = pothole(roads, at(2026, 9, 22, 9))
    assert ticket.resolution_due == at(2026, 9, 23, 18)

    ticket_sla_pause(
        ticket=ticket, actor=agent_user, reason="주소 확인 요청", at=at(2026, 9, 23, 14)
    )
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == at(2026, 9, 23, 14)
    assert events(ticket, TicketEvent.Type.PAUSED)[0].data == {"reason": "주소 확인 요청"}

    # Four working hours were left; the citizen answers after 추석 and the weekend.
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 9, 28, 9))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.resolution_due == at(2026, 9, 28, 13)
    resumed = events(ticket, TicketEvent.Type.RESUMED)[0]
    assert resumed.actor == agent_user
    assert resumed.data["changed"]["resolution_due"] == {
        "from": "2026-09-23T18:00:00+09:00",
        "to": "2026-09-28T13:00:00+09:00",
    }


def test_a_due_time_passed_before_the_pause_stays_where_it_was(roads, agent_user):
    # First response was due Tuesday 13:00; the pause starts Wednesday.
    ticket = pothole(roads, at(2026, 9, 22, 9))
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 9, 23, 14))
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 9, 28, 9))
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(2026, 9, 22, 13)
    assert ticket.resolution_due == at(2026, 9, 28, 13)


def test_a_pause_within_one_day_moves_both_clocks(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))  # Monday
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 10))
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 12))
    ticket.refresh_from_db()
    assert (ticket.first_response_due, ticket.resolution_due) == (
        at(2026, 11, 23, 15),
        at(2026, 11, 25, 11),
    )


def test_pausing_twice_is_refused_and_writes_nothing(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 10))
    with translation.override("en"), pytest.raises(ValueError, match="already paused"):
        ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 11))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == at(2026, 11, 23, 10)
    assert len(events(ticket, TicketEvent.Type.PAUSED)) == 1


def test_resuming_a_running_clock_is_refused(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    with translation.override("en"), pytest.raises(ValueError, match="not paused"):
        ticket_sla_resume(ticket=ticket, actor=agent_user)
    assert not events(ticket, TicketEvent.Type.RESUMED)


def test_a_resolved_ticket_cannot_be_paused(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_resolve(ticket=ticket, actor=agent_user, answer="보수 완료")
    with translation.override("en"), pytest.raises(ValueError, match="active ticket"):
        ticket_sla_pause(ticket=ticket, actor=agent_user)
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None


def test_a_new_category_measures_the_ticket_by_its_policy_from_creation(roads, taxes, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))  # Monday: due Tuesday 18:00
    ticket_update(ticket=ticket, actor=agent_user, category=taxes)
    ticket.refresh_from_db()
    # Three working days from Monday 09:00; first response one working day.
    assert ticket.resolution_due == at(2026, 11, 25, 18)
    assert ticket.first_response_due == at(2026, 11, 23, 18)
    sla_event = ticket.events.filter(type=TicketEvent.Type.UPDATED, data__has_key="sla_policy")
    assert sla_event.get().data == {
        "changed": {
            "first_response_due": {
                "from": "2026-11-23T13:00:00+09:00",
                "to": "2026-11-23T18:00:00+09:00",
            },
            "resolution_due": {
                "from": "2026-11-24T18:00:00+09:00",
                "to": "2026-11-25T18:00:00+09:00",
            },
        },
        "sla_policy": "세무",
    }


def test_a_move_keeps_the_working_time_used_and_does_not_count_pauses(roads, taxes, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    # Three hours used, then nine working hours paused (Monday 12–18, Tuesday 9–12).
    ticket_sla_pause(ticket=ticket, actor=agent_user, at=at(2026, 11, 23, 12))
    ticket_sla_resume(ticket=ticket, actor=agent_user, at=at(2026, 11, 24, 12))
    ticket.refresh_from_db()
    assert ticket.resolution_due == at(2026, 11, 25, 18)
    # 27 h under 세무: 3 h used, 24 h left from Tuesday 12:00 → Thursday 18:00.
    ticket_update(ticket=ticket, actor=agent_user, category=taxes)
    ticket.refresh_from_db()
    assert ticket.resolution_due == at(2026, 11, 26, 18)


def test_a_higher_priority_with_its_own_policy_shortens_the_target(roads, office, agent_user):
    SlaPolicy.objects.create(
        name="도로 긴급",
        category=roads,
        priority=Ticket.Priority.URGENT,
        calendar=office,
        first_response_minutes=30,
        resolution_minutes=4 * 60,
    )
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_update(ticket=ticket, actor=agent_user, priority=Ticket.Priority.URGENT)
    ticket.refresh_from_db()
    assert (ticket.first_response_due, ticket.resolution_due) == (
        at(2026, 11, 23, 9, 30),
        at(2026, 11, 23, 13),
    )


def test_a_given_first_response_keeps_its_due_time_on_a_move(roads, taxes, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=at(2026, 11, 23, 10))
    ticket.refresh_from_db()
    ticket_update(ticket=ticket, actor=agent_user, category=taxes)
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(2026, 11, 23, 13)
    assert ticket.resolution_due == at(2026, 11, 25, 18)


def test_a_category_without_a_policy_has_no_clocks(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_update(
        ticket=ticket, actor=agent_user, category=category_get_or_create_path(path="기타")
    )
    ticket.refresh_from_db()
    assert ticket.first_response_due is None and ticket.resolution_due is None


def test_changing_only_the_subject_leaves_the_clocks_alone(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_update(ticket=ticket, actor=agent_user, subject="포트홀 신고 (강남대로)")
    assert ticket.resolution_due == at(2026, 11, 24, 18)
    assert not ticket.events.filter(data__has_key="sla_policy").exists()


def test_a_transfer_without_a_due_time_takes_the_policys(office, agent_user):
    category = category_get_or_create_path(path="도로/가로등")
    ticket = pothole(category, at(2026, 11, 23, 9))
    assert ticket.resolution_due is None  # no policy when it was opened
    SlaPolicy.objects.create(
        name="가로등",
        category=category,
        calendar=office,
        first_response_minutes=60,
        resolution_minutes=DAY,
    )
    roads_department = department_get_or_create(name="도로관리과")
    ticket_transfer(
        ticket=ticket, department=roads_department, actor=agent_user, at=at(2026, 11, 23, 11)
    )
    ticket.refresh_from_db()
    assert (ticket.first_response_due, ticket.resolution_due) == (
        at(2026, 11, 23, 10),
        at(2026, 11, 23, 18),
    )
    assert [e.type for e in ticket.events.all()][-2:] == [
        TicketEvent.Type.TRANSFERRED,
        TicketEvent.Type.UPDATED,
    ]


def test_a_transfer_with_a_due_time_keeps_it(roads, agent_user):
    ticket = pothole(roads, at(2026, 11, 23, 9))
    ticket_transfer(
        ticket=ticket,
        department=department_get_or_create(name="도로관리과"),
        actor=agent_user,
        due=at(2026, 12, 4, 18),
    )
    ticket.refresh_from_db()
    assert ticket.resolution_due == at(2026, 12, 4, 18)
    assert not ticket.events.filter(type=TicketEvent.Type.UPDATED).exists()
