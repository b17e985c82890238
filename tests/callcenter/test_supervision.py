"""What a supervisor does from the wallboard: change an agent's state, move a waiting contact
to another queue, take over a conversation. Each is a POST that answers JSON to the page's
fetch() and redirects a plain form post."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from callcenter import roles
from callcenter.models import (
    AgentPresenceEvent,
    CallLeg,
    Contact,
    ContactEvent,
    Message,
    Offer,
    Presence,
)
from callcenter.services.presence import agent_set_presence
from tests import factories
from tests import factories_wallboard as make
from tests.channels_app.test_call_control import answered_call, connected, setup  # noqa: F401
from tests.channels_app.voice_support import twilio_api  # noqa: F401 - fixture

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def centre(db):
    korean, english = make.skill("lang-ko"), make.skill("lang-en")
    now = timezone.now()
    return {
        "phone": make.queue("phone", "일반 전화", channels=["voice"], skills=[korean]),
        "foreign": make.queue(
            "foreign", "외국어", channels=["voice", "webchat"], skills=[korean, english]
        ),
        "chat": make.queue("chat", "채팅", channels=["webchat"], skills=[korean]),
        "minji": make.agent("김민지", presence=Presence.AVAILABLE, since=now, skills=[korean]),
        "junho": make.agent(
            "이준호", presence=Presence.BREAK, since=now, skills=[korean, english], reason="교육"
        ),
    }


@pytest.fixture
def sora(supervisor_user):
    client = Client()
    client.force_login(supervisor_user)
    client.user = supervisor_user
    return client


def presence_url(agent) -> str:
    return f"/supervisor/wallboard/agents/{agent.pk}/presence"


def queue_url(contact) -> str:
    return f"/supervisor/wallboard/contacts/{contact.pk}/queue"


def take_over_url(contact) -> str:
    return f"/supervisor/wallboard/contacts/{contact.pk}/take-over"


# --- an agent's state -----------------------------------------------------------------------
@pytest.mark.django_db
def test_a_supervisor_puts_an_agent_on_a_break_and_it_is_kept_with_who_did_it(centre, sora):
    minji = centre["minji"]

    response = sora.post(presence_url(minji), {"presence": "break", "reason": "면담"}, **JSON)

    assert response.status_code == 200, response.content
    assert response.json()["presence"] == "break"
    minji.refresh_from_db()
    assert (minji.presence, minji.presence_reason) == ("break", "면담")
    event = AgentPresenceEvent.objects.filter(agent=minji).last()
    assert (event.presence, event.reason, event.changed_by) == ("break", "면담", sora.user)
    log = LogEntry.objects.get(object_id=str(minji.pk))
    assert log.user == sora.user and "휴식" in log.change_message and "면담" in log.change_message


@pytest.mark.django_db
def test_an_agents_own_state_change_names_nobody(centre):
    minji = centre["minji"]
    client = Client()
    client.force_login(minji.user)

    response = client.post("/agent/", {"presence": "break", "reason": "점심"})

    assert response.status_code == 302
    event = AgentPresenceEvent.objects.get(agent=minji)
    assert (event.presence, event.changed_by) == ("break", None)


@pytest.mark.django_db
def test_the_state_the_system_follows_with_after_a_supervisors_change_names_nobody(centre, sora):
    """Junho, on a break, still holds a chat: made available by Sora, the system makes him
    busy at once. Only Sora's change is hers."""
    junho, now = centre["junho"], timezone.now()
    make.in_hand(junho, centre["chat"], queued=now, answered=now, channel="webchat")
    junho.max_concurrent_chats = 1
    junho.save(update_fields=["max_concurrent_chats"])

    response = sora.post(presence_url(junho), {"presence": "available"}, **JSON)

    assert response.status_code == 200, response.content
    events = list(
        AgentPresenceEvent.objects.filter(agent=junho).values_list("presence", "changed_by")
    )
    assert events == [("available", sora.user.pk), ("busy", None)]


@pytest.mark.django_db
def test_a_break_set_by_a_supervisor_needs_a_reason(centre, sora):
    response = sora.post(presence_url(centre["minji"]), {"presence": "break"}, **JSON)

    assert response.status_code == 400
    assert response.json()["error"] == "refused"
    centre["minji"].refresh_from_db()
    assert centre["minji"].presence == "available"


