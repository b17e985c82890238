"""The voice relay of a sign-language video call: the signing agent conferences a city
department by phone through the voice backend and interprets between the deaf citizen (on
video) and the officer (on the phone).

The relay's parties are REST requests the real ``twilio`` library builds and sends after
commit (Twilio's HTTP answered on the wire, or kept by the simulated backend): the tests
read the exact requests. Twilio's callbacks come signed as Twilio signs them, and move the
relay's legs without touching the video contact.
"""

import json

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from callcenter.models import (
    CallLeg,
    Contact,
    ContactEvent,
    Message,
    Offer,
    Presence,
    Skill,
    VoiceCall,
)
from callcenter.services import routing, video
from callcenter.services.presence import agent_set_presence
from channels_app.models import OutboundMessage
from tests.channels_app.voice_support import (
    ACCOUNT_SID,
    CALLER_ID,
    signed_post,
    twilio_api,  # noqa: F401 - fixture
)
from tests.factories import (
    AgentFactory,
    ContactFactory,
    DepartmentFactory,
    QueueFactory,
    SkillFactory,
)

# Commands are sent after commit: the tests commit, as requests do.
pytestmark = pytest.mark.django_db(transaction=True)

BASE = "http://127.0.0.1:8000"
CONFERENCE_SID = "CF" + "7" * 32
ROADS_PHONE = "02-2133-1234"  # 도로관리과
ROADS_E164 = "+82221331234"


@pytest.fixture
def centre(settings):
    settings.PUBLIC_BASE_URL = BASE
    sign = SkillFactory(code="sign-language", name="수어", kind=Skill.Kind.SIGN_LANGUAGE)
    queue = QueueFactory(code="sign-video", name="수어 영상", channels=["video"])
    queue.required_skills.set([sign])
    suji = AgentFactory(user__username="suji", display_name="박수지", skills=[sign])
    hana = AgentFactory(user__username="hana", display_name="최하나", skills=[sign])
    roads = DepartmentFactory(name="도로관리과", code="roads", phone=ROADS_PHONE)
    return {"suji": suji, "hana": hana, "roads": roads}


@pytest.fixture
def api(settings, twilio_api):  # noqa: F811
    settings.PUBLIC_BASE_URL = BASE
    return twilio_api


def answered_video(agent) -> Contact:
    """A citizen started a video call and ``agent`` (signing, available) accepted it."""
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    session, _token, _call = video.video_start(name="홍길동", phone="010-1234-5678", language="ko")
    routing.router_dispatch()
    offer = Offer.objects.get(contact_id=session.contact_id, state=Offer.State.PENDING)
    assert offer.agent_id == agent.pk
    return routing.offer_accept(offer_id=offer.pk, agent=agent)


def in_korean(line: str, who: str) -> str:
    """A staff line as the console shows it (Korean: "음성 릴레이: 도로관리과 연결 중")."""
    with translation.override("ko"):
        return gettext(line) % {"who": who}


