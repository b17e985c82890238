"""An answered call: bridged to the agent's softphone through a conference, then held,
muted, transferred, conferenced with an interpreter and hung up from the console.

Each control is a REST request the real ``twilio`` library builds and sends after commit
(VOICE_BACKEND=twilio, Twilio's HTTP answered on the wire): the tests read the exact
method, URL and form fields Twilio would receive, and the webhooks Twilio sends back are
signed as Twilio signs them.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callcenter.models import (
    CallbackRequest,
    CallLeg,
    Contact,
    ContactEvent,
    Offer,
    Presence,
    Skill,
    VoiceCall,
)
from callcenter.services import calls, routing
from callcenter.services.outbox import outbox_sweep
from callcenter.services.presence import agent_set_presence
from channels_app.models import OutboundMessage
from tests.channels_app.voice_support import (
    ACCOUNT_SID,
    API,
    CALLER_ID,
    signed_post,
    twilio_api,  # noqa: F401 - fixture
    twiml,
)
from tests.factories import AgentFactory, QueueFactory, SkillFactory, UserFactory

# Commands are sent after commit: the tests commit, as requests do.
pytestmark = pytest.mark.django_db(transaction=True)

CALL_SID = "CA" + "1" * 32
CONFERENCE_SID = "CF" + "2" * 32
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def setup(settings, twilio_api):  # noqa: F811
    settings.PUBLIC_BASE_URL = BASE
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    general = QueueFactory(code="general", name="일반", channels=["voice"])
    general.required_skills.set([korean])
    QueueFactory(code="foreign", name="외국어", channels=["voice", "webchat"])
    agents = [AgentFactory(skills=[korean]) for _ in range(2)]
    for agent in agents:
        agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    return twilio_api, agents


def call_params(**extra) -> dict:
    return {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT_SID,
        "From": "+821012345678",
        "To": "+8220120120",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


def answered_call(client, agent) -> Contact:
    """A caller pressed 0 and ``agent`` accepted the router's offer."""
    signed_post(client, "/twilio/voice/incoming", call_params(CallStatus="ringing"))
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    routing.router_dispatch()
    offer = Offer.objects.get(state=Offer.State.PENDING)
    if offer.agent_id != agent.pk:  # the router chose the other one: hand it over
        routing.offer_decline(offer_id=offer.pk, agent=offer.agent)
        agent_set_presence(
            agent=offer.agent, presence=Presence.BREAK, reason="교육", dispatch=False
        )
        routing.router_dispatch()
        offer = Offer.objects.get(state=Offer.State.PENDING)
    return routing.offer_accept(offer_id=offer.pk, agent=agent)


def conference_event(client, event, **extra):
    params = {
        "AccountSid": ACCOUNT_SID,
        "FriendlyName": extra.pop("FriendlyName"),
        "ConferenceSid": CONFERENCE_SID,
        "StatusCallbackEvent": event,
        **extra,
    }
    return signed_post(client, "/twilio/voice/conference-status", params)


def connected(client, contact) -> CallLeg:
    """Twilio's conference callbacks: it started, the caller and the agent joined."""
    name = f"contact-{contact.pk}"
    conference_event(client, "conference-start", FriendlyName=name)
    conference_event(
        client, "participant-join", FriendlyName=name, CallSid=CALL_SID, ParticipantLabel="caller"
    )
    agent_leg = CallLeg.objects.get(contact=contact, role=CallLeg.Role.AGENT)
    conference_event(
        client,
        "participant-join",
        FriendlyName=name,
        CallSid=agent_leg.call_sid,
        ParticipantLabel=f"agent-{agent_leg.pk}",
    )
    agent_leg.refresh_from_db()
    return agent_leg


def console(agent) -> Client:
    browser = Client()
    browser.force_login(agent.user)
    return browser


def act(agent, contact, action, body=None):
    return console(agent).post(
        f"/api/voice/calls/{contact.pk}/{action}",
        json.dumps(body or {}),
        content_type="application/json",
    )