@pytest.mark.django_db
def test_an_agent_holding_a_contact_cannot_be_signed_out_or_sent_on_a_break(centre, sora):
    minji, now = centre["minji"], timezone.now()
    make.in_hand(minji, centre["phone"], queued=now - timedelta(minutes=2), answered=now)

    signed_out = sora.post(presence_url(minji), {"presence": "offline"}, **JSON)
    on_break = sora.post(presence_url(minji), {"presence": "break", "reason": "면담"}, **JSON)

    assert (signed_out.status_code, on_break.status_code) == (400, 400)
    assert "김민지" in signed_out.json()["message"]
    minji.refresh_from_db()
    assert minji.presence == "available"
    assert not AgentPresenceEvent.objects.filter(agent=minji).exists()


@pytest.mark.django_db
def test_an_agent_without_an_open_console_cannot_be_made_available(centre, sora):
    gone = make.agent(
        "정하늘", presence=Presence.BREAK, since=timezone.now(), reason="점심", console=False
    )

    response = sora.post(presence_url(gone), {"presence": "available"}, **JSON)

    assert response.status_code == 400
    gone.refresh_from_db()
    assert gone.presence == "break"


@pytest.mark.django_db
def test_back_from_a_break_the_agent_is_available_again(centre, sora):
    junho = centre["junho"]

    response = sora.post(presence_url(junho), {"presence": "available"}, **JSON)

    assert response.status_code == 200
    junho.refresh_from_db()
    assert (junho.presence, junho.presence_reason) == ("available", "")


@pytest.mark.django_db
@pytest.mark.parametrize("presence", ["busy", "wrapup", "not_responding", "after_call", "나가"])
def test_states_the_system_sets_are_not_a_supervisors_choice(centre, sora, presence):
    response = sora.post(presence_url(centre["minji"]), {"presence": presence}, **JSON)

    assert response.status_code == 400
    centre["minji"].refresh_from_db()
    assert centre["minji"].presence == "available"


@pytest.mark.django_db
def test_a_plain_form_post_returns_to_the_wallboard_with_a_message(centre, sora):
    response = sora.post(
        presence_url(centre["minji"]), {"presence": "break", "reason": "면담"}, follow=True
    )

    assert response.redirect_chain == [("/supervisor/wallboard/", 302)]
    assert "김민지" in response.content.decode()


@pytest.mark.django_db
def test_changing_an_unknown_agent_is_not_found(centre, sora):
    assert sora.post("/supervisor/wallboard/agents/999999/presence", **JSON).status_code == 404


@pytest.mark.django_db
def test_an_agent_cannot_change_a_colleagues_state(centre, agent_user):
    client = Client()
    client.force_login(agent_user)

    response = client.post(presence_url(centre["junho"]), {"presence": "available"}, **JSON)

    assert response.status_code == 403
    centre["junho"].refresh_from_db()
    assert centre["junho"].presence == "break"


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_change_an_agents_state(centre, client):
    response = client.post(presence_url(centre["junho"]), {"presence": "available"})

    assert response.status_code == 302 and "/login" in response["Location"]
    centre["junho"].refresh_from_db()
    assert centre["junho"].presence == "break"


@pytest.mark.django_db
def test_the_state_change_is_a_post(centre, sora):
    assert sora.get(presence_url(centre["minji"])).status_code == 405


# --- moving a waiting contact ---------------------------------------------------------------
@pytest.mark.django_db
def test_a_waiting_call_moves_to_another_queue_keeping_its_wait_and_losing_its_offer(
    centre, sora, django_capture_on_commit_callbacks
):
    queued = timezone.now() - timedelta(seconds=40)
    contact = make.waiting(centre["phone"], since=queued)
    offer = Offer.objects.create(
        contact=contact, agent=centre["minji"], expires_at=timezone.now() + timedelta(seconds=20)
    )
    agent_set_presence(agent=centre["junho"], presence=Presence.AVAILABLE, dispatch=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = sora.post(queue_url(contact), {"queue": centre["foreign"].pk}, **JSON)

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.queue, contact.queued_at, contact.state) == (
        centre["foreign"],
        queued,
        "waiting",
    )
    offer.refresh_from_db()
    assert offer.state == Offer.State.CANCELLED
    moved = contact.events.get(type=ContactEvent.Type.TRANSFERRED)
    assert moved.actor == sora.user
    assert moved.data == {"from_queue": "phone", "to_queue": "foreign", "by": "supervisor"}
    # The router offers it again, from its new queue: to Junho, who speaks English.
    assert Offer.objects.get(contact=contact, state=Offer.State.PENDING).agent == centre["junho"]


