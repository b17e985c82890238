"""The router: who gets offered what, in which order, and what happens on each answer."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from callcenter.models import Contact, ContactEvent, Offer, Presence, Skill
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
from tests.factories import AgentFactory, CitizenFactory, ContactFactory, QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def korean(db) -> Skill:
    return SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)


@pytest.fixture
def chat_queue(korean):
    queue = QueueFactory(code="chat", channels=["webchat", "kakao"], service_level_seconds=60)
    queue.required_skills.set([korean])
    return queue


@pytest.fixture
def voice_queue(korean):
    queue = QueueFactory(code="general", channels=["voice"])
    queue.required_skills.set([korean])
    return queue


def available_agent(*skills, idle_minutes: int = 0, chats: int = 3):
    agent = AgentFactory(skills=list(skills), max_concurrent_chats=chats)
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    agent.idle_since = timezone.now() - timedelta(minutes=idle_minutes)
    agent.save(update_fields=["idle_since"])
    return agent


def waiting(queue, *, channel="webchat", seconds_ago=0, **kwargs) -> Contact:
    contact = ContactFactory(
        channel=channel,
        queue=queue,
        queued_at=timezone.now() - timedelta(seconds=seconds_ago),
        **kwargs,
    )
    return contact


def pending_offer(contact) -> Offer | None:
    return Offer.objects.filter(contact=contact, state=Offer.State.PENDING).first()


def test_the_longest_idle_eligible_agent_gets_the_offer(chat_queue, korean):
    available_agent(korean, idle_minutes=1)
    longest = available_agent(korean, idle_minutes=9)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    assert pending_offer(contact).agent == longest


def test_an_agent_without_a_required_skill_is_never_offered(chat_queue, korean):
    english = SkillFactory(code="lang-en", kind=Skill.Kind.LANGUAGE)
    only_korean = available_agent(korean)
    contact = waiting(chat_queue, language="en")
    routing.router_dispatch()
    assert pending_offer(contact) is None
    bilingual = available_agent(korean, english)
    routing.router_dispatch()
    assert pending_offer(contact).agent == bilingual
    assert not Offer.objects.filter(agent=only_korean).exists()


def test_agents_on_break_or_offline_are_not_offered(chat_queue, korean):
    agent = available_agent(korean)
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="점심", dispatch=False)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    assert pending_offer(contact) is None


def test_citizens_needing_assistance_then_priority_then_oldest_go_first(korean, chat_queue):
    urgent_queue = QueueFactory(code="urgent", channels=["webchat"], priority=5)
    urgent_queue.required_skills.set([korean])
    old = waiting(chat_queue, seconds_ago=300)
    priority = waiting(urgent_queue, seconds_ago=10)
    assisted = waiting(chat_queue, seconds_ago=5, citizen=CitizenFactory(needs_assistance=True))
    newest = waiting(chat_queue, seconds_ago=1)
    order = []
    for _ in range(4):
        agent = available_agent(korean, chats=1)
        routing.router_dispatch()
        offer = Offer.objects.get(agent=agent)
        order.append(offer.contact)
    assert order == [assisted, priority, old, newest]


def test_chat_capacity_limits_concurrent_chats(chat_queue, korean):
    agent = available_agent(korean, chats=2)
    contacts = [waiting(chat_queue, seconds_ago=10 - i) for i in range(3)]
    for contact in contacts[:2]:
        routing.router_dispatch()
        routing.offer_accept(offer_id=pending_offer(contact).pk, agent=agent)
    routing.router_dispatch()
    assert pending_offer(contacts[2]) is None
    agent.refresh_from_db()
    assert agent.presence == Presence.BUSY


def test_a_voice_call_needs_an_agent_with_nothing_else(chat_queue, voice_queue, korean):
    agent = available_agent(korean, chats=3)
    chat = waiting(chat_queue, seconds_ago=20)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(chat).pk, agent=agent)
    call = waiting(voice_queue, channel="voice")
    routing.router_dispatch()
    assert pending_offer(call) is None


def test_accepting_answers_the_contact_and_tells_the_citizen(chat_queue, korean):
    agent = available_agent(korean)
    contact = waiting(chat_queue, seconds_ago=12)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(contact).pk, agent=agent)
    contact.refresh_from_db()
    assert contact.agent == agent and contact.answered_at is not None
    assert contact.state == "active"
    assert contact.messages.filter(sender="system", text__contains=agent.display_name).exists()


def test_a_declined_contact_goes_to_the_next_agent(chat_queue, korean):
    first = available_agent(korean, idle_minutes=5)
    second = available_agent(korean, idle_minutes=1)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    assert pending_offer(contact).agent == first
    routing.offer_decline(offer_id=pending_offer(contact).pk, agent=first)
    routing.router_dispatch()
    assert pending_offer(contact).agent == second
    assert ContactEvent.objects.filter(contact=contact, type="declined").exists()


@override_settings(ROUTING_OFFER_TIMEOUT_SECONDS=0)
def test_an_unanswered_offer_times_out_and_the_agent_stops_receiving(chat_queue, korean):
    sleepy = available_agent(korean, idle_minutes=5)
    awake = available_agent(korean, idle_minutes=1)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    assert pending_offer(contact).agent == sleepy
    assert routing.offers_expire() == 1
    sleepy.refresh_from_db()
    assert sleepy.presence == Presence.NOT_RESPONDING
    routing.router_dispatch()
    assert pending_offer(contact).agent == awake


def test_an_expired_offer_cannot_be_accepted(chat_queue, korean):
    agent = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    offer = pending_offer(contact)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with translation.override("en"), pytest.raises(routing.RoutingError, match="expired"):
        routing.offer_accept(offer_id=offer.pk, agent=agent)
    contact.refresh_from_db()
    assert contact.agent is None


def test_an_agent_cannot_accept_someone_elses_offer(chat_queue, korean):
    offered = available_agent(korean, idle_minutes=5)
    other = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    with pytest.raises(routing.RoutingError):
        routing.offer_accept(offer_id=pending_offer(contact).pk, agent=other)
    assert pending_offer(contact).agent == offered


def test_overflow_offers_to_the_fallback_queue_after_the_delay(korean):
    english = SkillFactory(code="topic-special", kind=Skill.Kind.TOPIC)
    general = QueueFactory(code="general", channels=["webchat"])
    general.required_skills.set([korean])
    special = QueueFactory(
        code="special", channels=["webchat"], overflow_queue=general, overflow_after_seconds=60
    )
    special.required_skills.set([english])
    generalist = available_agent(korean)
    fresh = waiting(special, seconds_ago=5)
    routing.router_dispatch()
    assert pending_offer(fresh) is None
    Contact.objects.filter(pk=fresh.pk).update(queued_at=timezone.now() - timedelta(seconds=90))
    routing.router_dispatch()
    assert pending_offer(fresh).agent == generalist
    assert ContactEvent.objects.filter(contact=fresh, type="overflowed").exists()


def test_ending_then_wrap_up_needs_the_ticket(chat_queue, korean, agent_user):
    from tickets.services import category_get_or_create_path, contact_ticket_save

    agent = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(contact).pk, agent=agent)
    routing.contact_end(contact=contact, by="agent")
    contact.refresh_from_db()
    assert contact.state == "wrapup"
    with translation.override("en"), pytest.raises(routing.RoutingError, match="ticket"):
        routing.contact_wrapup_complete(contact=contact, agent=agent)
    contact_ticket_save(
        contact=contact,
        actor=agent.user,
        category=category_get_or_create_path(path="일반행정/민원서류"),
        subject="등본 발급 문의",
        answer="정부24에서 무료로 발급됩니다.",
        resolve=True,
    )
    routing.contact_wrapup_complete(contact=contact, agent=agent)
    contact.refresh_from_db()
    assert contact.state == "done"
    ticket = contact.tickets.get()
    assert ticket.status == "resolved" and ticket.answer.startswith("정부24")
    agent.refresh_from_db()
    assert agent.presence == Presence.AVAILABLE


@override_settings(ROUTING_WRAPUP_LIMIT_SECONDS=0)
def test_wrap_up_ends_by_itself_after_the_limit(chat_queue, korean):
    agent = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(contact).pk, agent=agent)
    routing.contact_end(contact=contact, by="citizen")
    assert routing.wrapups_expire() == 1
    contact.refresh_from_db()
    assert contact.state == "done"
    assert contact.events.get(type="wrapup_ended").data == {"forced": True}


def test_a_citizen_leaving_the_queue_is_abandoned_and_the_offer_withdrawn(chat_queue, korean):
    agent = available_agent(korean)
    contact = waiting(chat_queue, seconds_ago=30)
    routing.router_dispatch()
    offer = pending_offer(contact)
    routing.contact_end(contact=contact, by="citizen")
    contact.refresh_from_db()
    offer.refresh_from_db()
    assert contact.abandoned and contact.state == "abandoned"
    assert offer.state == Offer.State.CANCELLED
    agent.refresh_from_db()
    assert agent.presence == Presence.AVAILABLE


def test_transfer_to_a_colleague_moves_the_conversation(chat_queue, korean):
    first = available_agent(korean, idle_minutes=5)
    second = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(contact).pk, agent=first)
    routing.contact_transfer_to_agent(
        contact=contact, from_agent=first, to_agent=second, note="세무 문의"
    )
    contact.refresh_from_db()
    assert contact.agent == second
    assert contact.messages.filter(internal=True, text__contains="세무 문의").exists()


def test_transfer_to_another_queue_starts_a_new_leg_that_keeps_the_ticket(chat_queue, korean):
    from tickets.services import ticket_create

    english = SkillFactory(code="lang-en", kind=Skill.Kind.LANGUAGE)
    foreign = QueueFactory(code="foreign", channels=["webchat"])
    foreign.required_skills.set([english])
    agent = available_agent(korean)
    contact = waiting(chat_queue)
    routing.router_dispatch()
    routing.offer_accept(offer_id=pending_offer(contact).pk, agent=agent)
    ticket = ticket_create(subject="영어 상담 필요", channel="webchat", contacts=[contact])
    leg = routing.contact_transfer_to_queue(contact=contact, from_agent=agent, queue=foreign)
    contact.refresh_from_db()
    assert contact.state == "wrapup"
    assert leg.queue == foreign and leg.state == "waiting" and leg.transferred_from == contact
    assert list(leg.tickets.all()) == [ticket]


def test_no_logged_in_agent_with_the_skill_is_announced_once(chat_queue):
    contact = waiting(chat_queue)
    routing.queue_positions_publish()
    routing.queue_positions_publish()
    assert contact.events.filter(type="no_agents").count() == 1


def test_the_tick_tells_a_chat_its_new_place_and_leaves_a_caller_to_the_wait_music(korean):
    """A queue of chats and calls: the head is answered, every place moves up. The chat
    page hears its new place; a caller hears places from the wait URL (Twilio asks it), so
    the tick leaves the call's last announcement as the wait URL recorded it."""
    queue = QueueFactory(code="mixed", channels=["webchat", "voice"])
    queue.required_skills.set([korean])
    agent = AgentFactory(skills=[korean])  # logged in, not available: nobody is offered
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)
    head = waiting(queue, seconds_ago=60)
    chat = waiting(queue, seconds_ago=50, announced_position=2, announced_eta=120)
    call = waiting(queue, channel="voice", seconds_ago=40, announced_position=3, announced_eta=1)
    Contact.objects.filter(pk=head.pk).update(answered_at=timezone.now())

    routing.queue_positions_publish()

    chat.refresh_from_db()
    call.refresh_from_db()
    assert chat.announced_position == 1
    assert (call.announced_position, call.announced_eta) == (3, 1)


