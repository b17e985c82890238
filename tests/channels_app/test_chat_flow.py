"""A citizen's web chat with an agent, end to end through the real ASGI app and layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from callcenter.models import Contact, Message, Presence, Skill
from callcenter.services import routing
from callcenter.services.presence import agent_set_presence
from tests.channels_app.conftest import agent_socket, citizen_socket, receive_until
from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tickets.models import SurveyAnswer
from tickets.services import category_get_or_create_path, ticket_create

pytestmark = pytest.mark.django_db(transaction=True)


def korean(message: str) -> str:
    """What a refusal reads like on a Korean console (the default language)."""
    with translation.override("ko"):
        return translation.gettext(message)


@pytest.fixture
def centre(db):
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    chat = QueueFactory(code="chat", name="채팅", channels=["webchat", "kakao"])
    chat.required_skills.set([korean])
    minji = AgentFactory(user__username="minji", display_name="김민지", skills=[korean])
    junho = AgentFactory(user__username="junho", display_name="이준호", skills=[korean])
    category_get_or_create_path(path="일반행정/민원서류")
    return {"korean": korean, "chat": chat, "minji": minji, "junho": junho}


@sync_to_async
def start_chat(name="홍길동", phone="010-1234-5678", language="ko") -> dict:
    response = Client().post(
        "/chat/start", {"name": name, "phone": phone, "language": language, "consent": "on"}
    )
    assert response.status_code == 201, response.content
    return response.json()


async def go_available(socket):
    await socket.send_json_to({"type": "presence.set", "presence": "available"})


async def test_a_whole_chat_from_offer_to_wrap_up_and_rating(centre):
    minji = centre["minji"]
    agent = await agent_socket(minji.user)
    await agent.receive_json_from(timeout=5)  # hello
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    hello = await citizen.receive_json_from(timeout=5)
    assert (hello["state"], hello["contact_id"]) == ("waiting", started["contact_id"])

    await citizen.send_json_to(
        {"type": "message.send", "text": "등본 떼려면 어디로 가요?", "client_id": "c1"}
    )
    echo, _ = await receive_until(citizen, "message.created")
    assert echo["message"]["client_id"] == "c1"

    await go_available(agent)
    offer, _ = await receive_until(agent, "offer.created")
    assert offer["offer"]["contact_id"] == started["contact_id"]
    assert offer["offer"]["citizen"]["masked_phone"] == "010-****-5678"

    await agent.send_json_to({"type": "offer.accept", "offer_id": offer["offer"]["id"]})
    assigned, _ = await receive_until(agent, "contact.assigned")
    assert assigned["contact"]["state"] == "active"
    state, seen = await receive_until(citizen, "chat.state")
    assert (state["state"], state["agent_name"]) == ("active", "김민지")
    joined = next(f for f in seen if f["type"] == "message.created")
    assert joined["message"]["sender"] == "system" and "김민지" in joined["message"]["text"]

    await agent.send_json_to({"type": "history", "contact_id": started["contact_id"]})
    history, _ = await receive_until(agent, "history")
    assert [m["text"] for m in history["messages"]][0] == "등본 떼려면 어디로 가요?"

    await agent.send_json_to(
        {
            "type": "message.send",
            "contact_id": started["contact_id"],
            "text": "정부24에서 무료로 발급됩니다.",
            "client_id": "a1",
        }
    )
    reply, _ = await receive_until(citizen, "message.created")
    assert (reply["message"]["sender"], reply["message"]["sender_name"]) == ("agent", "김민지")

    await agent.send_json_to({"type": "typing", "contact_id": started["contact_id"]})
    typing, _ = await receive_until(citizen, "typing")
    assert typing["who"] == "agent" and "sender" not in typing
    await citizen.send_json_to({"type": "typing"})
    typing, _ = await receive_until(agent, "typing")
    assert typing["who"] == "citizen"

    await citizen.send_json_to({"type": "ack", "up_to_id": reply["message"]["id"]})
    delivered, _ = await receive_until(agent, "message.delivered")
    assert delivered["up_to_id"] == reply["message"]["id"]

    await agent.send_json_to({"type": "contact.end", "contact_id": started["contact_id"]})
    ended, _ = await receive_until(citizen, "chat.ended")
    assert ended["by"] == "agent"
    await agent.send_json_to({"type": "wrapup.complete", "contact_id": started["contact_id"]})
    refused, _ = await receive_until(agent, "error")
    assert refused["message"] == korean("Save the ticket before finishing wrap-up.")

    client = Client()
    await sync_to_async(client.force_login)(minji.user)
    category = await database_sync_to_async(
        lambda: category_get_or_create_path(path="일반행정/민원서류")
    )()
    response = await sync_to_async(client.post)(
        f"/agent/contacts/{started['contact_id']}/ticket/",
        {
            "category": category.pk,
            "subject": "등본 발급 문의",
            "answer": "정부24 무료 발급 안내",
            "outcome": "resolve",
            "wrapup": "1",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    removed, _ = await receive_until(agent, "contact.removed")
    assert removed["reason"] == "wrapup_done"

    await citizen.send_json_to({"type": "csat", "score": 5})
    await receive_until(citizen, "csat.saved")
    answer = await database_sync_to_async(SurveyAnswer.objects.get)(
        contact_id=started["contact_id"]
    )
    assert answer.score == 5
    await citizen.disconnect()
    await agent.disconnect()


async def test_internal_notes_never_reach_the_citizen(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to(
        {
            "type": "message.send",
            "contact_id": contact_id,
            "text": "민원인 재문의 건",
            "internal": True,
        }
    )
    note, _ = await receive_until(agent, "message.created")
    assert note["message"]["internal"] is True
    await agent.send_json_to(
        {"type": "message.send", "contact_id": contact_id, "text": "공개 답변"}
    )
    public, _ = await receive_until(citizen, "message.created")
    assert public["message"]["text"] == "공개 답변"  # the note was never sent to the citizen
    await citizen.send_json_to({"type": "resume", "last_message_id": 0})
    _, replay = await receive_until(citizen, "resume.done")
    assert "민원인 재문의 건" not in [
        f["message"]["text"] for f in replay if f["type"] == "message.created"
    ]
    await agent.disconnect()
    await citizen.disconnect()


async def connected_chat(centre):
    """A chat already answered by Minji: (contact id, agent socket, citizen socket)."""
    agent = await agent_socket(centre["minji"].user)
    await agent.receive_json_from(timeout=5)
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await citizen.receive_json_from(timeout=5)
    await go_available(agent)
    offer, _ = await receive_until(agent, "offer.created")
    await agent.send_json_to({"type": "offer.accept", "offer_id": offer["offer"]["id"]})
    await receive_until(agent, "contact.assigned")
    await receive_until(citizen, "chat.state")
    citizen.token = started["token"]
    return started["contact_id"], agent, citizen


async def test_resume_after_a_dropped_socket_loses_nothing_and_repeats_nothing(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to({"type": "history", "contact_id": contact_id})
    history, _ = await receive_until(agent, "history")
    last_seen = history["messages"][-1]["id"]  # the "agent joined" line
    await agent.disconnect()

    for n in range(3):
        await citizen.send_json_to(
            {"type": "message.send", "text": f"질문 {n}", "client_id": f"q{n}"}
        )
        await receive_until(citizen, "message.created")
    # A resend of a message whose echo was lost is stored once.
    await citizen.send_json_to({"type": "message.send", "text": "질문 2", "client_id": "q2"})

    agent = await agent_socket(centre["minji"].user)
    hello = await agent.receive_json_from(timeout=5)
    assert [c["id"] for c in hello["contacts"]] == [contact_id]
    await agent.send_json_to({"type": "resume", "last_message_id": last_seen})
    done, frames = await receive_until(agent, "resume.done")
    texts = [f["message"]["text"] for f in frames if f["type"] == "message.created"]
    assert texts == ["질문 0", "질문 1", "질문 2"]
    assert done["last_message_id"] == max(
        f["message"]["id"] for f in frames if f["type"] == "message.created"
    )
    assert (
        await database_sync_to_async(
            Message.objects.filter(contact_id=contact_id, text="질문 2").count
        )()
        == 1
    )

    await citizen.disconnect()
    citizen = await citizen_socket(citizen.token)  # the page was reloaded
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["state"] == "active" and hello["agent_name"] == "김민지"
    await citizen.send_json_to({"type": "resume", "last_message_id": 0})
    _, frames = await receive_until(citizen, "resume.done")
    ids = [f["message"]["id"] for f in frames if f["type"] == "message.created"]
    assert ids == sorted(set(ids)) and len(ids) == 4  # joined line + three questions
    await agent.disconnect()
    await citizen.disconnect()


async def test_transfer_to_a_colleague_moves_the_tab(centre):
    contact_id, minji, citizen = await connected_chat(centre)
    junho = await agent_socket(centre["junho"].user)
    await junho.receive_json_from(timeout=5)
    await go_available(junho)
    await receive_until(junho, "presence.changed")
    await minji.send_json_to(
        {
            "type": "contact.transfer",
            "contact_id": contact_id,
            "to_agent_id": centre["junho"].pk,
            "note": "세무 문의",
        }
    )
    removed, _ = await receive_until(minji, "contact.removed")
    assert removed["reason"] == "transferred"
    assigned, _ = await receive_until(junho, "contact.assigned")
    assert assigned["contact"]["id"] == contact_id
    state, _ = await receive_until(citizen, "chat.state")
    assert state["agent_name"] == "이준호"
    await minji.send_json_to(
        {"type": "message.send", "contact_id": contact_id, "text": "아직 제 상담?"}
    )
    refused, _ = await receive_until(minji, "error")
    assert refused["code"] == "refused"
    for socket in (minji, junho, citizen):
        await socket.disconnect()


async def test_a_declined_offer_goes_to_the_next_agent_over_the_sockets(centre):
    minji = await agent_socket(centre["minji"].user)
    junho = await agent_socket(centre["junho"].user)
    for socket in (minji, junho):
        await socket.receive_json_from(timeout=5)
    await go_available(minji)
    await receive_until(minji, "presence.changed")
    await go_available(junho)
    await receive_until(junho, "presence.changed")
    started = await start_chat()
    first = minji  # Minji became available first: she has been idle longest
    offer, _ = await receive_until(first, "offer.created")
    await first.send_json_to({"type": "offer.decline", "offer_id": offer["offer"]["id"]})
    cancelled, _ = await receive_until(first, "offer.cancelled")
    assert cancelled["reason"] == "declined"
    second, _ = await receive_until(junho, "offer.created")
    assert second["offer"]["contact_id"] == started["contact_id"]
    await minji.disconnect()
    await junho.disconnect()


@override_settings(ROUTING_OFFER_TIMEOUT_SECONDS=0)
async def test_a_missed_offer_times_out_and_the_agent_is_told(centre):
    minji = await agent_socket(centre["minji"].user)
    await minji.receive_json_from(timeout=5)
    await go_available(minji)
    await start_chat()
    await receive_until(minji, "offer.created")
    await database_sync_to_async(routing.offers_expire)()
    cancelled, _ = await receive_until(minji, "offer.cancelled")
    assert cancelled["reason"] == "timeout"
    presence, _ = await receive_until(minji, "presence.changed")
    assert presence["presence"] == Presence.NOT_RESPONDING
    await minji.disconnect()


async def test_an_agent_cannot_touch_a_contact_they_do_not_hold(centre):
    contact_id, minji, citizen = await connected_chat(centre)
    junho = await agent_socket(centre["junho"].user)
    await junho.receive_json_from(timeout=5)
    for frame in (
        {"type": "message.send", "contact_id": contact_id, "text": "끼어들기"},
        {"type": "history", "contact_id": contact_id},
        {"type": "contact.end", "contact_id": contact_id},
    ):
        await junho.send_json_to(frame)
        error, _ = await receive_until(junho, "error")
        assert error["message"] == korean("This contact is not yours.")
    contact = await database_sync_to_async(Contact.objects.get)(pk=contact_id)
    assert contact.state == "active"
    for socket in (minji, junho, citizen):
        await socket.disconnect()


async def test_a_citizen_token_reads_only_its_own_conversation(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    await citizen.send_json_to({"type": "message.send", "text": "제 개인 문의입니다"})
    await receive_until(citizen, "message.created")
    other = await start_chat(name="김철수", phone="010-9999-8888")
    stranger = await citizen_socket(other["token"])
    await stranger.receive_json_from(timeout=5)
    await stranger.send_json_to({"type": "resume", "last_message_id": 0})
    _, frames = await receive_until(stranger, "resume.done")
    assert [f for f in frames if f["type"] == "message.created"] == []
    for socket in (agent, citizen, stranger):
        await socket.disconnect()


async def test_an_unknown_token_is_refused_with_4404(centre):
    socket = await citizen_socket("not-a-real-token")
    error = await socket.receive_json_from(timeout=5)
    assert error["code"] == "unknown_session"
    closed = await socket.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4404)


async def test_a_citizen_leaving_the_queue_withdraws_the_offer(centre):
    minji = await agent_socket(centre["minji"].user)
    await minji.receive_json_from(timeout=5)
    await go_available(minji)
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await citizen.receive_json_from(timeout=5)
    await receive_until(minji, "offer.created")
    await citizen.send_json_to({"type": "chat.end"})
    cancelled, _ = await receive_until(minji, "offer.cancelled")
    assert cancelled["reason"] == "abandoned"
    contact = await database_sync_to_async(Contact.objects.get)(pk=started["contact_id"])
    assert contact.abandoned
    await minji.disconnect()
    await citizen.disconnect()


async def test_no_agent_with_the_skill_offers_a_call_back(centre):
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["no_agents"] is True  # told on connecting, however late
    late = await start_chat(phone="010-4444-5555")
    waiting = await citizen_socket(late["token"])
    await waiting.receive_json_from(timeout=5)
    # As if the late chat had never been told (its announcement went out before it joined):
    await database_sync_to_async(
        lambda: Contact.objects.filter(pk=late["contact_id"]).update(
            announced_position=None, announced_eta=None
        )
    )()
    await database_sync_to_async(routing.queue_positions_publish)()
    notice, _ = await receive_until(waiting, "queue.no_agents")
    assert notice["callback_available"] is True
    await waiting.disconnect()
    await citizen.send_json_to(
        {"type": "callback.request", "phone": "010-2222-3333", "note": "오후 연락 희망"}
    )
    await receive_until(citizen, "callback.saved")
    contact = await database_sync_to_async(Contact.objects.get)(pk=started["contact_id"])
    assert contact.ended_at is not None and not contact.abandoned
    assert await database_sync_to_async(contact.callbacks.count)() == 1
    await citizen.disconnect()


async def test_the_waiting_citizen_sees_either_a_place_in_the_queue_or_the_no_agent_choice(centre):
    minji = centre["minji"]

    def set_presence(presence, reason=""):
        return database_sync_to_async(agent_set_presence)(
            agent=minji, presence=presence, reason=reason, dispatch=False
        )

    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["no_agents"] is True
    assert hello["position"] is None and hello["eta_seconds"] is None

    await set_presence(Presence.BREAK, "교육")
    await database_sync_to_async(routing.queue_positions_publish)()
    position, seen = await receive_until(citizen, "queue.position")
    assert position["position"] == 1
    assert "queue.no_agents" not in [frame["type"] for frame in seen]

    await set_presence(Presence.OFFLINE)
    await database_sync_to_async(routing.queue_positions_publish)()
    _, seen = await receive_until(citizen, "queue.no_agents")
    assert "queue.position" not in [frame["type"] for frame in seen]

    await set_presence(Presence.BREAK, "교육")
    await database_sync_to_async(routing.queue_positions_publish)()
    again, _ = await receive_until(citizen, "queue.position")
    assert again["position"] == 1  # the same place, told again now that someone can answer
    await citizen.disconnect()


async def test_a_reconnecting_citizen_is_told_the_ticket_number_in_hello(centre):
    started = await start_chat()

    @database_sync_to_async
    def file_ticket():
        contact = Contact.objects.get(pk=started["contact_id"])
        return ticket_create(subject="등본 발급 문의", channel="webchat", contacts=[contact])

    ticket = await file_ticket()
    citizen = await citizen_socket(started["token"])
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["ticket_number"] == ticket.number
    await citizen.disconnect()


async def test_queue_position_is_announced_while_waiting(centre):
    korean_agent = centre["minji"]
    await database_sync_to_async(agent_set_presence)(
        agent=korean_agent, presence=Presence.BREAK, reason="교육", dispatch=False
    )
    first = await start_chat(phone="010-1111-0001")
    second = await start_chat(phone="010-1111-0002")
    citizen = await citizen_socket(second["token"])
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["position"] == 2 and hello["eta_seconds"] > 0
    # The place the hello gave is not news: the tick does not send it again.
    await database_sync_to_async(routing.router_tick)()
    assert await citizen.receive_nothing(timeout=0.3)
    await database_sync_to_async(
        lambda: routing.contact_end(
            contact=Contact.objects.get(pk=first["contact_id"]), by="citizen"
        )
    )()
    # The router tick (every ROUTER_TICK_SECONDS; ROUTER_TICKER is off in tests) tells the
    # ones who moved up, once per change however often it runs.
    await database_sync_to_async(routing.router_tick)()
    await database_sync_to_async(routing.router_tick)()
    position, _ = await receive_until(citizen, "queue.position")
    assert position["position"] == 1
    assert await citizen.receive_nothing(timeout=0.3)
    await citizen.disconnect()


async def test_bad_chat_frames_get_error_frames(centre):
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await citizen.receive_json_from(timeout=5)
    for frame, code in (
        ({"type": "message.send", "text": "   "}, "invalid_frame"),
        ({"type": "csat", "score": "five"}, "invalid_frame"),
        ({"type": "csat", "score": 5}, "refused"),  # not before the chat has ended
        ({"type": "callback.request", "phone": "12"}, "refused"),
        ({"type": "message.send", "text": "가" * 4001}, "refused"),
    ):
        await citizen.send_json_to(frame)
        error, _ = await receive_until(citizen, "error")
        assert error["code"] == code, frame
    await citizen.disconnect()


async def test_chat_start_rejects_missing_consent_with_a_reason():
    response = await sync_to_async(Client().post)(
        "/chat/start", {"name": "홍길동", "language": "ko"}
    )
    assert response.status_code == 400
    assert "consent" in response.json()["fields"]
    assert not await database_sync_to_async(Contact.objects.exists)()


async def test_english_chats_go_to_the_foreign_language_queue(centre):
    english = await database_sync_to_async(SkillFactory)(code="lang-en", kind=Skill.Kind.LANGUAGE)
    foreign = await database_sync_to_async(QueueFactory)(
        code="foreign", name="외국어", channels=["webchat"]
    )
    await database_sync_to_async(foreign.required_skills.set)([english])
    started = await start_chat(language="en")
    contact = await database_sync_to_async(Contact.objects.select_related("queue").get)(
        pk=started["contact_id"]
    )
    assert (contact.queue.code, contact.language) == ("foreign", "en")


async def _article_for_certificates():
    from knowledge.services import article_save

    await database_sync_to_async(article_save)(
        title="주민등록등본 발급 방법",
        question="등본 떼려면 어디로 가야 하나요?",
        answer="정부24에서 무료로 발급받을 수 있습니다.",
        synonyms=["등본"],
        status="published",
        author=None,
    )


async def frames_for(communicator, seconds: float) -> list[dict]:
    """Every frame the socket receives within ``seconds``."""
    frames = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        # receive_nothing leaves a frame that arrives in the queue (a timed-out receive
        # would cancel the consumer)
        if await communicator.receive_nothing(timeout=left, interval=0.02):
            break
        frames.append(await communicator.receive_json_from())
    return frames


async def test_knowledge_suggestions_follow_the_conversation_the_console_shows(centre, settings):
    settings.KNOWLEDGE_SUGGEST_DELAY_SECONDS = 0.2
    await _article_for_certificates()
    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to({"type": "console.view", "contact_id": contact_id})
    await citizen.send_json_to({"type": "message.send", "text": "등본 떼려면 어떻게 해요?"})
    suggestions, _ = await receive_until(agent, "knowledge.suggestions")
    assert suggestions["contact_id"] == contact_id
    assert suggestions["results"][0]["title"] == "주민등록등본 발급 방법"
    assert suggestions["results"][0]["answer"].startswith("정부24")
    await agent.disconnect()
    await citizen.disconnect()


async def test_a_burst_of_messages_gives_one_suggestion_and_none_when_nobody_looks(
    centre, settings
):
    settings.KNOWLEDGE_SUGGEST_DELAY_SECONDS = 0.3
    await _article_for_certificates()
    contact_id, agent, citizen = await connected_chat(centre)
    # The console shows no conversation (another tab, or the page is hidden): no search.
    await citizen.send_json_to({"type": "message.send", "text": "등본 떼려면 어떻게 해요?"})
    frames = await frames_for(agent, 1.0)
    assert [f["type"] for f in frames] == ["message.created"]

    await agent.send_json_to({"type": "console.view", "contact_id": contact_id})
    first, _ = await receive_until(agent, "knowledge.suggestions")  # at once, when shown
    assert first["results"][0]["title"] == "주민등록등본 발급 방법"
    for n in range(3):
        await citizen.send_json_to({"type": "message.send", "text": f"등본 {n}통 필요해요"})
    frames = await frames_for(agent, 1.5)
    assert [f["type"] for f in frames].count("message.created") == 3
    assert [f["type"] for f in frames].count("knowledge.suggestions") == 1
    assert "등본 2통" in [f for f in frames if f["type"] == "knowledge.suggestions"][0]["query"]

    await agent.send_json_to({"type": "console.view", "contact_id": None})
    await citizen.send_json_to({"type": "message.send", "text": "등본 하나 더요"})
    frames = await frames_for(agent, 1.0)
    assert "knowledge.suggestions" not in [f["type"] for f in frames]
    await agent.disconnect()
    await citizen.disconnect()


async def test_a_console_cannot_view_someone_elses_conversation(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    junho = await agent_socket(centre["junho"].user)
    await junho.receive_json_from(timeout=5)
    await junho.send_json_to({"type": "console.view", "contact_id": contact_id})
    error, _ = await receive_until(junho, "error")
    assert error["code"] == "forbidden"
    await junho.send_json_to({"type": "console.view", "contact_id": "x"})
    error, _ = await receive_until(junho, "error")
    assert error["code"] == "invalid_frame"
    for socket in (junho, agent, citizen):
        await socket.disconnect()


async def test_queue_lengths_reach_every_console(centre):
    minji = await agent_socket(centre["minji"].user)
    await minji.receive_json_from(timeout=5)
    await start_chat()
    await database_sync_to_async(routing.queue_counts_publish)()
    counts, _ = await receive_until(minji, "queues.updated")
    assert {"id": centre["chat"].pk, "waiting": 1} in counts["queues"]
    await minji.disconnect()


async def test_the_token_can_travel_as_a_subprotocol_instead_of_in_the_url(centre):
    from channels.testing import WebsocketCommunicator

    from callcenter.asgi import application
    from tests.channels_app.conftest import ORIGIN

    started = await start_chat()
    socket = WebsocketCommunicator(
        application, "/ws/chat/", headers=[ORIGIN], subprotocols=["open120.chat", started["token"]]
    )
    connected, subprotocol = await socket.connect()
    assert connected and subprotocol == "open120.chat"
    hello = await socket.receive_json_from(timeout=5)
    assert hello["contact_id"] == started["contact_id"]
    await socket.disconnect()
    stranger = WebsocketCommunicator(
        application, "/ws/chat/", headers=[ORIGIN], subprotocols=["open120.chat", "guess"]
    )
    await stranger.connect()
    error = await stranger.receive_json_from(timeout=5)
    assert error["code"] == "unknown_session"


async def test_the_citizen_gets_the_transcript_by_email_or_sms(centre):
    from django.core import mail

    from channels_app.models import OutboundMessage

    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to(
        {"type": "message.send", "contact_id": contact_id, "text": "정부24 안내"}
    )
    await receive_until(citizen, "message.created")
    await citizen.send_json_to({"type": "transcript.request", "email": "hong@example.com"})
    error, _ = await receive_until(citizen, "error")
    assert error["message"] == korean("Ask for the transcript after the chat has ended.")
    await agent.send_json_to({"type": "contact.end", "contact_id": contact_id})
    await receive_until(citizen, "chat.ended")
    await citizen.send_json_to({"type": "transcript.request", "email": "not-an-address"})
    error, _ = await receive_until(citizen, "error")
    assert error["code"] == "refused"
    await citizen.send_json_to({"type": "transcript.request", "phone": "010-5555-6666"})
    sent, _ = await receive_until(citizen, "transcript.sent")
    sms = await database_sync_to_async(OutboundMessage.objects.get)()
    assert sent["via"] == "sms" and sms.to == "+821055556666" and "정부24 안내" in sms.body
    # Through the outbox: queued with the claim, sent by the worker after commit.
    assert sms.status == OutboundMessage.Status.SENT and sms.contact_id == contact_id
    assert sms.idempotency_key.startswith("transcript:")
    assert mail.outbox == []
    await agent.disconnect()
    await citizen.disconnect()


async def test_an_ended_chat_sends_one_transcript_however_many_addresses_are_asked(centre):
    from django.core import mail

    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to({"type": "contact.end", "contact_id": contact_id})
    ended, _ = await receive_until(citizen, "chat.ended")
    assert ended["closes_in_seconds"] == 600
    results = []
    for n in range(20):
        await citizen.send_json_to({"type": "transcript.request", "email": f"x{n}@example.com"})
        frame = await citizen.receive_json_from(timeout=5)
        results.append(frame["type"])
    assert results.count("transcript.sent") == 1 and results.count("error") == 19
    assert [m.to for m in mail.outbox] == [["x0@example.com"]]
    await citizen.send_json_to({"type": "csat", "score": 4})
    await receive_until(citizen, "csat.saved")
    await agent.disconnect()
    await citizen.disconnect()


async def test_after_the_end_a_reconnecting_token_gets_the_ended_screen_not_the_conversation(
    centre,
):
    contact_id, agent, citizen = await connected_chat(centre)
    await citizen.send_json_to({"type": "message.send", "text": "제 주소는 비밀입니다"})
    await receive_until(citizen, "message.created")
    await agent.send_json_to({"type": "contact.end", "contact_id": contact_id})
    await receive_until(citizen, "chat.ended")
    await citizen.disconnect()
    citizen = await citizen_socket(citizen.token)
    hello = await citizen.receive_json_from(timeout=5)
    assert hello["state"] == "wrapup" and 0 < hello["closes_in_seconds"] <= 600
    await citizen.send_json_to({"type": "resume", "last_message_id": 0})
    done, frames = await receive_until(citizen, "resume.done")
    assert [f for f in frames if f["type"] == "message.created"] == []
    assert done["last_message_id"] == 0
    await agent.disconnect()
    await citizen.disconnect()


async def test_once_the_after_end_window_has_passed_the_token_is_dead(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to({"type": "contact.end", "contact_id": contact_id})
    await receive_until(citizen, "chat.ended")
    with override_settings(CHAT_AFTER_END_SECONDS=0):
        await citizen.send_json_to({"type": "csat", "score": 5})
        error = await citizen.receive_json_from(timeout=5)
        assert error["code"] == "session_expired"
        closed = await citizen.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", 4410)

        again = await citizen_socket(citizen.token)
        error = await again.receive_json_from(timeout=5)
        assert error["code"] == "session_expired"
        closed = await again.receive_output(timeout=5)
        assert closed["code"] == 4410
        upload = await sync_to_async(Client().post)(
            f"/chat/{citizen.token}/attachments", {"file": b"%PDF-1.4"}
        )
        assert upload.status_code == 410 and upload.json()["error"] == "session_expired"
    assert not await database_sync_to_async(SurveyAnswer.objects.exists)()
    await agent.disconnect()


async def test_a_chat_leaves_one_call_back_request(centre):
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await citizen.receive_json_from(timeout=5)
    await citizen.send_json_to({"type": "callback.request", "phone": "010-2222-3333"})
    await receive_until(citizen, "callback.saved")
    for phone in ("010-2222-4444", "010-2222-5555"):
        await citizen.send_json_to({"type": "callback.request", "phone": phone})
        error, _ = await receive_until(citizen, "error")
        assert error["message"] == korean("A call-back was already requested for this chat.")
    contact = await database_sync_to_async(Contact.objects.get)(pk=started["contact_id"])
    assert await database_sync_to_async(contact.callbacks.count)() == 1
    await citizen.disconnect()


async def test_a_resident_registration_number_reaches_the_console_masked(centre):
    contact_id, agent, citizen = await connected_chat(centre)
    await citizen.send_json_to(
        {"type": "message.send", "text": "제 주민번호는 900101-1234567 입니다"}
    )
    frame, _ = await receive_until(agent, "message.created")
    while frame["message"]["sender"] != "citizen":
        frame, _ = await receive_until(agent, "message.created")
    assert frame["message"]["text"] == "제 주민번호는 900101-1****** 입니다"
    await agent.disconnect()
    await citizen.disconnect()
