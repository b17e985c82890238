"""A whole phone call against a real daphne process, Twilio played by the simulator.

The caller is ``SimulatedCall`` (signed webhooks, TwiML followed verb by verb, the REST
requests the simulated backend kept on the outbox rows played back as Twilio's
callbacks); the agent is this test, through the services the console calls.
"""

import os
import threading
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from callcenter.models import (
    CallbackRequest,
    CallLeg,
    Contact,
    Offer,
    Presence,
    Skill,
    VoiceCall,
)
from callcenter.services import call_controls, routing
from callcenter.services.callbacks import callback_request_create, callback_take
from callcenter.services.presence import agent_set_presence
from channels_app.models import OutboundMessage
from channels_app.voice_simulator import CallResult, SimulatedCall, latest_voice_command
from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tests.live.servers import daphne, database_env_for_tests

AUTH_TOKEN = "simulate-call-token-" + "s" * 16
PUBLIC = "https://120.simulated.example"
INTERPRETER = "+8215885644"


@pytest.fixture
def minji(db):
    """An agent who speaks Korean, available, with the general phone queue to serve."""
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    QueueFactory(code="general", name="일반", channels=["voice"]).required_skills.set([korean])
    agent = AgentFactory(skills=[korean], display_name="김민지")
    agent_set_presence(agent=agent, presence=Presence.AVAILABLE, dispatch=False)
    return agent