def test_announcing_a_queues_places_reads_it_once_however_long_it_is(chat_queue, korean):
    """The router tick lists every queue each second: a longer queue costs no more queries
    (each contact carries what announcing reads; none is fetched again)."""
    agent = AgentFactory(skills=[korean])
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)

    def queries_for(count: int) -> int:
        Contact.objects.filter(queue=chat_queue).delete()
        for n in range(count):
            waiting(chat_queue, seconds_ago=count - n, citizen=CitizenFactory())
        with CaptureQueriesContext(connection) as queries:
            routing.queue_positions_publish()
        return len(queries)

    assert queries_for(3) == queries_for(30)


def test_one_contacts_place_counts_the_same_as_the_whole_queue_lists(chat_queue, korean):
    """queue_position (a count, for a newcomer and a citizen's hello) agrees with
    queue_positions (the list the router tick announces): assisted citizens first, then by
    the time they joined, ties by id."""
    agent = AgentFactory(skills=[korean])  # logged in, not available: nobody is offered
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)
    same_time = timezone.now() - timedelta(seconds=30)
    contacts = [
        waiting(chat_queue, seconds_ago=50),
        waiting(chat_queue, seconds_ago=40, citizen=CitizenFactory(needs_assistance=True)),
        waiting(chat_queue, seconds_ago=20),
        waiting(chat_queue, seconds_ago=60, citizen=CitizenFactory(needs_assistance=True)),
        waiting(chat_queue, seconds_ago=10),
    ]
    twins = [waiting(chat_queue), waiting(chat_queue)]
    Contact.objects.filter(pk__in=[c.pk for c in twins]).update(queued_at=same_time)
    listed = {c.pk: (position, eta) for c, position, eta in routing.queue_positions(chat_queue)}
    assert [pk for pk, _ in sorted(listed.items(), key=lambda item: item[1][0])][:2] == [
        contacts[3].pk,
        contacts[1].pk,
    ]
    for contact in Contact.objects.filter(queue=chat_queue).select_related("citizen", "queue"):
        assert routing.queue_position(contact) == listed[contact.pk]
    answered = waiting(chat_queue, seconds_ago=5)
    Contact.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    answered.refresh_from_db()
    assert routing.queue_position(answered) is None  # answered: not waiting