@pytest.mark.django_db
def test_a_waiting_chats_citizen_reads_that_they_are_being_connected_elsewhere(centre, sora):
    contact = make.waiting(centre["chat"], since=timezone.now(), channel="webchat")

    response = sora.post(queue_url(contact), {"queue": centre["foreign"].pk}, **JSON)

    assert response.status_code == 200
    line = Message.objects.get(contact=contact, sender=Message.Sender.SYSTEM)
    assert "외국어" in line.text and not line.internal


@pytest.mark.django_db
def test_a_contact_already_answered_or_gone_cannot_be_moved(centre, sora):
    now = timezone.now()
    answered = make.in_hand(centre["minji"], centre["phone"], queued=now, answered=now)
    gone = factories.ContactFactory(
        queue=centre["phone"], queued_at=now, ended_at=now, abandoned=True
    )

    for contact in (answered, gone):
        response = sora.post(queue_url(contact), {"queue": centre["foreign"].pk}, **JSON)
        assert response.status_code == 400
        assert response.json()["message"]
        contact.refresh_from_db()
        assert contact.queue == centre["phone"]
        assert not contact.events.filter(type=ContactEvent.Type.TRANSFERRED).exists()


@pytest.mark.django_db
def test_a_contact_cannot_move_to_a_queue_that_does_not_take_its_channel(centre, sora):
    contact = make.waiting(centre["phone"], since=timezone.now())

    response = sora.post(queue_url(contact), {"queue": centre["chat"].pk}, **JSON)

    assert response.status_code == 400
    assert "채팅" in response.json()["message"]
    contact.refresh_from_db()
    assert contact.queue == centre["phone"]


@pytest.mark.django_db
def test_a_contact_cannot_move_to_its_own_queue_a_closed_one_or_nowhere(centre, sora):
    contact = make.waiting(centre["phone"], since=timezone.now())
    closed = make.queue("closed", "폐쇄", channels=["voice"])
    closed.is_active = False
    closed.save()

    for queue in (centre["phone"].pk, closed.pk, 999999, "", "abc"):
        response = sora.post(queue_url(contact), {"queue": queue}, **JSON)
        assert response.status_code == 400, queue
    contact.refresh_from_db()
    assert contact.queue == centre["phone"]