def test_an_accepted_call_is_bridged_into_its_conference_dialled_to_the_agent_and_recorded(
    client, setup
):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    leg = CallLeg.objects.get(contact=contact, role=CallLeg.Role.AGENT)
    assert api.requests == [
        (
            "POST",
            f"/Calls/{CALL_SID}.json",
            {"Url": f"{BASE}/twilio/voice/conference?contact={contact.pk}", "Method": "POST"},
        ),
        (
            "POST",
            f"/Conferences/contact-{contact.pk}/Participants.json",
            {
                "From": CALLER_ID,
                "To": f"client:agent-{agent.pk}",
                "Label": f"agent-{leg.pk}",
                "EarlyMedia": "true",
                "Beep": "false",
                "EndConferenceOnExit": "false",
                "StatusCallback": f"{BASE}/twilio/voice/participant?leg={leg.pk}",
                "StatusCallbackMethod": "POST",
                "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
            },
        ),
        (
            "POST",
            f"/Calls/{CALL_SID}/Recordings.json",
            {
                "RecordingChannels": "dual",
                "RecordingTrack": "both",
                "RecordingStatusCallback": f"{BASE}/twilio/voice/recording",
                "RecordingStatusCallbackMethod": "POST",
                "RecordingStatusCallbackEvent": ["completed", "absent"],
            },
        ),
    ]
    # The agent's leg has the CallSid Twilio answered with; every row is sent, in order.
    assert leg.call_sid.startswith("CA") and len(leg.call_sid) == 34
    assert VoiceCall.objects.get(contact=contact).ivr_path == ["menu:0"]
    rows = OutboundMessage.objects.filter(channel="voice").order_by("id")
    assert [row.subject for row in rows] == ["redirect", "participant_add", "record"]
    assert {row.status for row in rows} == {"sent"}
    assert rows[0].request[0]["url"] == f"{API}/Calls/{CALL_SID}.json"


def test_the_conference_twiml_starts_korean_transcription_and_joins_the_callers_conference(
    client, setup
):
    _api, (agent, _) = setup
    contact = answered_call(client, agent)
    root = twiml(
        signed_post(client, f"/twilio/voice/conference?contact={contact.pk}", call_params())
    )
    transcription = root.find("Start/Transcription")
    assert transcription.get("languageCode") == "ko-KR"
    assert transcription.get("track") == "both_tracks"
    assert transcription.get("statusCallbackUrl") == f"{BASE}/twilio/voice/transcription"
    conference = root.find("Dial/Conference")
    assert conference.text == f"contact-{contact.pk}"
    assert conference.get("endConferenceOnExit") == "true"
    assert conference.get("participantLabel") == "caller"
    assert conference.get("statusCallback") == f"{BASE}/twilio/voice/conference-status"
    # Another call cannot join this conference by naming the contact.
    other = twiml(
        signed_post(
            client,
            f"/twilio/voice/conference?contact={contact.pk}",
            call_params(CallSid="CA" + "9" * 32),
        )
    )
    assert other.find("Dial") is None and other.find("Hangup") is not None


def test_hold_waits_for_the_conference_sid_then_holds_the_caller_with_music_and_counts_it(
    client, setup
):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    assert act(agent, contact, "hold").status_code == 409  # the agent is not connected yet
    # The softphone answers; Twilio's conference callback has not come yet.
    leg = CallLeg.objects.get(contact=contact, role=CallLeg.Role.AGENT)
    signed_post(
        client,
        f"/twilio/voice/participant?leg={leg.pk}",
        {"CallSid": leg.call_sid, "CallStatus": "in-progress", "AccountSid": ACCOUNT_SID},
    )
    sent_before = len(api.requests)
    assert act(agent, contact, "hold").status_code == 200
    row = OutboundMessage.objects.filter(subject="participant_update").get()
    assert row.status == "queued" and "conference has not started" in row.error
    assert len(api.requests) == sent_before  # nothing sent without the conference's SID

    connected(client, contact)
    outbox_sweep(now=timezone.now() + timedelta(seconds=5))
    assert api.requests[-1] == (
        "POST",
        f"/Conferences/{CONFERENCE_SID}/Participants/{CALL_SID}.json",
        {
            "Hold": "true",
            "HoldUrl": f"{BASE}/twilio/voice/hold-music?contact={contact.pk}",
            "HoldMethod": "POST",
        },
    )
    assert VoiceCall.objects.get(contact=contact).hold_started_at is not None
    assert act(agent, contact, "hold").json()["call"]["on_hold"] is True  # again: nothing new
    assert OutboundMessage.objects.filter(subject="participant_update").count() == 1

    answer = act(agent, contact, "resume").json()
    assert answer["call"]["on_hold"] is False
    assert api.requests[-1][2] == {"Hold": "false"}
    contact.refresh_from_db()
    assert contact.hold_seconds >= 0
    assert list(
        contact.events.filter(type__in=["held", "resumed"]).values_list("type", flat=True)
    ) == ["held", "resumed"]


def test_mute_mutes_the_agents_own_leg(client, setup):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    leg = connected(client, contact)
    answer = act(agent, contact, "mute").json()
    assert api.requests[-1] == (
        "POST",
        f"/Conferences/{CONFERENCE_SID}/Participants/{leg.call_sid}.json",
        {"Muted": "true"},
    )
    me = next(party for party in answer["call"]["legs"] if party["role"] == "agent")
    assert me["muted"] is True


