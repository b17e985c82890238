"""Signalling of sign-language video calls (/ws/video/<room>/) through the real ASGI app and
channel layer: only the call's two parties exchange frames, bad descriptions and candidates
are refused, either side hangs up, and what the browsers report lands on the timeline."""

import json

import pytest
import responses
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from callcenter.asgi import application
from callcenter.models import Contact, ContactEvent, Presence, Skill, VideoCall
from callcenter.services import video
from tests.channels_app.conftest import ORIGIN, agent_socket, receive_until, session_cookie_for
from tests.factories import AgentFactory, QueueFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# What Chromium offers, cut down: a session, an audio and a video section.
OFFER_SDP = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS stream\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:"
    "66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendrecv\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)
ANSWER_SDP = OFFER_SDP.replace("a=setup:actpass", "a=setup:active")
CANDIDATE = {
    "candidate": "candidate:842163049 1 udp 1677729535 127.0.0.1 46154 typ host generation 0"
    " ufrag abcd network-cost 999",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


@pytest.fixture
def centre(db):
    sign = SkillFactory(code="sign-language", name="수어", kind=Skill.Kind.SIGN_LANGUAGE)
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    queue = QueueFactory(code="sign-video", name="수어 영상", channels=["video"])
    queue.required_skills.set([sign])
    # Minji has waited longest for work, but does not sign: the call must skip her.
    minji = AgentFactory(user__username="minji", display_name="김민지", skills=[korean])
    suji = AgentFactory(user__username="suji", display_name="박수지", skills=[sign, korean])
    return {"queue": queue, "minji": minji, "suji": suji}


@sync_to_async
def start_call(**kwargs) -> dict:
    session, token, call = video.video_start(
        name=kwargs.get("name", "홍길동"),
        phone=kwargs.get("phone", "010-1234-5678"),
        language="ko",
    )
    return {"token": token, "room": call.room, "contact_id": session.contact_id}


@sync_to_async
def set_available(*agents) -> None:
    for agent in agents:
        type(agent).objects.filter(pk=agent.pk).update(presence=Presence.AVAILABLE)


async def citizen_video(room: str, token: str) -> tuple[WebsocketCommunicator, str | None]:
    communicator = WebsocketCommunicator(
        application, f"/ws/video/{room}/", headers=[ORIGIN], subprotocols=["open120.video", token]
    )
    connected, protocol = await communicator.connect()
    assert connected
    return communicator, protocol


async def agent_video(room: str, user=None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, f"/ws/video/{room}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def refused(communicator: WebsocketCommunicator) -> tuple[dict, int]:
    """The error frame and the close code of a refused socket."""
    frame = await communicator.receive_json_from(timeout=5)
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    return frame, closed["code"]


async def reported(socket: WebsocketCommunicator, frame: dict) -> None:
    """Send ``frame`` and wait until the socket has handled it (frames go in order)."""
    await socket.send_json_to(frame)
    await socket.send_json_to({"type": "ping", "id": 1})
    await receive_until(socket, "pong")


async def answered_call(centre) -> dict:
    """A video call Suji (the signing agent) accepted through her console's socket."""
    suji = centre["suji"]
    console = await agent_socket(suji.user)
    await receive_until(console, "hello")
    await console.send_json_to({"type": "presence.set", "presence": "available"})
    await receive_until(console, "presence.changed")
    call = await start_call()
    offer, _ = await receive_until(console, "offer.created")
    assert offer["offer"]["contact_id"] == call["contact_id"]
    assert offer["offer"]["channel"] == "video"
    await console.send_json_to({"type": "offer.accept", "offer_id": offer["offer"]["id"]})
    assigned, _ = await receive_until(console, "contact.assigned")
    assert assigned["contact"]["state"] == "active"
    return {**call, "console": console}


async def both_parties(centre, call) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    citizen, protocol = await citizen_video(call["room"], call["token"])
    assert protocol == "open120.video"
    hello, _ = await receive_until(citizen, "hello")
    assert (hello["role"], hello["contact_id"]) == ("citizen", call["contact_id"])
    agent = await agent_video(call["room"], centre["suji"].user)
    hello, _ = await receive_until(agent, "hello")
    assert hello["role"] == "agent" and hello["ice_servers"] == []
    joined, _ = await receive_until(citizen, "peer.joined")
    assert joined["role"] == "agent"
    present, _ = await receive_until(agent, "peer.present")
    assert present["role"] == "citizen"
    return citizen, agent


async def test_only_an_agent_who_signs_is_offered_a_video_call(centre):
    minji_console = await agent_socket(centre["minji"].user)
    await receive_until(minji_console, "hello")
    await minji_console.send_json_to({"type": "presence.set", "presence": "available"})
    await receive_until(minji_console, "presence.changed")
    call = await answered_call(centre)
    contact = await sync_to_async(Contact.objects.select_related("agent").get)(
        pk=call["contact_id"]
    )
    assert (contact.channel, contact.language, contact.agent.display_name) == (
        "video",
        "ksl",
        "박수지",
    )
    # Minji, free all along, was never offered it.
    frames = []
    while not await minji_console.receive_nothing(timeout=0.3):
        frames.append(await minji_console.receive_json_from())
    assert not [f for f in frames if f["type"] == "offer.created"]
    await minji_console.disconnect()
    await call["console"].disconnect()


async def test_the_two_parties_exchange_descriptions_and_candidates(centre):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)

    await agent.send_json_to({"type": "offer", "sdp": OFFER_SDP, "gen": 1})
    offer = await citizen.receive_json_from(timeout=5)
    assert offer == {"type": "offer", "sdp": OFFER_SDP, "gen": 1}
    await citizen.send_json_to({"type": "answer", "sdp": ANSWER_SDP, "gen": 1})
    assert await agent.receive_json_from(timeout=5) == {
        "type": "answer",
        "sdp": ANSWER_SDP,
        "gen": 1,
    }
    await agent.send_json_to({"type": "ice", "candidate": CANDIDATE, "gen": 1})
    assert (await citizen.receive_json_from(timeout=5))["candidate"] == CANDIDATE
    await citizen.send_json_to({"type": "ice", "candidate": None, "gen": 1})
    assert await agent.receive_json_from(timeout=5) == {"type": "ice", "candidate": None, "gen": 1}
    await citizen.send_json_to({"type": "restart.request"})
    assert await agent.receive_json_from(timeout=5) == {"type": "restart.request"}
    # Nothing echoes back to the sender.
    assert await citizen.receive_nothing(timeout=0.3)

    await citizen.disconnect()
    left, _ = await receive_until(agent, "peer.left")
    assert left["role"] == "citizen"
    await agent.disconnect()
    await call["console"].disconnect()


async def test_nobody_but_the_two_parties_may_join(centre):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    other = await start_call(name="김철수", phone="010-9999-8888")
    supervisor = await sync_to_async(UserFactory)(username="boss", roles=["supervisor"])

    intruders = [
        await agent_video(call["room"], centre["minji"].user),  # another agent
        await agent_video(call["room"], supervisor),  # a supervisor
        await agent_video(call["room"]),  # nobody logged in
        (await citizen_video(call["room"], other["token"]))[0],  # another citizen's token
        (await citizen_video(call["room"], "x" * 43))[0],  # a made-up token
    ]
    for intruder in intruders:
        frame, code = await refused(intruder)
        assert (frame["type"], frame["code"], code) == ("error", "forbidden", 4403)
    unknown = await agent_video("no-such-room", centre["suji"].user)
    frame, code = await refused(unknown)
    assert (frame["code"], code) == ("unknown_room", 4404)

    # The parties heard nothing of it, and still reach each other.
    assert await citizen.receive_nothing(timeout=0.3)
    assert await agent.receive_nothing(timeout=0.1)
    await agent.send_json_to({"type": "offer", "sdp": OFFER_SDP, "gen": 1})
    assert (await citizen.receive_json_from(timeout=5))["type"] == "offer"
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


async def test_an_agent_may_not_join_a_call_they_were_not_given(centre):
    """The signing agent's login is not enough for a waiting call nobody accepted yet."""
    await set_available(centre["suji"])
    call = await start_call()
    socket = await agent_video(call["room"], centre["suji"].user)
    frame, code = await refused(socket)
    assert (frame["code"], code) == ("forbidden", 4403)


@pytest.mark.parametrize(
    ("sender", "frame", "code"),
    [
        ("citizen", {"type": "offer", "sdp": OFFER_SDP}, "wrong_role"),
        ("agent", {"type": "answer", "sdp": ANSWER_SDP}, "wrong_role"),
        ("agent", {"type": "restart.request"}, "wrong_role"),
        ("agent", {"type": "offer", "sdp": "hello"}, "invalid_sdp"),
        ("agent", {"type": "offer", "sdp": 42}, "invalid_sdp"),
        ("agent", {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"}, "invalid_sdp"),
        ("agent", {"type": "offer", "sdp": OFFER_SDP + "<script>\r\n"}, "invalid_sdp"),
        ("agent", {"type": "offer", "sdp": OFFER_SDP, "gen": "1"}, "invalid_sdp"),
        ("agent", {"type": "offer", "sdp": OFFER_SDP + "a=x:" + "y" * 40000 + "\r\n"}, None),
        ("citizen", {"type": "ice"}, "invalid_candidate"),
        ("citizen", {"type": "ice", "candidate": "candidate:1"}, "invalid_candidate"),
        ("citizen", {"type": "ice", "candidate": {"candidate": "rm -rf /"}}, "invalid_candidate"),
        (
            "citizen",
            {"type": "ice", "candidate": {**CANDIDATE, "sdpMLineIndex": 999}},
            "invalid_candidate",
        ),
        (
            "citizen",
            {"type": "ice", "candidate": {**CANDIDATE, "extra": "x"}},
            "invalid_candidate",
        ),
        (
            "citizen",
            {"type": "ice", "candidate": {"candidate": CANDIDATE["candidate"]}},
            "invalid_candidate",
        ),
        ("citizen", {"type": "status", "state": "exploded"}, "invalid_frame"),
        ("citizen", {"type": "media", "data": "…"}, "unknown_type"),
    ],
)
async def test_malformed_signalling_is_refused_and_not_relayed(centre, sender, frame, code):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    sockets = {"citizen": citizen, "agent": agent}
    await sockets[sender].send_json_to(frame)
    error = await sockets[sender].receive_json_from(timeout=5)
    assert error["type"] == "error"
    # The oversized SDP is over the socket's own frame limit (64 kB) or the SDP limit.
    assert error["code"] == code or (
        code is None and error["code"] in ("invalid_sdp", "frame_too_large")
    )
    other = agent if sender == "citizen" else citizen
    assert await other.receive_nothing(timeout=0.3)
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


async def test_a_flood_of_frames_is_cut_off(centre, settings):
    settings.VIDEO_SIGNAL_BURST = 10
    settings.VIDEO_SIGNAL_RATE_PER_SECOND = 1
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    for _ in range(30):
        await citizen.send_json_to({"type": "ice", "candidate": CANDIDATE, "gen": 1})
    relayed = 0
    while not await agent.receive_nothing(timeout=0.3):
        relayed += (await agent.receive_json_from())["type"] == "ice"
    errors = []
    while not await citizen.receive_nothing(timeout=0.1):
        errors.append((await citizen.receive_json_from())["code"])
    assert relayed <= 11  # the burst (and what refilled meanwhile)
    assert errors and set(errors) == {"rate_limited"}
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


async def test_too_many_candidates_for_one_negotiation(centre, settings):
    settings.VIDEO_MAX_CANDIDATES = 3
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    for _ in range(4):
        await citizen.send_json_to({"type": "ice", "candidate": CANDIDATE})
    error, _ = await receive_until(citizen, "error")
    assert error["code"] == "too_many_candidates"
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


@pytest.mark.parametrize("who", ["citizen", "agent"])
async def test_either_side_hangs_up_and_the_contact_ends_with_its_times(centre, who):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    await (citizen if who == "citizen" else agent).send_json_to({"type": "hangup"})
    for socket in (citizen, agent):
        ended, _ = await receive_until(socket, "call.ended")
        assert ended["by"] == who
        closed = await socket.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", 4409)

    contact = await sync_to_async(Contact.objects.select_related("video").get)(
        pk=call["contact_id"]
    )
    assert contact.state == Contact.State.WRAPUP
    assert contact.queued_at <= contact.answered_at <= contact.ended_at
    assert contact.video.ended_by == who
    event = await sync_to_async(
        lambda: ContactEvent.objects.get(contact=contact, type=ContactEvent.Type.ENDED)
    )()
    assert event.data["by"] == who
    # The console hears the end like any conversation's.
    changed, _ = await receive_until(call["console"], "contact.updated")
    assert changed["contact"]["state"] == "wrapup"
    # A socket opened after the end is turned away.
    late, _ = await citizen_video(call["room"], call["token"])
    frame, code = await refused(late)
    assert (frame["code"], code) == ("call_ended", 4409)
    await call["console"].disconnect()


async def test_a_citizen_who_hangs_up_while_waiting_abandons(centre):
    await set_available(centre["suji"])
    call = await start_call()
    citizen, _ = await citizen_video(call["room"], call["token"])
    await receive_until(citizen, "hello")
    await citizen.send_json_to({"type": "hangup"})
    ended, _ = await receive_until(citizen, "call.ended")
    assert ended["by"] == "citizen"
    contact = await sync_to_async(Contact.objects.get)(pk=call["contact_id"])
    assert contact.state == Contact.State.ABANDONED


async def test_what_the_browsers_report_is_kept_for_the_timeline(centre):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    boss = await sync_to_async(UserFactory)(username="boss", roles=["supervisor"])
    supervisor = await agent_socket(boss)
    await receive_until(supervisor, "hello")
    for socket, state in [
        (agent, "connected"),
        (citizen, "connected"),
        (citizen, "failed"),
        (agent, "restarting"),
        (citizen, "connected"),
        (agent, "connected"),
    ]:
        await reported(socket, {"type": "status", "state": state})

    # The supervisors' dashboards hear that the call connected (and its socket stays open).
    connected, _ = await receive_until(supervisor, "video.connected")
    assert connected["contact_id"] == call["contact_id"]
    await supervisor.send_json_to({"type": "ping", "id": 9})
    await receive_until(supervisor, "pong")
    await supervisor.disconnect()

    call_row = await sync_to_async(VideoCall.objects.get)(pk=call["contact_id"])
    contact = await sync_to_async(Contact.objects.get)(pk=call["contact_id"])
    assert call_row.outcome == VideoCall.Outcome.CONNECTED
    assert call_row.connected_at >= contact.answered_at
    assert call_row.setup_ms is not None and call_row.setup_ms >= 0
    assert (call_row.ice_failures, call_row.ice_restarts) == (1, 1)
    types = await sync_to_async(
        lambda: [
            (e.type, e.data)
            for e in ContactEvent.objects.filter(contact_id=call["contact_id"]).order_by("id")
            if e.type.startswith("video_")
        ]
    )()
    assert [t for t, _ in types] == [
        "video_connected",
        "video_failed",
        "video_restarted",
        "video_connected",
    ]
    assert types[0][1]["recovered"] is False and types[3][1]["recovered"] is True
    assert types[1][1] == {"by": "citizen", "gave_up": False}
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


async def test_a_call_that_never_connects_is_recorded_as_failed(centre):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    await reported(citizen, {"type": "status", "state": "failed", "gave_up": True})
    call_row = await sync_to_async(VideoCall.objects.get)(pk=call["contact_id"])
    assert (call_row.outcome, call_row.connected_at) == (VideoCall.Outcome.FAILED, None)
    for socket in (citizen, agent, call["console"]):
        await socket.disconnect()


@pytest.fixture
def twilio_turn(settings):
    """TURN from Twilio Network Traversal; Twilio's HTTP answered by ``responses``."""
    settings.VIDEO_TURN = "twilio"
    settings.VIDEO_ICE_SERVERS = [{"urls": "stun:stun.city.example:3478"}]
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_API_KEY = "SK" + "2" * 32
    settings.TWILIO_API_SECRET = "secret"
    with responses.RequestsMock() as mock:
        yield mock


async def test_each_call_gets_a_short_lived_turn_credential_from_twilio(centre, twilio_turn):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '1' * 32}/Tokens.json"
    twilio_turn.post(
        url,
        json={
            "account_sid": "AC" + "1" * 32,
            "date_created": "Mon, 30 Nov 2026 12:00:00 +0000",
            "date_updated": "Mon, 30 Nov 2026 12:00:00 +0000",
            "ice_servers": [
                {
                    "url": "stun:global.stun.twilio.com:3478",
                    "urls": "stun:global.stun.twilio.com:3478",
                },
                {
                    "url": "turn:global.turn.twilio.com:3478?transport=udp",
                    "urls": "turn:global.turn.twilio.com:3478?transport=udp",
                    "username": "dc2d2894d5a9023620c467b0e71cfa6a35457e6679785ed6ae9856fe5bdfa269",
                    "credential": "tE2DajzSJwnsSbc123",
                },
            ],
            "password": "tE2DajzSJwnsSbc123",
            "ttl": "3600",
            "username": "dc2d2894d5a9023620c467b0e71cfa6a35457e6679785ed6ae9856fe5bdfa269",
        },
        status=201,
    )
    await set_available(centre["suji"])
    call = await start_call()
    citizen, _ = await citizen_video(call["room"], call["token"])
    hello, _ = await receive_until(citizen, "hello")
    assert hello["ice_servers"] == [
        {"urls": "stun:stun.city.example:3478"},
        {"urls": "stun:global.stun.twilio.com:3478"},
        {
            "urls": "turn:global.turn.twilio.com:3478?transport=udp",
            "username": "dc2d2894d5a9023620c467b0e71cfa6a35457e6679785ed6ae9856fe5bdfa269",
            "credential": "tE2DajzSJwnsSbc123",
        },
    ]
    (sent,) = twilio_turn.calls
    assert sent.request.method == "POST"
    assert sent.request.body == "Ttl=3600"
    assert sent.request.headers["Authorization"].startswith("Basic ")
    await citizen.disconnect()


async def test_twilio_out_of_reach_leaves_the_configured_servers(centre, twilio_turn):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '1' * 32}/Tokens.json"
    twilio_turn.post(url, json={"code": 20500, "message": "Internal error"}, status=500)
    await set_available(centre["suji"])
    call = await start_call()
    citizen, _ = await citizen_video(call["room"], call["token"])
    hello, _ = await receive_until(citizen, "hello")
    assert hello["ice_servers"] == [{"urls": "stun:stun.city.example:3478"}]
    await citizen.disconnect()


async def test_no_call_starts_without_a_signing_agent_on_duty(centre):
    with pytest.raises(video.VideoError):
        await start_call()
    assert not await sync_to_async(Contact.objects.exists)()


def test_the_video_ws_url_is_what_the_console_is_given(centre):
    type(centre["suji"]).objects.filter(pk=centre["suji"].pk).update(presence=Presence.AVAILABLE)
    session, _token, call = video.video_start(name="", phone="", language="en")
    summary = video.video_summary(call)
    assert summary["ws_url"] == f"/ws/video/{call.room}/"
    assert json.dumps(summary)  # JSON as it is sent


async def test_a_video_call_goes_only_to_a_signing_colleague_and_the_first_agent_leaves(centre):
    call = await answered_call(centre)
    citizen, agent = await both_parties(centre, call)
    hana = await sync_to_async(AgentFactory)(
        user__username="hana",
        display_name="정하나",
        skills=[await sync_to_async(Skill.objects.get)(code="sign-language")],
        presence=Presence.AVAILABLE,
    )
    await set_available(centre["minji"])
    contact_id = call["contact_id"]
    console = call["console"]

    await console.send_json_to(
        {"type": "contact.transfer", "contact_id": contact_id, "to_agent_id": centre["minji"].pk}
    )
    refused_frame, _ = await receive_until(console, "error")
    assert "김민지" in refused_frame["message"]
    await console.send_json_to(
        {"type": "contact.transfer", "contact_id": contact_id, "to_queue_id": centre["queue"].pk}
    )
    refused_frame, _ = await receive_until(console, "error")
    assert refused_frame["type"] == "error"
    contact = await sync_to_async(Contact.objects.get)(pk=contact_id)
    assert (contact.agent_id, contact.state) == (centre["suji"].pk, Contact.State.ACTIVE)

    await console.send_json_to(
        {
            "type": "contact.transfer",
            "contact_id": contact_id,
            "to_agent_id": hana.pk,
        }
    )
    removed, seen = await receive_until(console, "contact.removed")
    assert removed["reason"] == "transferred", seen
    frame, code = await refused(agent)  # Suji's video socket is shown out
    assert (frame["code"], code) == ("forbidden", 4403)
    left, _ = await receive_until(citizen, "peer.left")
    assert left["role"] == "agent"
    hana_video = await agent_video(call["room"], hana.user)
    hello, _ = await receive_until(hana_video, "hello")
    assert hello["role"] == "agent"
    joined, _ = await receive_until(citizen, "peer.joined")
    assert joined["role"] == "agent"
    for socket in (citizen, hana_video, console):
        await socket.disconnect()