def console(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def relay_post(user, contact, body, suffix=""):
    return console(user).post(
        f"/api/video/calls/{contact.pk}/relay{suffix}",
        json.dumps(body),
        content_type="application/json",
    )


def legs(contact) -> dict[str, CallLeg]:
    return {leg.role: leg for leg in CallLeg.objects.filter(contact=contact).order_by("id")}


def conference_event(client, contact, event, leg=None):
    params = {
        "AccountSid": ACCOUNT_SID,
        "FriendlyName": f"contact-{contact.pk}",
        "ConferenceSid": CONFERENCE_SID,
        "StatusCallbackEvent": event,
    }
    if leg is not None:
        params.update(CallSid=leg.call_sid, ParticipantLabel=f"{leg.role}-{leg.pk}")
    return signed_post(client, "/twilio/voice/conference-status", params)


def test_a_relay_dials_the_agents_softphone_and_the_department_into_the_calls_conference(
    api, centre
):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    response = relay_post(suji.user, contact, {"department_id": roads.pk})
    assert response.status_code == 201, response.content
    mine, party = legs(contact)["agent"], legs(contact)["relay"]
    conference = f"/Conferences/contact-{contact.pk}/Participants.json"
    callbacks = {
        "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "ConferenceStatusCallback": f"{BASE}/twilio/voice/conference-status",
        "ConferenceStatusCallbackMethod": "POST",
        "ConferenceStatusCallbackEvent": ["start", "end", "join", "leave"],
        "EarlyMedia": "true",
        "Beep": "false",
        "From": CALLER_ID,
    }
    assert api.requests == [
        (
            "POST",
            conference,
            {
                **callbacks,
                "To": f"client:agent-{suji.pk}",
                "Label": f"agent-{mine.pk}",
                "StatusCallback": f"{BASE}/twilio/voice/participant?leg={mine.pk}",
                # The agent's softphone starts the conference, and its leaving ends it.
                "StartConferenceOnEnter": "true",
                "EndConferenceOnExit": "true",
            },
        ),
        (
            "POST",
            conference,
            {
                **callbacks,
                "To": ROADS_E164,
                "Label": f"relay-{party.pk}",
                "StatusCallback": f"{BASE}/twilio/voice/participant?leg={party.pk}",
                # The officer waits, hearing the hold message, until the agent is there.
                "StartConferenceOnEnter": "false",
                "EndConferenceOnExit": "false",
                "WaitUrl": f"{BASE}/twilio/voice/hold-music?contact={contact.pk}",
                "WaitMethod": "POST",
            },
        ),
    ]
    # Each leg has the CallSid Twilio answered with; the video call has no caller of its own.
    assert mine.call_sid.startswith("CA") and party.call_sid.startswith("CA")
    assert mine.agent == suji and party.agent is None
    assert VoiceCall.objects.get(contact=contact).call_sid == ""
    relay = response.json()["relay"]
    assert relay["state"] == "dialling"
    assert relay["department"] == {"id": roads.pk, "name": "도로관리과"}
    assert relay["number"] == "02-2***-1234"  # never in full
    assert ROADS_E164 not in response.content.decode()
    assert {(leg["role"], leg["state"]) for leg in relay["legs"]} == {
        ("agent", "dialling"),
        ("relay", "dialling"),
    }
    event = contact.events.get(type=ContactEvent.Type.CONFERENCED)
    assert event.data == {
        "role": "relay",
        "department": "도로관리과",
        "department_id": roads.pk,
        "number": "02-2***-1234",
        "leg": party.pk,
        "agent_leg": mine.pk,
    }
    # The conversation says so to the agent only: an internal note, never to the citizen.
    note = Message.objects.filter(contact=contact, sender=Message.Sender.SYSTEM).last()
    assert note.internal and note.text == in_korean("Voice relay: calling %(who)s", "도로관리과")
    assert "1234" not in note.text


def test_the_simulated_backend_keeps_the_relays_requests_on_its_outbox_rows(settings, centre):
    settings.VOICE_BACKEND = "simulated"
    suji = centre["suji"]
    contact = answered_video(suji)
    response = relay_post(suji.user, contact, {"number": "010-9876-5432"})
    assert response.status_code == 201, response.content
    assert response.json()["relay"]["simulated"] is True
    assert response.json()["relay"]["department"] is None
    assert response.json()["relay"]["number"] == "010-****-5432"
    rows = OutboundMessage.objects.filter(channel="voice", contact=contact).order_by("id")
    assert [(row.subject, row.status, row.backend) for row in rows] == [
        ("participant_add", "sent", "simulated"),
        ("participant_add", "sent", "simulated"),
    ]
    request = rows[1].request[0]
    assert request["method"] == "POST"
    assert request["url"].endswith(f"/Conferences/contact-{contact.pk}/Participants.json")
    assert request["data"]["To"] == "+821098765432"
    assert request["data"]["Label"] == f"relay-{legs(contact)['relay'].pk}"


def test_twilios_callbacks_move_the_relay_legs_and_leave_the_video_call_in_conversation(
    client, api, centre
):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    relay_post(suji.user, contact, {"department_id": roads.pk})
    mine, party = legs(contact)["agent"], legs(contact)["relay"]

    # The softphone answers: the conference starts; the officer picks up and joins.
    signed_post(
        client,
        f"/twilio/voice/participant?leg={mine.pk}",
        {"CallSid": mine.call_sid, "CallStatus": "in-progress", "AccountSid": ACCOUNT_SID},
    )
    assert conference_event(client, contact, "conference-start").status_code == 204
    conference_event(client, contact, "participant-join", mine)
    assert conference_event(client, contact, "participant-join", party).status_code == 204
    assert VoiceCall.objects.get(contact=contact).conference_sid == CONFERENCE_SID
    state = console(suji.user).get(f"/api/video/calls/{contact.pk}/relay").json()["relay"]
    assert state["state"] == "joined"
    assert {(leg["role"], leg["state"]) for leg in state["legs"]} == {
        ("agent", "joined"),
        ("relay", "joined"),
    }
    sent = len(api.requests)

    # The officer hangs up: the relay is over, the agent's softphone leaves too (by its
    # CallSid), and the video call goes on as it was: no caller redirected, no wrap-up.
    conference_event(client, contact, "participant-leave", party)
    assert api.requests[sent:] == [
        ("POST", f"/Calls/{mine.call_sid}.json", {"Status": "completed"})
    ]
    contact.refresh_from_db()
    assert contact.state == Contact.State.ACTIVE and contact.ended_at is None
    assert {leg.state for leg in CallLeg.objects.filter(contact=contact)} == {"left"}
    assert contact.events.filter(data__ended=True, data__by="party").exists()
    # Twilio's later word about the softphone, and the conference's end, change nothing more.
    conference_event(client, contact, "participant-leave", mine)
    conference_event(client, contact, "conference-end")
    contact.refresh_from_db()
    assert contact.state == Contact.State.ACTIVE
    assert VoiceCall.objects.get(contact=contact).conference_sid == ""
    assert len(api.requests) == sent + 1


def test_a_busy_department_ends_the_relay_through_its_party_callback(client, api, centre):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    relay_post(suji.user, contact, {"department_id": roads.pk})
    mine, party = legs(contact)["agent"], legs(contact)["relay"]
    signed_post(
        client,
        f"/twilio/voice/participant?leg={party.pk}",
        {"CallSid": party.call_sid, "CallStatus": "busy", "AccountSid": ACCOUNT_SID},
    )
    assert api.requests[-1] == ("POST", f"/Calls/{mine.call_sid}.json", {"Status": "completed"})
    state = console(suji.user).get(f"/api/video/calls/{contact.pk}/relay").json()["relay"]
    assert state["state"] == "left"
    contact.refresh_from_db()
    assert contact.state == Contact.State.ACTIVE
    # The agent may try again: a new relay, with a new softphone leg.
    assert relay_post(suji.user, contact, {"department_id": roads.pk}).status_code == 201


def test_the_agent_ends_the_relay_both_parties_hang_up_and_the_video_call_goes_on(api, centre):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    relay_post(suji.user, contact, {"department_id": roads.pk})
    mine, party = legs(contact)["agent"], legs(contact)["relay"]
    response = relay_post(suji.user, contact, {}, suffix="/end")
    assert response.status_code == 200, response.content
    assert response.json()["relay"]["state"] == "left"
    assert api.requests[-2:] == [
        ("POST", f"/Calls/{mine.call_sid}.json", {"Status": "completed"}),
        ("POST", f"/Calls/{party.call_sid}.json", {"Status": "completed"}),
    ]
    contact.refresh_from_db()
    assert contact.state == Contact.State.ACTIVE
    note = Message.objects.filter(contact=contact, sender=Message.Sender.SYSTEM).last()
    assert note.internal and note.text == in_korean("Voice relay ended: %(who)s", "도로관리과")
    # Again: nothing more to end, nothing more sent.
    sent = len(api.requests)
    assert relay_post(suji.user, contact, {}, suffix="/end").status_code == 200
    assert len(api.requests) == sent


def test_ending_the_video_call_ends_its_relay(api, centre):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    relay_post(suji.user, contact, {"department_id": roads.pk})
    party = legs(contact)["relay"]
    video.video_hang_up(contact_id=contact.pk, role="citizen")
    contact.refresh_from_db()
    assert contact.state == Contact.State.WRAPUP
    assert ("POST", f"/Calls/{party.call_sid}.json", {"Status": "completed"}) in api.requests
    assert {leg.state for leg in CallLeg.objects.filter(contact=contact)} == {"left"}
    assert contact.events.filter(data__ended=True, data__by="contact_end").exists()
    # A relay cannot start on a call that is over.
    response = relay_post(suji.user, contact, {"department_id": roads.pk})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


def test_a_second_relay_while_one_is_live_is_refused(api, centre):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    assert relay_post(suji.user, contact, {"department_id": roads.pk}).status_code == 201
    sent = len(api.requests)
    again = relay_post(suji.user, contact, {"number": "02-120-1234"})
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    assert len(api.requests) == sent
    assert CallLeg.objects.filter(contact=contact, role=CallLeg.Role.RELAY).count() == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"number": "12345"}, "Korean phone number"),
        ({"number": "+1 212 555 0100"}, "Korean phone number"),  # the line does not dial abroad
        ({"number": ""}, "department or enter a number"),
        ({"department_id": "3"}, "integer"),
        ({"department_id": 999999}, "No such department"),
        ({}, "department or enter a number"),
    ],
)
def test_a_number_or_department_the_relay_cannot_dial_is_refused(settings, centre, body, reason):
    settings.LANGUAGE_CODE = "en"
    suji = centre["suji"]
    contact = answered_video(suji)
    response = console(suji.user).post(
        f"/api/video/calls/{contact.pk}/relay",
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert reason in response.json()["message"]
    assert not CallLeg.objects.filter(contact=contact).exists()


def test_a_department_without_a_phone_cannot_be_dialled(centre):
    suji = centre["suji"]
    archive = DepartmentFactory(name="기록관", code="archive", phone="")
    contact = answered_video(suji)
    response = relay_post(suji.user, contact, {"department_id": archive.pk})
    assert response.status_code == 400
    assert not OutboundMessage.objects.filter(channel="voice").exists()


def test_only_the_calls_own_agent_relays_and_supervisors_only_read(client, centre, supervisor_user):
    suji, hana, roads = centre["suji"], centre["hana"], centre["roads"]
    contact = answered_video(suji)
    url = f"/api/video/calls/{contact.pk}/relay"
    assert relay_post(hana.user, contact, {"department_id": roads.pk}).status_code == 403
    assert console(hana.user).get(url).status_code == 403
    assert relay_post(hana.user, contact, {}, suffix="/end").status_code == 403
    assert relay_post(supervisor_user, contact, {"department_id": roads.pk}).status_code == 403
    assert client.post(url, "{}", content_type="application/json").status_code == 401
    assert client.get(url).status_code == 401
    assert client.post(url + "/end").status_code == 401
    assert not CallLeg.objects.filter(contact=contact).exists()

    relay_post(suji.user, contact, {"department_id": roads.pk})
    watched = console(supervisor_user).get(url)
    assert watched.status_code == 200
    assert watched.json()["relay"]["number"] == "02-2***-1234"
    assert relay_post(supervisor_user, contact, {}, suffix="/end").status_code == 403


def test_a_contact_that_is_not_a_video_call_has_no_relay(centre):
    suji, roads = centre["suji"], centre["roads"]
    now = timezone.now()
    chat = ContactFactory(channel="webchat", agent=suji, queued_at=now, answered_at=now)
    assert relay_post(suji.user, chat, {"department_id": roads.pk}).status_code == 404
    assert console(suji.user).get("/api/video/calls/999999/relay").status_code == 404


def test_without_a_voice_line_the_relay_is_unavailable(settings, centre):
    settings.VIDEO_RELAY = False
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    response = relay_post(suji.user, contact, {"department_id": roads.pk})
    assert response.status_code == 503
    assert response.json()["error"] == "voice_unavailable"


def test_the_relay_needs_the_csrf_token(centre):
    suji, roads = centre["suji"], centre["roads"]
    contact = answered_video(suji)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(suji.user)
    response = browser.post(
        f"/api/video/calls/{contact.pk}/relay",
        json.dumps({"department_id": roads.pk}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not CallLeg.objects.filter(contact=contact).exists()


def test_the_console_lists_departments_with_a_phone_masked_for_agents_only(
    client, centre, supervisor_user
):
    DepartmentFactory(name="기록관", code="archive", phone="")
    DepartmentFactory(name="폐지된과", code="gone", phone="02-2133-5555", is_active=False)
    url = "/api/video/relay-targets"
    answer = console(centre["suji"].user).get(url).json()
    assert answer["departments"] == [
        {"id": centre["roads"].pk, "name": "도로관리과", "phone": "02-2***-1234"}
    ]
    assert answer["available"] is True
    assert console(supervisor_user).get(url).status_code == 403
    assert client.get(url).status_code == 401