def test_a_blind_transfer_dials_the_colleague_in_and_takes_the_agent_out(client, setup):
    api, (agent, colleague) = setup
    contact = answered_call(client, agent)
    leg = connected(client, contact)
    response = act(agent, contact, "transfer", {"agent": colleague.pk, "mode": "blind"})
    assert response.status_code == 200, response.content
    new_leg = CallLeg.objects.get(contact=contact, agent=colleague)
    method, path, fields = api.requests[-2]
    assert (method, path) == ("POST", f"/Conferences/contact-{contact.pk}/Participants.json")
    assert fields["To"] == f"client:agent-{colleague.pk}"
    assert fields["Label"] == f"agent-{new_leg.pk}"
    assert api.requests[-1] == (
        "DELETE",
        f"/Conferences/{CONFERENCE_SID}/Participants/{leg.call_sid}.json",
        {},
    )
    contact.refresh_from_db()
    assert contact.agent == colleague
    assert contact.events.filter(type=ContactEvent.Type.TRANSFERRED).exists()


def test_a_transfer_to_a_queue_sends_the_caller_back_to_wait_as_a_new_leg(client, setup):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    leg = connected(client, contact)
    response = act(agent, contact, "transfer", {"queue": "foreign"})
    assert response.status_code == 200, response.content
    new_contact = Contact.objects.get(transferred_from=contact)
    assert new_contact.queue.code == "foreign" and new_contact.state == "waiting"
    assert ("POST", f"/Calls/{CALL_SID}.json") in [(m, p) for m, p, _f in api.requests[-2:]]
    redirect = next(
        f
        for m, p, f in api.requests
        if f.get("Url", "").endswith(f"/twilio/voice/requeue?contact={new_contact.pk}")
    )
    assert redirect["Method"] == "POST"
    assert api.requests[-1][:2] == (
        "DELETE",
        f"/Conferences/{CONFERENCE_SID}/Participants/{leg.call_sid}.json",
    )
    # Twilio asks what the caller does now: wait in the foreign queue; later webhooks for
    # the same CallSid find the new leg.
    root = twiml(
        signed_post(client, f"/twilio/voice/requeue?contact={new_contact.pk}", call_params())
    )
    assert root.find("Enqueue").text == "foreign"
    assert calls.call_for_sid(CALL_SID) == new_contact
    contact.refresh_from_db()
    assert contact.state == "wrapup"


def test_a_warm_transfer_holds_the_caller_consults_then_hands_over(client, setup):
    api, (agent, colleague) = setup
    contact = answered_call(client, agent)
    mine = connected(client, contact)
    answer = act(agent, contact, "transfer", {"agent": colleague.pk, "mode": "warm"})
    assert answer.status_code == 200, answer.content
    roles = {(p["role"], p["agent_id"]) for p in answer.json()["call"]["legs"]}
    assert ("consult", colleague.pk) in roles
    assert answer.json()["call"]["on_hold"] is True
    consult = CallLeg.objects.get(contact=contact, role=CallLeg.Role.CONSULT)
    # The colleague sees the call before holding it.
    assert console(colleague).get(f"/api/voice/calls/{contact.pk}").status_code == 200

    answer = act(agent, contact, "transfer-complete")
    assert answer.status_code == 200, answer.content
    contact.refresh_from_db()
    consult.refresh_from_db()
    assert contact.agent == colleague and consult.role == CallLeg.Role.AGENT
    assert ("DELETE", f"/Conferences/{CONFERENCE_SID}/Participants/{mine.call_sid}.json", {}) in (
        api.requests
    )
    assert {"Hold": "false"} in [fields for _m, _p, fields in api.requests]
    assert act(agent, contact, "hold").status_code == 403  # no longer the agent's call


