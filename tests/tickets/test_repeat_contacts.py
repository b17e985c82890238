"""Repeat contacts join the citizen's recent ticket and count against first-contact resolution."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tickets import selectors
from tickets.models import Ticket, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    contact_ticket_save,
    ticket_create,
    ticket_merge,
    ticket_resolve,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def parking():
    return category_get_or_create_path(path="교통/주정차")


def call_from(citizen, agent_user):
    return factories.ContactFactory(citizen=citizen, agent=agent_user.agent)


def save(contact, agent_user, category, **kwargs) -> Ticket:
    kwargs.setdefault("subject", "불법주차 신고")
    return contact_ticket_save(contact=contact, actor=agent_user, category=category, **kwargs)


def test_a_second_call_within_a_week_joins_the_resolved_ticket_and_reopens_it(
    agent_user, citizen, parking
):
    first = save(
        call_from(citizen, agent_user), agent_user, parking, answer="견인 요청", resolve=True
    )
    again = call_from(citizen, agent_user)
    ticket = save(
        again, agent_user, parking, subject="불법주차 재신고", description="또 세워져 있음"
    )
    assert ticket.pk == first.pk and Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.repeat_contacts == 1
    assert ticket.contacts.count() == 2 and again in ticket.contacts.all()
    assert ticket.status == Ticket.Status.OPEN and ticket.resolved_at is None
    # The first inquiry stays as written; the repeat one is an internal note beside it.
    assert (ticket.subject, ticket.description) == ("불법주차 신고", "")
    note = ticket.events.get(type=TicketEvent.Type.COMMENTED)
    assert "불법주차 재신고" in note.data["text"] and "또 세워져 있음" in note.data["text"]
    assert not note.public
    linked = ticket.events.get(type=TicketEvent.Type.CONTACT_LINKED)
    assert linked.data == {"repeat": True, "contact": again.pk}
    assert ticket.events.filter(type=TicketEvent.Type.REOPENED).exists()


def test_a_repeat_call_on_a_ticket_still_open_just_links_and_counts(agent_user, citizen, parking):
    first = save(call_from(citizen, agent_user), agent_user, parking)
    save(call_from(citizen, agent_user), agent_user, parking)
    save(call_from(citizen, agent_user), agent_user, parking)
    first.refresh_from_db()
    assert (first.repeat_contacts, first.contacts.count()) == (2, 3)
    assert not first.events.filter(type=TicketEvent.Type.REOPENED).exists()


def test_a_call_more_than_a_week_after_resolution_makes_a_new_ticket(citizen, agent_user, parking):
    long_ago = timezone.now() - timedelta(days=8)
    old = ticket_create(
        subject="불법주차", channel="voice", citizen=citizen, category=parking, created_at=long_ago
    )
    ticket_resolve(ticket=old, actor=agent_user, answer="견인함", at=long_ago)
    ticket = save(call_from(citizen, agent_user), agent_user, parking)
    assert ticket.pk != old.pk and ticket.repeat_contacts == 0
    old.refresh_from_db()
    assert (old.repeat_contacts, old.status) == (0, Ticket.Status.RESOLVED)


def test_a_call_on_another_category_makes_a_new_ticket(citizen, agent_user, parking):
    first = save(call_from(citizen, agent_user), agent_user, parking)
    tax = category_get_or_create_path(path="세무/자동차세")
    ticket = save(call_from(citizen, agent_user), agent_user, tax, subject="자동차세 문의")
    assert ticket.pk != first.pk
    first.refresh_from_db()
    assert first.repeat_contacts == 0


def test_another_citizen_or_an_anonymous_caller_gets_a_new_ticket(citizen, agent_user, parking):
    first = save(call_from(citizen, agent_user), agent_user, parking)
    neighbour = factories.CitizenFactory(name="김이웃")
    assert save(call_from(neighbour, agent_user), agent_user, parking).pk != first.pk
    assert save(call_from(None, agent_user), agent_user, parking).pk != first.pk


def test_a_merged_ticket_never_takes_repeat_contacts(citizen, agent_user, parking):
    duplicate = save(call_from(citizen, agent_user), agent_user, parking)
    other = ticket_create(subject="다른 민원", channel="voice", citizen=citizen)
    ticket_merge(source=duplicate, target=other, actor=agent_user)
    ticket = save(call_from(citizen, agent_user), agent_user, parking)
    assert ticket.pk not in (duplicate.pk, other.pk)


def test_fcr_counts_resolved_tickets_with_one_contact_and_no_repeat(citizen, agent_user, parking):
    start = timezone.now() - timedelta(hours=1)
    solved = save(call_from(citizen, agent_user), agent_user, parking, answer="안내", resolve=True)
    repeated = save(
        call_from(factories.CitizenFactory(), agent_user),
        agent_user,
        parking,
        answer="안내",
        resolve=True,
    )
    save(
        call_from(repeated.citizen, agent_user), agent_user, parking, answer="재안내", resolve=True
    )
    save(call_from(factories.CitizenFactory(), agent_user), agent_user, parking)  # still open
    end = timezone.now() + timedelta(hours=1)
    assert selectors.fcr_rate(start=start, end=end) == (1, 2)
    assert selectors.fcr_rate(start=end, end=end + timedelta(days=1)) == (0, 0)
    assert selectors.first_contact_resolved(solved)
    repeated.refresh_from_db()
    assert not selectors.first_contact_resolved(repeated)
