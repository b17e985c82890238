"""Agents racing for call-backs: one wins a take, nobody gets one twice (PostgreSQL row locks)."""

import pytest

from callcenter.models import CallbackEvent, CallbackRequest
from callcenter.services.callbacks import (
    CallbackError,
    callback_request_create,
    callback_take,
    callback_take_next,
)
from tests.callcenter.test_routing_concurrency import run_all, run_together
from tests.factories import AgentFactory, QueueFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_five_agents_taking_one_call_back_at_once_leave_it_with_exactly_one():
    callback = callback_request_create(
        phone="010-3333-4444", source=CallbackRequest.Source.CHAT, queue=QueueFactory()
    )
    agents = [AgentFactory() for _ in range(5)]
    outcomes: list[str] = []

    def taker(agent):
        def take() -> None:
            try:
                callback_take(callback=callback, agent=agent)
                outcomes.append("taken")
            except CallbackError:
                outcomes.append("refused")

        return take

    assert run_all([taker(agent) for agent in agents]) == []
    assert sorted(outcomes) == ["refused"] * 4 + ["taken"]
    assert callback.events.filter(type=CallbackEvent.Type.TAKEN).count() == 1


def test_agents_taking_the_next_call_back_at_once_never_share_one():
    queue = QueueFactory()
    for n in range(3):
        callback_request_create(
            phone=f"010-3333-000{n}", source=CallbackRequest.Source.CONSOLE, queue=queue
        )
    agents = iter([AgentFactory() for _ in range(6)])
    taken: list[int | None] = []

    def take_next() -> None:
        callback = callback_take_next(agent=next(agents))
        taken.append(callback.pk if callback else None)

    assert run_together(take_next, workers=6) == []
    got = [pk for pk in taken if pk is not None]
    assert len(got) == len(set(got)) == 3


def test_the_same_number_requested_twice_at_once_makes_one_call_back():
    queue = QueueFactory()

    def request() -> None:
        callback_request_create(
            phone="010-3333-4444", source=CallbackRequest.Source.CHAT, queue=queue
        )

    assert run_together(request, workers=4) == []
    assert CallbackRequest.objects.count() == 1
    assert CallbackEvent.objects.filter(type=CallbackEvent.Type.REQUESTED_AGAIN).count() == 3