def test_an_interpreter_line_is_conferenced_in_for_the_callers_language(client, setup, settings):
    settings.VOICE_INTERPRETER_LINES = {"ko": "+8215885644", "en": "+8215885644"}
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    connected(client, contact)
    answer = act(agent, contact, "interpreter", {"language": "en"})
    assert answer.status_code == 200, answer.content
    leg = CallLeg.objects.get(contact=contact, role=CallLeg.Role.INTERPRETER)
    method, path, fields = api.requests[-1]
    assert (method, path) == ("POST", f"/Conferences/contact-{contact.pk}/Participants.json")
    assert fields["To"] == "+8215885644" and fields["From"] == CALLER_ID
    assert fields["Label"] == f"interpreter-{leg.pk}"
    assert act(agent, contact, "interpreter").status_code == 409  # one at a time
    event = contact.events.get(type=ContactEvent.Type.CONFERENCED)
    assert event.data["language"] == "en"
    # The line answers, then is taken out again.
    signed_post(
        client,
        f"/twilio/voice/participant?leg={leg.pk}",
        {"CallSid": leg.call_sid, "CallStatus": "answered", "AccountSid": ACCOUNT_SID},
    )
    leg.refresh_from_db()
    assert leg.state == CallLeg.State.JOINED
    act(agent, contact, "interpreter-remove")
    assert api.requests[-1] == (
        "DELETE",
        f"/Conferences/{CONFERENCE_SID}/Participants/{leg.call_sid}.json",
        {},
    )


def test_an_interpreter_needs_a_line_for_the_language(client, setup, settings):
    settings.VOICE_INTERPRETER_LINES = {}
    _api, (agent, _) = setup
    contact = answered_call(client, agent)
    response = act(agent, contact, "interpreter")
    assert response.status_code == 409
    assert not CallLeg.objects.filter(role=CallLeg.Role.INTERPRETER).exists()


def test_hanging_up_ends_the_call_at_twilio_and_late_status_callbacks_change_nothing(client, setup):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    connected(client, contact)
    act(agent, contact, "hold")
    response = act(agent, contact, "hang-up")
    assert response.status_code == 200 and response.json()["state"] == "wrapup"
    assert api.requests[-1] == ("POST", f"/Calls/{CALL_SID}.json", {"Status": "completed"})
    contact.refresh_from_db()
    ended_at = contact.ended_at
    assert VoiceCall.objects.get(contact=contact).hold_started_at is None
    assert not CallLeg.objects.filter(contact=contact).exclude(state="left").exists()
    for status in ("completed", "in-progress", "completed"):
        signed_post(client, "/twilio/voice/status", call_params(CallStatus=status))
    contact.refresh_from_db()
    assert contact.ended_at == ended_at and not contact.abandoned
    assert act(agent, contact, "hang-up").status_code == 409


def test_the_caller_hanging_up_mid_call_ends_the_contact_once_and_asks_twilio_nothing(
    client, setup
):
    api, (agent, _) = setup
    contact = answered_call(client, agent)
    connected(client, contact)
    sent = len(api.requests)
    signed_post(client, "/twilio/voice/status", call_params(CallStatus="completed"))
    signed_post(client, "/twilio/voice/status", call_params(CallStatus="completed"))
    contact.refresh_from_db()
    assert contact.state == "wrapup" and not contact.abandoned
    assert len(api.requests) == sent
    assert contact.events.filter(type=ContactEvent.Type.ENDED).count() == 1