@pytest.fixture
def server(settings):
    settings.PUBLIC_BASE_URL = PUBLIC  # what the services put in the REST requests
    env = {
        **database_env_for_tests(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CHANNEL_LAYER_PREFIX": f"open120-live-simulate-{os.getpid()}",
    }
    with daphne(env) as base:
        yield base


def until(condition, *, seconds: float = 20, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def in_background(engine: SimulatedCall) -> tuple[threading.Thread, dict]:
    """The caller on their own thread (their own database connection), as on a phone."""
    box: dict = {}

    def call() -> None:
        try:
            box["result"] = engine.place()
        except BaseException as error:  # re-raised by the test
            box["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread, box


def heard(engine: SimulatedCall, text: str) -> bool:
    return any(text in step.text for step in list(engine.steps))


def requests_of(subject: str) -> list[list[dict]]:
    rows = OutboundMessage.objects.filter(channel="voice", subject=subject).order_by("pk")
    return [row.request for row in rows]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_simulated_call_goes_through_ivr_queue_hold_interpreter_and_hang_up(server, minji):
    engine = SimulatedCall(
        base_url=server,
        public_base_url=PUBLIC,
        auth_token=AUTH_TOKEN,
        from_number="+821012345678",
        digits="1",
        talk_seconds=None,  # the agent hangs up
        poll_seconds=0.1,
        line_every_seconds=0.2,
        wait_timeout=30,
    )
    thread, box = in_background(engine)

    contact = until(
        lambda: (
            Contact.objects.filter(provider_id=engine.call_sid, queued_at__isnull=False)
            .select_related("call")
            .first()
        ),
        what="the call in the queue",
    )
    assert contact.call.ivr_path is not None
    routing.router_dispatch()
    offer = Offer.objects.get(contact=contact, state=Offer.State.PENDING)
    assert offer.agent == minji
    routing.offer_accept(offer_id=offer.pk, agent=minji)

    agent_leg = until(
        lambda: CallLeg.objects.filter(
            contact=contact, role="agent", state=CallLeg.State.JOINED
        ).first(),
        what="the agent's softphone in the conference",
    )
    conference_sid = until(
        lambda: VoiceCall.objects.get(contact=contact).conference_sid, what="conference-start"
    )
    call_controls.call_hold(contact=contact, agent=minji, hold=True)
    until(lambda: heard(engine, "caller 보류"), what="the hold")
    time.sleep(1.1)
    call_controls.call_hold(contact=contact, agent=minji, hold=False)
    until(lambda: heard(engine, "caller 보류 해제"), what="the resume")

    call_controls.call_interpreter_add(contact=contact, agent=minji, language="en")
    interpreter = until(
        lambda: CallLeg.objects.filter(
            contact=contact, role="interpreter", state=CallLeg.State.JOINED
        ).first(),
        what="the interpreter in the conference",
    )
    call_controls.call_interpreter_remove(contact=contact, agent=minji)
    until(lambda: heard(engine, f"interpreter-{interpreter.pk} 나감"), what="the interpreter out")
    until(lambda: heard(engine, "시민: 안녕하세요"), what="the caller's first words")

    call_controls.call_hang_up(contact=contact, agent=minji)
    thread.join(timeout=30)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    result: CallResult = box["result"]

    # What the engine saw, in order.
    assert result.outcome == "상담원이 전화를 끊음"
    marks = result.marks
    assert 0 < marks["queued"] <= marks["bridged"] <= marks["agent_joined"]
    assert marks["agent_joined"] < marks["hang_up"] <= marks["ended"]
    assert set(result.phases()) == {"ivr", "queue", "bridge", "talk", "end", "total"}
    assert result.conference_sid == conference_sid
    assert "대기열 'general'에 들어감" in result.timeline()

    # What the server made of it.
    contact.refresh_from_db()
    assert contact.queued_at <= contact.answered_at <= contact.ended_at
    assert contact.agent == minji and contact.state == Contact.State.WRAPUP
    assert contact.hold_seconds >= 1
    legs = {leg.role: leg for leg in CallLeg.objects.filter(contact=contact)}
    assert set(legs) == {"caller", "agent", "interpreter"}
    assert all(leg.state == CallLeg.State.LEFT and leg.joined_at for leg in legs.values())
    assert legs["caller"].call_sid == engine.call_sid
    call = VoiceCall.objects.get(contact=contact)
    record = OutboundMessage.objects.get(channel="voice", subject="record", contact=contact)
    assert call.recording_sid == record.provider_id and call.recording_channels == 2

    # The REST requests, exactly as Twilio's library built them.
    subjects = list(
        OutboundMessage.objects.filter(channel="voice", contact=contact)
        .order_by("pk")
        .values_list("subject", "status")
    )
    assert subjects == [
        (subject, "sent")
        for subject in (
            "redirect",
            "participant_add",
            "record",
            "participant_update",
            "participant_update",
            "participant_add",
            "participant_remove",
            "hang_up",
        )
    ]
    account = "/2010-04-01/Accounts/AC" + "0" * 32
    [[redirect]] = requests_of("redirect")
    assert redirect["method"] == "POST"
    assert redirect["url"].endswith(f"{account}/Calls/{engine.call_sid}.json")
    assert redirect["data"]["Url"] == f"{PUBLIC}/twilio/voice/conference?contact={contact.pk}"
    [[agent_add], [interpreter_add]] = requests_of("participant_add")
    assert agent_add["url"].endswith(f"/Conferences/contact-{contact.pk}/Participants.json")
    assert agent_add["data"]["To"] == f"client:agent-{minji.pk}"
    assert agent_add["data"]["Label"] == f"agent-{agent_leg.pk}"
    assert agent_add["data"]["StatusCallback"] == (
        f"{PUBLIC}/twilio/voice/participant?leg={agent_leg.pk}"
    )
    assert interpreter_add["data"]["To"] == INTERPRETER
    assert interpreter_add["data"]["Label"] == f"interpreter-{interpreter.pk}"
    [[hold], [resume]] = requests_of("participant_update")
    caller_url = f"/Conferences/{conference_sid}/Participants/{engine.call_sid}.json"
    assert hold["url"].endswith(caller_url) and resume["url"].endswith(caller_url)
    assert hold["data"]["Hold"] == "true"
    assert hold["data"]["HoldUrl"] == f"{PUBLIC}/twilio/voice/hold-music?contact={contact.pk}"
    assert resume["data"] == {"Hold": "false"}
    [[remove]] = requests_of("participant_remove")
    interpreter.refresh_from_db()
    assert remove["method"] == "DELETE"
    assert remove["url"].endswith(
        f"/Conferences/{conference_sid}/Participants/{interpreter.call_sid}.json"
    )
    [[hang_up]] = requests_of("hang_up")
    assert hang_up["url"].endswith(f"/Calls/{engine.call_sid}.json")
    assert hang_up["data"] == {"Status": "completed"}

    # Every request the engine sent was signed and taken; a tampered one is refused.
    assert result.exchanges and all(e.status in (200, 204) for e in result.exchanges), [
        e for e in result.exchanges if e.status not in (200, 204)
    ]
    posted = {e.path.split("?")[0] for e in result.exchanges}
    assert {
        "/twilio/voice/incoming",
        "/twilio/voice/menu",
        "/twilio/voice/wait",
        "/twilio/voice/conference",
        "/twilio/voice/conference-status",
        "/twilio/voice/participant",
        "/twilio/voice/hold-music",
        "/twilio/voice/transcription",
        "/twilio/voice/status",
        "/twilio/voice/recording",
    } <= posted
    params = {"CallSid": engine.call_sid, "CallStatus": "completed"}
    signature = engine.signature(f"{PUBLIC}/twilio/voice/status", params)
    tampered = requests.post(
        f"{server}/twilio/voice/status",
        data={**params, "CallStatus": "in-progress"},
        headers={"X-Twilio-Signature": signature},
        timeout=10,
    )
    assert tampered.status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_caller_nobody_answers_gives_up_and_the_call_is_abandoned(server, minji):
    agent_set_presence(agent=minji, presence=Presence.OFFLINE, dispatch=False)
    engine = SimulatedCall(
        base_url=server,
        public_base_url=PUBLIC,
        auth_token=AUTH_TOKEN,
        from_number="+821012345678",
        digits="0",
        poll_seconds=0.1,
        wait_timeout=1,
    )
    result = engine.place()
    assert result.outcome == "대기 중 시민이 끊음 (포기)"
    assert "bridged" not in result.marks and "queued" in result.marks
    contact = Contact.objects.get(provider_id=engine.call_sid)
    assert contact.state == Contact.State.ABANDONED
    assert all(e.status in (200, 204) for e in result.exchanges)


def test_simulate_call_refuses_without_an_auth_token(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(CommandError, match="TWILIO_AUTH_TOKEN"):
        call_command("simulate_call", "--digits", "1")


def test_the_readme_tells_how_to_call_without_twilio():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "A phone call without Twilio" in readme
    assert "manage.py simulate_call" in readme


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_call_back_the_agent_dials_is_answered_and_joins_the_agents_conference(server, minji):
    callback = callback_request_create(
        phone="+821012345678", source=CallbackRequest.Source.PHONE_QUEUE
    )
    callback = callback_take(callback=callback, agent=minji)
    engine = SimulatedCall(
        base_url=server,
        public_base_url=PUBLIC,
        auth_token=AUTH_TOKEN,
        from_number="+821012345678",
        talk_seconds=0.5,
        poll_seconds=0.1,
    )
    after = latest_voice_command()
    box: dict = {}

    def pick_up() -> None:
        try:
            box["result"] = engine.answer_callback(timeout=20, after=after)
        finally:
            connections.close_all()

    thread = threading.Thread(target=pick_up, daemon=True)
    thread.start()
    contact = call_controls.callback_dial(callback=callback, agent=minji)
    thread.join(timeout=30)
    result: CallResult = box["result"]

    [[dial]] = requests_of("dial")
    assert dial["url"].endswith("/Calls.json")
    assert dial["data"]["To"] == "+821012345678"
    assert dial["data"]["Url"] == f"{PUBLIC}/twilio/voice/conference?contact={contact.pk}"
    assert result.call_sid == OutboundMessage.objects.get(subject="dial").provider_id
    assert result.outcome == "시민이 전화를 끊음"
    assert {"agent_joined", "ended"} <= set(result.marks)
    contact.refresh_from_db()
    assert contact.provider_id == result.call_sid and contact.ended_at is not None
    legs = CallLeg.objects.filter(contact=contact)
    assert {leg.role for leg in legs} == {"caller", "agent"}
    assert all(leg.state == CallLeg.State.LEFT and leg.joined_at for leg in legs)
    assert all(e.status in (200, 204) for e in result.exchanges)
