"""Two people changing one ticket at once: its status is checked on its locked row, so the
second change sees the first one's result (PostgreSQL races) and a page opened before a
change cannot undo it (stale copies, any database)."""

import pytest
from django.utils import translation

from tests import factories
from tests.callcenter.test_routing_concurrency import run_all
from tickets.models import Survey, Ticket, TicketEvent
from tickets.services import (
    ticket_assign,
    ticket_close,
    ticket_create,
    ticket_reopen,
    ticket_resolve,
    ticket_sla_pause,
)


@pytest.fixture(autouse=True)
def in_english():
    """Refusals are matched by their English text, whatever the translations say."""
    with translation.override("en"):
        yield


def citizens_ticket() -> Ticket:
    return ticket_create(
        subject="가로등이 꺼졌어요", channel="voice", citizen=factories.CitizenFactory()
    )


def stale_copy(ticket: Ticket) -> Ticket:
    """The ticket as a page opened now holds it, while others go on changing it."""
    return Ticket.objects.get(pk=ticket.pk)


def status_changes(ticket: Ticket) -> list[tuple[str, str]]:
    return [
        (event.data["from"], event.data["to"])
        for event in ticket.events.filter(type=TicketEvent.Type.STATUS_CHANGED)
    ]


# --- races (PostgreSQL, one connection per thread) -----------------------------------------


@pytest.mark.parametrize("_run", range(3))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_resolving_one_ticket_at_once_resolve_it_once(_run, agent_user):
    ticket = citizens_ticket()
    outcomes: list[str] = []

    def resolver(answer: str):
        def resolve() -> None:
            with translation.override("en"):
                try:
                    ticket_resolve(ticket=stale_copy(ticket), actor=agent_user, answer=answer)
                    outcomes.append(answer)
                except ValueError as error:
                    outcomes.append(str(error))

        return resolve

    assert run_all([resolver("내일 수리합니다."), resolver("오늘 수리했습니다.")]) == []
    refusal = "Only an active ticket can be resolved; reopen it first."
    assert sorted(outcomes, key=lambda outcome: outcome == refusal)[1] == refusal
    winner = next(outcome for outcome in outcomes if outcome != refusal)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.answer) == (Ticket.Status.RESOLVED, winner)
    assert status_changes(ticket) == [(Ticket.Status.NEW, Ticket.Status.RESOLVED)]
    assert ticket.events.filter(type=TicketEvent.Type.ANSWERED).count() == 1
    assert Survey.objects.filter(ticket=ticket).count() == 1


@pytest.mark.parametrize("_run", range(3))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reopen_racing_a_close_leaves_the_status_its_events_describe(
    _run, agent_user, supervisor_user
):
    ticket = citizens_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    outcomes: dict[str, str] = {}

    def attempt(name: str, change):
        def run() -> None:
            with translation.override("en"):
                try:
                    change(stale_copy(ticket))
                    outcomes[name] = "done"
                except ValueError as error:
                    outcomes[name] = str(error)

        return run

    errors = run_all(
        [
            attempt("close", lambda copy: ticket_close(ticket=copy, actor=agent_user)),
            attempt(
                "reopen",
                lambda copy: ticket_reopen(ticket=copy, actor=supervisor_user, reason="재문의"),
            ),
        ]
    )
    assert errors == []
    ticket.refresh_from_db()
    closes = ticket.events.filter(
        type=TicketEvent.Type.STATUS_CHANGED, data__to=Ticket.Status.CLOSED
    )
    reopens = ticket.events.filter(type=TicketEvent.Type.REOPENED)
    if outcomes["close"] == "done" and outcomes["reopen"] == "done":
        # The close went first, and the reopen found the ticket closed.
        assert ticket.status == Ticket.Status.OPEN
        assert closes.get().id < reopens.get().id
        assert reopens.get().data["from"] == Ticket.Status.CLOSED
    else:
        # The reopen went first; the agent's close then found an open ticket and was refused.
        assert outcomes == {
            "reopen": "done",
            "close": "Only a resolved ticket can be closed; resolve it first.",
        }
        assert ticket.status == Ticket.Status.OPEN
        assert not closes.exists()
        assert reopens.get().data["from"] == Ticket.Status.RESOLVED
    assert ticket.closed_at is None and ticket.resolved_at is None


# --- stale copies (any database) ----------------------------------------------------------


@pytest.mark.django_db
def test_a_page_opened_before_the_ticket_was_resolved_cannot_resolve_it_again(agent_user):
    ticket = citizens_ticket()
    opened_earlier = stale_copy(ticket)
    ticket_resolve(ticket=ticket, actor=agent_user, answer="내일 수리합니다.")

    with pytest.raises(ValueError, match="Only an active ticket can be resolved"):
        ticket_resolve(ticket=opened_earlier, actor=agent_user, answer="다른 답변")

    ticket.refresh_from_db()
    assert ticket.answer == "내일 수리합니다."
    assert ticket.events.filter(type=TicketEvent.Type.ANSWERED).count() == 1
    assert Survey.objects.filter(ticket=ticket).count() == 1
    # The refused copy now shows what the database holds.
    assert opened_earlier.status == Ticket.Status.RESOLVED


@pytest.mark.django_db
def test_a_page_opened_before_a_reopen_cannot_close_the_reopened_ticket(agent_user):
    ticket = citizens_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    opened_earlier = stale_copy(ticket)  # resolved, as the agent's page still shows it
    ticket_reopen(ticket=ticket, actor=agent_user, reason="다시 고장")

    with pytest.raises(ValueError, match="Only a resolved ticket can be closed"):
        ticket_close(ticket=opened_earlier, actor=agent_user)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


@pytest.mark.django_db
def test_a_page_opened_before_a_close_cannot_reopen_twice_or_assign_or_pause(
    agent_user, supervisor_user
):
    ticket = citizens_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    opened_earlier = stale_copy(ticket)
    ticket_reopen(ticket=ticket, actor=agent_user, reason="다시 고장")
    ticket_resolve(ticket=ticket, actor=agent_user, answer="다시 안내함")
    ticket_close(ticket=ticket, actor=agent_user)

    def shown_open() -> Ticket:
        copy = stale_copy(ticket)
        copy.status = Ticket.Status.OPEN  # as a page that never saw the resolve shows it
        return copy

    with pytest.raises(ValueError, match="Only an active ticket can be assigned"):
        ticket_assign(ticket=shown_open(), assignee=agent_user, actor=supervisor_user)
    with pytest.raises(ValueError, match="Only an active ticket can be paused"):
        ticket_sla_pause(ticket=shown_open(), actor=agent_user)

    ticket_reopen(ticket=opened_earlier, actor=agent_user, reason="또 고장")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert [
        event.data["from"] for event in ticket.events.filter(type=TicketEvent.Type.REOPENED)
    ] == [
        Ticket.Status.RESOLVED,
        Ticket.Status.CLOSED,
    ]