def test_controls_check_who_asks(client, setup):
    _api, (agent, colleague) = setup
    contact = answered_call(client, agent)
    anonymous = Client().post(f"/api/voice/calls/{contact.pk}/hold")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "login_required"
    assert act(colleague, contact, "hold").status_code == 403
    assert console(colleague).get(f"/api/voice/calls/{contact.pk}").status_code == 403
    supervisor = Client()
    supervisor.force_login(UserFactory(roles=["supervisor"]))
    assert supervisor.get(f"/api/voice/calls/{contact.pk}").status_code == 200
    assert supervisor.post(f"/api/voice/calls/{contact.pk}/hold").status_code == 403
    assert act(agent, contact, "dance").status_code == 404
    bad = console(agent).post(
        f"/api/voice/calls/{contact.pk}/transfer", "{not json", content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["message"]
    assert act(agent, contact, "transfer", {"agent": "two"}).status_code == 400
    assert act(agent, contact, "transfer", {"queue": "nowhere"}).status_code == 404
    assert act(agent, contact, "hold").status_code == 409  # not connected yet
    assert console(agent).get("/api/voice/calls/999999").status_code == 404


def test_a_call_back_is_dialled_from_the_city_number_and_joins_the_agents_conference(client, setup):
    api, (agent, colleague) = setup
    callback = CallbackRequest.objects.create(
        phone="+821098765432",
        status=CallbackRequest.Status.TAKEN,
        assigned_to=agent,
    )
    agent_set_presence(agent=agent, presence=Presence.BREAK, reason="교육", dispatch=False)
    response = console(colleague).post(f"/api/voice/callbacks/{callback.pk}/dial")
    assert response.status_code == 403
    response = console(agent).post(f"/api/voice/callbacks/{callback.pk}/dial")
    assert response.status_code == 200, response.content
    contact = Contact.objects.get(direction=Contact.Direction.OUTBOUND)
    method, path, fields = api.requests[0]
    assert (method, path) == ("POST", "/Calls.json")
    assert fields["To"] == "+821098765432" and fields["From"] == CALLER_ID
    assert fields["Url"] == f"{BASE}/twilio/voice/conference?contact={contact.pk}"
    assert fields["StatusCallback"] == f"{BASE}/twilio/voice/status"
    contact.refresh_from_db()
    placed = contact.provider_id
    assert placed.startswith("CA") and VoiceCall.objects.get(contact=contact).call_sid == placed
    # The agent's softphone is dialled in; the recording names the call Twilio placed.
    assert api.requests[1][1] == f"/Conferences/contact-{contact.pk}/Participants.json"
    assert api.requests[2][1] == f"/Calls/{placed}/Recordings.json"
    # The citizen answers: Twilio asks the conference URL with the placed call's SID.
    root = twiml(
        signed_post(
            client,
            f"/twilio/voice/conference?contact={contact.pk}",
            call_params(CallSid=placed, Direction="outbound-api"),
        )
    )
    assert root.find("Dial/Conference").text == f"contact-{contact.pk}"
    assert console(agent).post(f"/api/voice/callbacks/{callback.pk}/dial").status_code == 409
    agent.refresh_from_db()
    assert agent.presence == Presence.BUSY  # on a call, whatever it said before
    assert reverse("voice-callback-dial", args=[callback.pk]).startswith("/api/voice/")


def waiting_caller_asks_for_a_call_back(client, settings) -> CallbackRequest:
    settings.VOICE_CALLBACK_OFFER_SECONDS = 0
    signed_post(client, "/twilio/voice/incoming", call_params(CallStatus="ringing"))
    signed_post(client, "/twilio/voice/menu", call_params(Digits="0"))
    signed_post(client, "/twilio/voice/callback", call_params(Digits="1"))
    return CallbackRequest.objects.get()


def test_the_router_offers_a_call_back_after_the_callers_and_accepting_dials_the_citizen(
    client, setup, settings
):
    api, (agent, colleague) = setup
    for someone in (agent, colleague):
        agent_set_presence(agent=someone, presence=Presence.BREAK, reason="교육", dispatch=False)
    callback = waiting_caller_asks_for_a_call_back(client, settings)
    queued = Contact.objects.get(provider_id=f"callback-{callback.pk}")
    assert queued.direction == Contact.Direction.OUTBOUND and queued.state == "waiting"
    # A caller who rings meanwhile is answered first; the call-back is next.
    later = "CA" + "3" * 32
    signed_post(client, "/twilio/voice/incoming", call_params(CallSid=later))
    signed_post(client, "/twilio/voice/menu", call_params(CallSid=later, Digits="0"))
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    routing.router_dispatch()
    assert Offer.objects.get(state=Offer.State.PENDING).contact.provider_id == later
    agent_set_presence(agent=colleague, presence=Presence.AVAILABLE, dispatch=False)
    routing.router_dispatch()
    offer = Offer.objects.get(state=Offer.State.PENDING, agent=colleague)
    assert offer.contact == queued
    sent = len(api.requests)

    routing.offer_accept(offer_id=offer.pk, agent=colleague)
    callback.refresh_from_db()
    assert callback.status == CallbackRequest.Status.TAKEN and callback.assigned_to == colleague
    method, path, fields = api.requests[sent]
    assert (method, path) == ("POST", "/Calls.json")
    assert fields["To"] == "+821012345678" and fields["From"] == CALLER_ID
    assert fields["Url"] == f"{BASE}/twilio/voice/conference?contact={queued.pk}"
    queued.refresh_from_db()
    assert queued.provider_id.startswith("CA") and queued.state == "active"
    assert api.requests[sent + 1][2]["To"] == f"client:agent-{colleague.pk}"


def test_a_call_back_taken_from_the_work_list_leaves_the_routers_queue(client, setup, settings):
    _api, (agent, colleague) = setup
    for someone in (agent, colleague):
        agent_set_presence(agent=someone, presence=Presence.BREAK, reason="교육", dispatch=False)
    callback = waiting_caller_asks_for_a_call_back(client, settings)
    response = console(agent).post(f"/callbacks/{callback.pk}/take/")
    assert response.status_code == 302
    queued = Contact.objects.get(provider_id=f"callback-{callback.pk}")
    assert queued.state == "ended" and not queued.abandoned
    agent_set_presence(agent=colleague, presence=Presence.AVAILABLE, dispatch=False)
    routing.router_dispatch()
    assert not Offer.objects.filter(state=Offer.State.PENDING).exists()
