"""Several router processes at once never offer a contact twice (PostgreSQL row locks)."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from callcenter.models import Contact, Offer, Presence, Skill
from callcenter.services import routing
from callcenter.services.locking import row_locked
from callcenter.services.presence import agent_set_presence
from tests.factories import AgentFactory, ContactFactory, QueueFactory, SkillFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(target, workers: int) -> list[BaseException]:
    return run_all([target] * workers)


def run_all(targets) -> list[BaseException]:
    """Start every target in its own thread (own connection) at the same moment."""
    start = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target) -> None:
        try:
            start.wait()
            target()
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def crowd():
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    queue = QueueFactory(code="chat", channels=["webchat"])
    queue.required_skills.set([korean])
    agents = [AgentFactory(skills=[korean], max_concurrent_chats=2) for _ in range(12)]
    for agent in agents:
        agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    now = timezone.now()
    contacts = [
        ContactFactory(channel="webchat", queue=queue, queued_at=now - timedelta(seconds=60 - i))
        for i in range(40)
    ]
    return agents, contacts


def test_concurrent_dispatchers_offer_each_contact_and_agent_at_most_once(crowd):
    agents, contacts = crowd
    errors = run_together(routing.router_dispatch, workers=6)
    assert errors == []
    pending = Offer.objects.filter(state=Offer.State.PENDING)
    assert pending.count() == len(agents)  # every agent rings once, no more
    assert pending.values("contact").distinct().count() == pending.count()
    # The oldest contacts were the ones offered.
    oldest = sorted(contacts, key=lambda c: c.queued_at)[: len(agents)]
    assert set(pending.values_list("contact_id", flat=True)) == {c.pk for c in oldest}


def test_concurrent_accepts_of_one_offer_answer_the_contact_once(crowd):
    agents, contacts = crowd
    routing.router_dispatch()
    offer = Offer.objects.filter(state=Offer.State.PENDING).first()
    agent = offer.agent
    outcomes: list[str] = []

    def accept() -> None:
        try:
            routing.offer_accept(offer_id=offer.pk, agent=agent)
            outcomes.append("accepted")
        except routing.RoutingError:
            outcomes.append("refused")

    assert run_together(accept, workers=5) == []
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 4
    contact = Contact.objects.get(pk=offer.contact_id)
    assert contact.agent == agent
    assert contact.events.filter(type="accepted").count() == 1


def test_concurrent_accepts_and_time_outs_settle_on_one_outcome(crowd):
    routing.router_dispatch()
    offers = list(Offer.objects.filter(state=Offer.State.PENDING))
    deadline = timezone.now() + timedelta(milliseconds=100)
    Offer.objects.filter(pk__in=[o.pk for o in offers]).update(expires_at=deadline)

    def accept_all() -> None:
        for offer in offers:
            with contextlib.suppress(routing.RoutingError):
                routing.offer_accept(offer_id=offer.pk, agent=offer.agent)

    def expire_until_past_deadline() -> None:
        while timezone.now() < deadline + timedelta(milliseconds=200):
            routing.offers_expire()

    assert run_all([accept_all, expire_until_past_deadline]) == []
    for offer in offers:
        offer.refresh_from_db()
        contact = Contact.objects.get(pk=offer.contact_id)
        assert offer.state in (Offer.State.ACCEPTED, Offer.State.TIMED_OUT)
        assert (contact.agent_id == offer.agent_id) == (offer.state == Offer.State.ACCEPTED)


def test_a_dispatch_during_an_accept_neither_waits_for_it_nor_rings_that_agent_again(crowd):
    """An agent is accepting an offer (the offer row updated, not yet committed) while a
    router passes: the router must not wait for the accept on the unique index while holding
    the agent's row that the accept needs next (a deadlock seen under `make bench`), nor
    offer that agent a second contact."""
    agents, contacts = crowd
    routing.router_dispatch()  # every agent rings once
    offer = Offer.objects.filter(state=Offer.State.PENDING).order_by("id").first()
    agent = offer.agent
    accepting = threading.Event()
    router_done = threading.Event()
    late_router: list = []

    def accept() -> None:
        try:
            with transaction.atomic():
                Offer.objects.filter(pk=offer.pk).update(state=Offer.State.ACCEPTED)
                accepting.set()
                router_done.wait(timeout=10)  # the accept goes on while the router passes
                row_locked(agent)
        finally:
            connection.close()

    def late() -> None:
        try:
            accepting.wait(timeout=10)
            late_router.append(routing.router_dispatch())
        finally:
            router_done.set()
            connection.close()

    threads = [threading.Thread(target=accept), threading.Thread(target=late)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert late_router == [[]]  # done without waiting, and nobody rang twice
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.ACCEPTED
    assert Offer.objects.filter(agent=agent).count() == 1
    # Once the accept has landed the agent has room for another chat.
    again = routing.router_dispatch()
    assert [o.agent_id for o in again] == [agent.pk]
