"""Ticket reads: first-contact resolution as DESIGN.md defines it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tickets import selectors
from tickets.models import Ticket, TicketEvent
from tickets.services import category_get_or_create_path, ticket_create

pytestmark = pytest.mark.django_db

NOW = timezone.now()
RESOLVED_AT = NOW - timedelta(days=10)


def resolved_ticket(*, citizen, category, contacts: int = 1, repeats: int = 0) -> Ticket:
    """A ticket resolved ten days ago, with ``contacts`` contacts linked to it."""
    linked = [
        factories.ContactFactory(citizen=citizen, queued_at=RESOLVED_AT - timedelta(minutes=10))
        for _ in range(contacts)
    ]
    ticket = ticket_create(
        subject="문의",
        channel="voice",
        citizen=citizen,
        category=category,
        contacts=linked,
        created_at=RESOLVED_AT - timedelta(minutes=5),
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Ticket.Status.RESOLVED, resolved_at=RESOLVED_AT, repeat_contacts=repeats
    )
    ticket.refresh_from_db()
    return ticket


def later_call(*, citizen, category, days: int) -> None:
    """The citizen calls again ``days`` after the resolution, on ``category``."""
    at = RESOLVED_AT + timedelta(days=days)
    contact = factories.ContactFactory(citizen=citizen, queued_at=at, created_at=at)
    ticket_create(
        subject="다시 문의",
        channel="voice",
        citizen=citizen,
        category=category,
        contacts=[contact],
        created_at=at,
    )


@pytest.fixture
def hand_made_set():
    parking = category_get_or_create_path(path="교통/주정차")
    passports = category_get_or_create_path(path="민원/여권")
    citizen = factories.CitizenFactory
    plain = resolved_ticket(citizen=citizen(), category=parking)
    transferred = resolved_ticket(citizen=citizen(), category=parking)
    TicketEvent.objects.create(
        ticket=transferred, type=TicketEvent.Type.TRANSFERRED, data={"department": 1}
    )
    repeated = resolved_ticket(citizen=citizen(), category=parking, contacts=2, repeats=1)
    second_contact = resolved_ticket(citizen=citizen(), category=parking, contacts=2)
    came_back = resolved_ticket(citizen=citizen(), category=parking)
    later_call(citizen=came_back.citizen, category=parking, days=3)
    came_back_late = resolved_ticket(citizen=citizen(), category=parking)
    later_call(citizen=came_back_late.citizen, category=parking, days=8)
    other_topic = resolved_ticket(citizen=citizen(), category=parking)
    later_call(citizen=other_topic.citizen, category=passports, days=3)
    return {
        "plain": plain,
        "transferred": transferred,
        "repeated": repeated,
        "second_contact": second_contact,
        "came_back_in_3_days": came_back,
        "came_back_after_8_days": came_back_late,
        "called_on_another_topic": other_topic,
    }


def test_fcr_counts_only_tickets_solved_on_one_untransferred_contact_with_no_return(
    hand_made_set,
):
    first_contact, resolved = selectors.fcr_rate(
        start=RESOLVED_AT - timedelta(hours=1), end=NOW + timedelta(hours=1)
    )
    assert (first_contact, resolved) == (3, 7)
    verdicts = {
        name: selectors.first_contact_resolved(ticket) for name, ticket in hand_made_set.items()
    }
    assert verdicts == {
        "plain": True,
        "transferred": False,
        "repeated": False,
        "second_contact": False,
        "came_back_in_3_days": False,
        "came_back_after_8_days": True,
        "called_on_another_topic": True,
    }


def test_the_overview_shows_the_same_fcr(hand_made_set):
    figures = selectors.ticket_overview(days=30)
    assert figures["resolved"] == 7
    assert figures["fcr"] == pytest.approx(3 / 7)