@pytest.mark.django_db
def test_moving_an_unknown_contact_is_not_found(centre, sora):
    response = sora.post(
        "/supervisor/wallboard/contacts/999999/queue", {"queue": centre["foreign"].pk}, **JSON
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_an_agent_cannot_move_a_waiting_contact(centre, agent_user):
    contact = make.waiting(centre["phone"], since=timezone.now())
    client = Client()
    client.force_login(agent_user)

    response = client.post(queue_url(contact), {"queue": centre["foreign"].pk}, **JSON)

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.queue == centre["phone"]


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_move_a_waiting_contact(centre, client):
    contact = make.waiting(centre["phone"], since=timezone.now())

    response = client.post(queue_url(contact), {"queue": centre["foreign"].pk})

    assert response.status_code == 302 and "/login" in response["Location"]


# --- taking over ----------------------------------------------------------------------------
@pytest.fixture
def sora_the_agent(sora):
    """Sora, supervisor, also has an agent profile and the agent role."""
    from django.contrib.auth.models import Group

    sora.user.groups.add(Group.objects.get(name=roles.AGENT))
    sora.agent = factories.AgentFactory(user=sora.user, display_name="박소라")
    return sora


def chat_in_hand(centre) -> Contact:
    now = timezone.now()
    contact = make.in_hand(
        centre["minji"],
        centre["chat"],
        queued=now - timedelta(minutes=3),
        answered=now - timedelta(minutes=2),
        channel="webchat",
    )
    agent_set_presence(agent=centre["minji"], presence=Presence.BUSY, dispatch=False)
    return contact


@pytest.mark.django_db
def test_a_supervisor_takes_over_a_chat_and_the_citizen_reads_who(centre, sora_the_agent):
    contact = chat_in_hand(centre)

    response = sora_the_agent.post(take_over_url(contact), **JSON)

    assert response.status_code == 200, response.content
    assert response.json()["console_url"] == "/agent/"
    contact.refresh_from_db()
    assert (contact.agent, contact.state) == (sora_the_agent.agent, "active")
    event = contact.events.get(type=ContactEvent.Type.TRANSFERRED)
    assert (event.actor, event.agent) == (sora_the_agent.user, sora_the_agent.agent)
    assert event.data == {
        "from_agent": centre["minji"].pk,
        "to_agent": sora_the_agent.agent.pk,
        "by": "supervisor",
    }
    line = Message.objects.filter(contact=contact, sender=Message.Sender.SYSTEM).last()
    assert "박소라" in line.text and not line.internal
    # Minji's hands are free again; Sora is at work.
    centre["minji"].refresh_from_db()
    sora_the_agent.agent.refresh_from_db()
    assert centre["minji"].presence == "available"
    assert sora_the_agent.agent.presence == "busy"


@pytest.mark.django_db
def test_a_supervisor_without_an_agent_profile_is_told_why_they_cannot_take_over(centre, sora):
    contact = chat_in_hand(centre)

    response = sora.post(take_over_url(contact), **JSON)

    assert response.status_code == 400
    assert "agent profile" in response.json()["message"] or "상담사" in response.json()["message"]
    contact.refresh_from_db()
    assert contact.agent == centre["minji"]


@pytest.mark.django_db
def test_only_a_conversation_in_progress_can_be_taken_over(centre, sora_the_agent):
    now = timezone.now()
    waiting = make.waiting(centre["phone"], since=now)
    ended = make.in_hand(centre["minji"], centre["phone"], queued=now, answered=now, ended=now)
    mine = make.in_hand(sora_the_agent.agent, centre["phone"], queued=now, answered=now)

    for contact in (waiting, ended, mine):
        response = sora_the_agent.post(take_over_url(contact), **JSON)
        assert response.status_code == 400
        assert not contact.events.filter(type=ContactEvent.Type.TRANSFERRED).exists()


@pytest.mark.django_db
def test_taking_over_from_the_conversation_page_opens_the_agent_console(centre, sora_the_agent):
    contact = chat_in_hand(centre)

    page = sora_the_agent.get(f"/supervisor/contacts/{contact.pk}/").content.decode()
    response = sora_the_agent.post(take_over_url(contact))

    assert take_over_url(contact) in page
    assert (response.status_code, response["Location"]) == (302, "/agent/")


@pytest.mark.django_db
def test_a_refused_take_over_from_the_conversation_page_returns_there(centre, sora):
    contact = chat_in_hand(centre)

    response = sora.post(take_over_url(contact))

    assert (response.status_code, response["Location"]) == (
        302,
        f"/supervisor/contacts/{contact.pk}/",
    )


@pytest.mark.django_db
def test_an_agent_cannot_take_over_a_colleagues_conversation(centre, other_agent_user):
    contact = chat_in_hand(centre)
    client = Client()
    client.force_login(other_agent_user)

    assert client.post(take_over_url(contact), **JSON).status_code == 403
    contact.refresh_from_db()
    assert contact.agent == centre["minji"]


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_take_over(centre, client):
    contact = chat_in_hand(centre)

    response = client.post(take_over_url(contact))

    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db
def test_taking_over_an_unknown_contact_is_not_found(centre, sora_the_agent):
    assert sora_the_agent.post("/supervisor/wallboard/contacts/999999/take-over").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_taking_over_a_call_dials_the_supervisors_softphone_in_and_the_agent_out(
    client,
    setup,  # noqa: F811
    supervisor_user,
):
    from django.contrib.auth.models import Group

    api, (agent, _colleague) = setup
    contact = answered_call(client, agent)
    former_leg = connected(client, contact)
    supervisor_user.groups.add(Group.objects.get(name=roles.AGENT))
    taker = factories.AgentFactory(user=supervisor_user, display_name="박소라")
    sora = Client()
    sora.force_login(supervisor_user)

    response = sora.post(take_over_url(contact), **JSON)

    assert response.status_code == 200, response.content
    new_leg = CallLeg.objects.get(contact=contact, agent=taker)
    added = [
        f
        for m, p, f in api.requests
        if p.endswith(f"/Conferences/contact-{contact.pk}/Participants.json")
    ]
    assert added[-1]["To"] == f"client:agent-{taker.pk}"
    assert added[-1]["Label"] == f"agent-{new_leg.pk}"
    former_leg.refresh_from_db()
    assert former_leg.state == CallLeg.State.LEFT
    assert api.requests[-1][0] == "DELETE"
    contact.refresh_from_db()
    assert contact.agent == taker
