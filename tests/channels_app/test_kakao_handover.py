"""KakaoTalk hand-over: agents' answers reach the citizen through the request's callbackUrl
while Kakao allows it (once, within the window), else with the citizen's next message."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from callcenter.models import Contact, ContactEvent, Message, Offer, Presence
from callcenter.services import conversations, kakao, routing
from callcenter.services.presence import agent_set_presence
from channels_app.kakao.responses import response_check
from channels_app.models import KakaoConversation, OutboundMessage
from tests.channels_app import test_kakao_skill as skill
from tests.channels_app.test_kakao_skill import (
    RECORDED,
    answer,
    post,
    quick_labels,
    skill_request,
    texts,
)
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

# The skill tests' fixtures: their settings (autouse), the demo knowledge base, the chat queue.
kakao_settings, kb, chat_queue = skill.kakao_settings, skill.kb, skill.chat_queue

CALLBACK = "https://bot-api.kakao.com/v1/callback/abc123?token=t0k3n"
PREPARING = {
    "version": "2.0",
    "useCallback": True,
    "data": {"text": "상담사가 답변을 준비하고 있습니다."},
}


@pytest.fixture
def agent(chat_queue):
    """Minji, available for chats in Korean."""
    minji = AgentFactory(
        user__username="minji", display_name="김민지", skills=list(chat_queue.required_skills.all())
    )
    agent_set_presence(agent=minji, presence=Presence.AVAILABLE, dispatch=False)
    return minji


def accept(agent) -> Contact:
    routing.router_dispatch()
    offer = Offer.objects.get(agent=agent, state=Offer.State.PENDING)
    return routing.offer_accept(offer_id=offer.pk, agent=agent)


def callback_rows() -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(channel=OutboundMessage.Channel.KAKAO_CALLBACK).order_by(
            "id"
        )
    )


def handed_over(client, agent) -> Contact:
    """A conversation an agent took; the citizen has read that the agent joined."""
    answer(client, "여권")
    answer(client, "상담사 연결")
    contact = accept(agent)
    assert texts(answer(client, "안녕하세요")) == ["상담사 김민지님이 연결되었습니다."]
    return contact


def test_a_kakao_user_asks_the_bot_then_an_agent_and_the_answer_goes_out_by_callback(
    client, kb, agent
):
    payload = answer(client, "여권 재발급 어떻게 해요")
    assert payload["template"]["outputs"][-1]["basicCard"]["title"] == kb["kb-0004"].title

    response = post(client, skill_request("상담사 연결", callback=CALLBACK))
    waiting = response.json()
    assert response_check(waiting) == []
    assert waiting["useCallback"] is True
    assert "대기 순서는 1번째" in waiting["data"]["text"]
    assert "1분 안에" in waiting["data"]["text"]  # honest about the window

    contact = accept(agent)
    assert contact.agent == agent and contact.state == Contact.State.ACTIVE
    # The agent sees the bot's transcript above the live conversation.
    transcript = conversations.conversation_messages(contact, include_internal=False)
    assert [m["sender"] for m in transcript][:4] == ["citizen", "bot", "citizen", "bot"]

    reply = conversations.staff_message_send(
        contact=contact,
        user=agent.user,
        text="안녕하세요, 여권 재발급은 구청 민원실에서 가능합니다.",
    )

    (row,) = callback_rows()
    assert (row.to, row.message, row.contact, row.idempotency_key) == (
        CALLBACK,
        reply,
        contact,
        f"kakao-callback-{reply.pk}",
    )
    assert row.status == OutboundMessage.Status.QUEUED  # sent by the worker after commit
    body = json.loads(row.body)
    assert response_check(body) == []
    assert [o["simpleText"]["text"] for o in body["template"]["outputs"]] == [
        "상담사 김민지님이 연결되었습니다.",
        "안녕하세요, 여권 재발급은 구청 민원실에서 가능합니다.",
    ]
    assert KakaoConversation.objects.get(contact=contact).callback_used_at is not None
    assert ContactEvent.objects.filter(contact=contact, type="handed_over").count() == 1


def test_while_an_agent_has_the_conversation_the_citizen_writes_to_the_agent(client, kb, agent):
    contact = handed_over(client, agent)

    response = post(client, skill_request("혹시 대리 신청도 되나요?", callback=CALLBACK))
    assert response.json() == PREPARING
    last = contact.messages.filter(sender=Message.Sender.CITIZEN).last()
    assert last.text == "혹시 대리 신청도 되나요?"

    payload = answer(client, "여보세요?")
    (text,) = texts(payload)
    assert "상담사에게 전달했습니다" in text and "다음에 메시지를 보내실 때" in text
    assert quick_labels(payload) == ["웹 채팅으로 계속"]  # to read the answer at once


def test_an_answer_after_the_window_waits_for_the_next_message(client, kb, agent, settings):
    contact = handed_over(client, agent)
    post(client, skill_request("대리 신청 되나요?", callback=CALLBACK))
    KakaoConversation.objects.filter(contact=contact).update(
        callback_received_at=timezone.now()
        - timedelta(seconds=settings.KAKAO_CALLBACK_WINDOW_SECONDS + 1)
    )

    reply = conversations.staff_message_send(
        contact=contact, user=agent.user, text="네, 위임장이 있으면 됩니다."
    )
    assert callback_rows() == []
    reply.refresh_from_db()
    assert reply.delivered_at is None

    payload = answer(client, "답변 왔나요?")
    assert texts(payload) == ["네, 위임장이 있으면 됩니다."]
    reply.refresh_from_db()
    assert reply.delivered_at is not None
    # Brought once: the next message finds nothing waiting.
    payload = answer(client, "감사합니다")
    assert "상담사에게 전달했습니다" in texts(payload)[0]


def test_the_callback_is_used_once_and_the_second_answer_waits(client, kb, agent):
    contact = handed_over(client, agent)
    post(client, skill_request("대리 신청 되나요?", callback=CALLBACK))
    first = conversations.staff_message_send(contact=contact, user=agent.user, text="네 됩니다.")
    conversations.staff_message_send(
        contact=contact, user=agent.user, text="위임장 양식은 누리집에 있습니다."
    )
    assert [row.message for row in callback_rows()] == [first]

    payload = answer(client, "네")
    assert texts(payload) == ["위임장 양식은 누리집에 있습니다."]


def test_a_failed_callback_is_brought_with_the_next_message(client, kb, agent):
    contact = handed_over(client, agent)
    post(client, skill_request("대리 신청 되나요?", callback=CALLBACK))
    reply = conversations.staff_message_send(contact=contact, user=agent.user, text="네 됩니다.")
    OutboundMessage.objects.filter(message=reply).update(status=OutboundMessage.Status.FAILED)

    payload = answer(client, "답이 안 왔어요")
    assert texts(payload)[-1] == "네 됩니다."


def test_many_waiting_answers_come_three_outputs_at_a_time(client, kb, agent):
    contact = handed_over(client, agent)
    for n in range(1, 6):
        conversations.staff_message_send(contact=contact, user=agent.user, text=f"답변 {n}")

    first = texts(answer(client, "다 보여 주세요"))
    assert first[:2] == ["답변 1", "답변 2"]
    assert "3개 더" in first[2]
    second = texts(answer(client, "다음"))
    assert second == ["답변 3", "답변 4", "답변 5"]


def test_the_end_of_the_chat_reaches_the_citizen_and_the_bot_takes_the_next_question(
    client, kb, agent
):
    contact = handed_over(client, agent)
    conversations.staff_message_send(
        contact=contact, user=agent.user, text="더 궁금한 점 있으세요?"
    )
    routing.contact_end(contact=contact, by="agent", actor=agent.user)

    payload = answer(client, "자동차세 연납")
    outputs = texts(payload)
    assert outputs[:2] == ["더 궁금한 점 있으세요?", "상담이 종료되었습니다."]
    assert "자동차세" in outputs[-1]  # then the bot's answer to the new question
    assert Contact.objects.filter(ended_at__isnull=True).count() == 1
    new = Contact.objects.get(ended_at__isnull=True)
    assert new.pk != contact.pk and new.queued_at is None


def test_a_reply_in_a_rolled_back_transaction_queues_nothing(client, kb, agent):
    contact = handed_over(client, agent)
    post(client, skill_request("대리 신청 되나요?", callback=CALLBACK))
    with pytest.raises(RuntimeError), transaction.atomic():
        conversations.staff_message_send(contact=contact, user=agent.user, text="네 됩니다.")
        raise RuntimeError
    assert callback_rows() == []
    assert KakaoConversation.objects.get(contact=contact).callback_used_at is None


def test_internal_notes_never_reach_the_citizen(client, kb, agent):
    contact = handed_over(client, agent)
    post(client, skill_request("대리 신청 되나요?", callback=CALLBACK))
    conversations.staff_message_send(
        contact=contact, user=agent.user, text="메모: 본인 확인 필요", internal=True
    )
    assert callback_rows() == []
    assert "메모" not in " ".join(texts(answer(client, "네")))


def test_every_response_the_bot_can_produce_respects_kakaos_limits(client, kb, agent, settings):
    """Each branch of the bot, answered and collected; plus the builders at their limits."""
    long_title = "아주 긴 제목" * 20
    produced = [
        kakao.kakao_too_long_response(),
        kakao.callback_wait_response(kakao.AGENT_PREPARING),
        kakao.skill_response(
            [kakao.simple_text("가" * 5000)] * 5,
            [kakao.quick_reply(long_title)] * 20,
        ),
        kakao.skill_response(
            [
                kakao.basic_card(
                    title=long_title,
                    description="나" * 1000,
                    buttons=[kakao.web_link_button(long_title, "https://e.kr/x")] * 5,
                )
            ]
        ),
    ]
    utterances = [
        "",
        "등본 떼려면 어디로 가야 하나요",
        "여권",
        "도움이 되었어요",
        "다른 질문",
        "쓰레기 버리는 법",
        "처리 현황 조회",
        "120-2026-000001",
        "120-2026-000001 1234",
        "오늘 점심 메뉴 추천해 줘",
        "블록체인 코인 시세",  # the second in a row: handed over
        "아직인가요?",
    ]
    for utterance in utterances:
        produced.append(post(client, skill_request(utterance)).json())
    produced.append(post(client, skill_request("콜백", callback=CALLBACK)).json())
    contact = accept(agent)
    produced.append(post(client, skill_request("콜백", callback=CALLBACK)).json())
    for n in range(5):
        conversations.staff_message_send(
            contact=contact, user=agent.user, text="다" * (n * 400 + 1)
        )
    produced += [post(client, skill_request("다음")).json() for _ in range(3)]
    produced += [json.loads(row.body) for row in callback_rows()]

    problems = {json.dumps(p, ensure_ascii=False)[:80]: response_check(p) for p in produced}
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(callback_rows()) == 1


def test_the_validator_names_each_broken_limit():
    broken = {
        "version": "1.0",
        "template": {
            "outputs": [
                {"simpleText": {"text": "가" * 1001}},
                {
                    "basicCard": {
                        "description": "나" * 231,
                        "buttons": [
                            {"label": "열네 글자를 넘는 아주 긴 버튼 이름", "action": "webLink"}
                        ]
                        * 4,
                    }
                },
                {"carousel": {}},
                {"simpleText": {"text": ""}},
            ],
            "quickReplies": [{"label": "네", "action": "message", "messageText": "네"}] * 11,
        },
    }
    problems = "\n".join(response_check(broken))
    for expected in [
        'version must be "2.0"',
        "1 to 3 outputs",
        "more than 1000",
        "more than 230",
        "basicCard.buttons: at most 3",
        "carousel",
        "quickReplies: at most 10",
    ]:
        assert expected in problems
    assert response_check({"version": "2.0", "template": {"outputs": []}}) != []
    assert response_check({"version": "2.0", "useCallback": True, "data": {}}) != []
    assert response_check(RECORDED) != []


def test_a_callback_url_off_kakaos_hosts_is_never_used(client, kb, agent):
    contact = handed_over(client, agent)
    response = post(client, skill_request("네?", callback="https://evil.example/steal"))
    (text,) = texts(response.json())  # an ordinary answer: the reply will wait
    assert "다음에 메시지를 보내실 때" in text
    conversations.staff_message_send(contact=contact, user=agent.user, text="네 됩니다.")
    assert callback_rows() == []


def test_the_citizen_may_continue_in_the_web_chat_with_the_same_conversation(client, kb, agent):
    """While an agent has the conversation and Kakao can only bring answers with the next
    message, the bot offers the web chat; the tap gives a link whose token (in the fragment,
    never stored in the transcript) opens the same conversation, and counts as consent."""
    contact = handed_over(client, agent)
    forwarded = answer(client, "주차 문의도 있어요")
    assert "웹 채팅으로 계속" in quick_labels(forwarded)

    payload = answer(client, "웹 채팅으로 계속")
    assert response_check(payload) == []
    card = payload["template"]["outputs"][-1]["basicCard"]
    url = card["buttons"][0]["webLinkUrl"]
    assert url.startswith("https://120.example.go.kr/chat/#continue=")
    token = url.split("#continue=", 1)[1]
    session = conversations.session_for_token(token)
    assert session is not None and session.contact_id == contact.pk
    contact.refresh_from_db()
    assert contact.session_id == session.pk
    assert contact.citizen.consent_privacy and contact.citizen.consented_at is not None
    assert not Message.objects.filter(contact=contact, text__contains=token).exists()

    # The page resumes the whole conversation: the bot's lines, the agent's joining, the asks.
    resumed = conversations.chat_resume(session=session, last_id=0)
    assert any("주차 문의도 있어요" in m["text"] for m in resumed)
    reply = conversations.staff_message_send(contact=contact, user=agent.user, text="네.")
    assert reply.pk in [m["id"] for m in conversations.chat_resume(session=session, last_id=0)]


def test_the_web_chat_is_not_offered_while_the_citizen_waits_for_an_agent(client, kb, agent):
    """A waiting chat whose page is not open would not be offered to agents; so the link
    comes once an agent has the conversation, and a waiting Kakao contact is never
    abandoned for having no web page."""
    answer(client, "상담사 연결")
    waiting = answer(client, "아직인가요")
    assert "웹 채팅으로 계속" not in quick_labels(waiting)
    assert texts(answer(client, "웹 채팅으로 계속"))[0].startswith("상담사 연결을 기다리고")
    contact = Contact.objects.get(channel="kakao")
    token = conversations.chat_session_continue(contact=contact)
    assert conversations.session_for_token(token) is not None
    session = contact.session
    session.citizen_seen_at = timezone.now() - timedelta(hours=1)
    session.save(update_fields=["citizen_seen_at"])
    assert routing.chats_abandon_gone() == []
    contact.refresh_from_db()
    assert contact.state == Contact.State.WAITING
