"""The KakaoTalk skill server: Open Builder's requests in their recorded shape, answered
within Kakao's limits, refused with a reason when they are not genuine or not readable."""

import copy
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callcenter.models import Channel, Citizen, Contact, ContactEvent, Message, Skill
from callcenter.services import kakao
from channels_app.kakao.responses import response_check
from knowledge.models import Article, ArticleFeedback
from knowledge.search import search_index_rebuild
from knowledge.services import article_save
from tests.factories import CitizenFactory, QueueFactory, SkillFactory
from tests.knowledge import test_search
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

SECRET = "kakao-skill-secret-" + "s" * 20
BOT_ID = "5f0c1a2b3c4d5e6f7a8b9c0d"

# A request as Open Builder sends it (the skill guide's payload, callback block off).
RECORDED = {
    "intent": {"id": "intent-1", "name": "폴백 블록"},
    "userRequest": {
        "timezone": "Asia/Seoul",
        "params": {"ignoreMe": "true"},
        "block": {"id": "block-1", "name": "폴백 블록"},
        "utterance": "등본 떼려면 어디로 가야 하나요",
        "lang": "ko",
        "user": {
            "id": "bot-user-key-0001",
            "type": "botUserKey",
            "properties": {"plusfriendUserKey": "pf-user-0001", "appUserId": "123"},
        },
    },
    "bot": {"id": BOT_ID, "name": "120 상담봇"},
    "action": {
        "name": "skill",
        "clientExtra": None,
        "params": {},
        "id": "action-1",
        "detailParams": {},
    },
    "contexts": [],
}


def skill_request(utterance: str, *, user: str = "pf-user-0001", callback: str = "") -> dict:
    body = copy.deepcopy(RECORDED)
    body["userRequest"]["utterance"] = utterance
    body["userRequest"]["user"]["properties"]["plusfriendUserKey"] = user
    if callback:
        body["userRequest"]["callbackUrl"] = callback
    return body


def post(client, body, *, secret: str | None = SECRET, raw: bytes | None = None):
    headers = {} if secret is None else {"HTTP_X_SKILL_SECRET": secret}
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    return client.post(reverse("kakao-skill"), data, content_type="application/json", **headers)


def answer(client, utterance: str, **kwargs) -> dict:
    """The skill's answer to ``utterance``, checked against Kakao's limits."""
    response = post(client, skill_request(utterance, **kwargs))
    assert response.status_code == 200, response.content
    payload = response.json()
    assert response_check(payload) == [], payload
    return payload


def texts(payload: dict) -> list[str]:
    found = []
    for output in payload["template"]["outputs"]:
        if "simpleText" in output:
            found.append(output["simpleText"]["text"])
        else:
            found.append(output["basicCard"]["title"] + " " + output["basicCard"]["description"])
    return found


def quick_labels(payload: dict) -> list[str]:
    return [item["label"] for item in payload["template"].get("quickReplies", [])]


@pytest.fixture(autouse=True)
def kakao_settings(settings):
    settings.KAKAO_SKILL_SECRET = SECRET
    settings.KAKAO_BOT_ID = ""
    settings.PUBLIC_BASE_URL = "https://120.example.go.kr"


# The demo knowledge base (40 published articles), indexed: external_id → article.
kb = test_search.kb


@pytest.fixture
def chat_queue(db):
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    queue = QueueFactory(code="chat", channels=["webchat", "kakao"], service_level_seconds=60)
    queue.required_skills.set([korean])
    return queue


def stored() -> tuple[int, int, int]:
    return Citizen.objects.count(), Contact.objects.count(), Message.objects.count()


# --- authentication and the request's shape -----------------------------------------------------
@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_request_without_the_right_secret_is_refused_and_nothing_is_stored(client, secret):
    response = post(client, skill_request("등본 떼려면"), secret=secret)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "X-Skill-Secret" in response.json()["message"]
    assert stored() == (0, 0, 0)


def test_with_no_secret_configured_every_request_is_refused(client, settings):
    settings.KAKAO_SKILL_SECRET = ""
    assert post(client, skill_request("등본"), secret="").status_code == 401
    assert post(client, skill_request("등본"), secret="anything").status_code == 401
    assert stored() == (0, 0, 0)


def test_a_request_for_another_bot_is_refused_when_the_bot_id_is_set(client, settings, kb):
    settings.KAKAO_BOT_ID = "another-bot"
    response = post(client, skill_request("등본"))
    assert response.status_code == 403
    assert response.json()["error"] == "wrong_bot"
    assert stored() == (0, 0, 0)
    settings.KAKAO_BOT_ID = BOT_ID
    assert post(client, skill_request("등본")).status_code == 200


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"bot": {"id": BOT_ID}}).encode(), "userRequest"),
        (json.dumps({"userRequest": {"utterance": "안녕"}}).encode(), "user.id"),
        (
            json.dumps({"userRequest": {"user": {"id": "u1", "type": "botUserKey"}}}).encode(),
            "utterance",
        ),
        (
            json.dumps({"userRequest": {"user": {"id": "u1"}, "utterance": 5}}).encode(),
            "utterance",
        ),
        (json.dumps({"userRequest": {"user": "u1", "utterance": "안녕"}}).encode(), "user"),
    ],
)
def test_a_body_that_is_not_a_skill_request_gets_400_with_the_reason(client, raw, reason):
    response = post(client, None, raw=raw)
    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert stored() == (0, 0, 0)


def test_an_utterance_with_control_characters_gets_400_and_nothing_is_stored(client):
    response = post(client, skill_request("등본\x01 발급"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_utterance"
    assert stored() == (0, 0, 0)


def test_only_post_is_answered(client):
    assert client.get(reverse("kakao-skill"), HTTP_X_SKILL_SECRET=SECRET).status_code == 405


def test_an_oversized_utterance_gets_a_polite_answer_and_is_not_stored(client, settings):
    payload = answer(client, "가" * (settings.KAKAO_UTTERANCE_MAX_CHARS + 1))
    assert "1000자 이내" in texts(payload)[0]
    assert stored() == (0, 0, 0)


def test_the_bot_user_key_identifies_the_citizen_when_kakao_gives_no_channel_key(client, kb):
    body = skill_request("여권")
    del body["userRequest"]["user"]["properties"]["plusfriendUserKey"]
    assert post(client, body).status_code == 200
    assert Citizen.objects.get().kakao_user_key == "bot-user-key-0001"


# --- the bot ------------------------------------------------------------------------------------
def test_a_question_is_answered_from_the_knowledge_base_with_a_link_to_the_faq(client, kb):
    payload = answer(client, "등본 떼려면 어디로 가야 하나요")

    outputs = payload["template"]["outputs"]
    card = outputs[-1]["basicCard"]
    article = kb["kb-0001"]
    assert card["title"] == article.title
    assert card["buttons"] == [
        {
            "label": "자세히 보기",
            "action": "webLink",
            "webLinkUrl": f"https://120.example.go.kr/faq/{article.pk}/",
        }
    ]
    assert "정부24" in texts(payload)[0]  # the answer itself, not just a link
    assert quick_labels(payload) == ["도움이 되었어요", "상담사 연결", "다른 질문"]
    citizen = Citizen.objects.get()
    assert citizen.kakao_user_key == "pf-user-0001"
    contact = Contact.objects.get()
    assert (contact.channel, contact.citizen, contact.queue, contact.queued_at) == (
        Channel.KAKAO,
        citizen,
        None,
        None,
    )
    question, bot = contact.messages.all()
    assert (question.sender, question.text) == ("citizen", "등본 떼려면 어디로 가야 하나요")
    assert bot.sender == "bot" and "정부24" in bot.text and f"/faq/{article.pk}/" in bot.text
    event = ContactEvent.objects.get(contact=contact, type=ContactEvent.Type.BOT_ANSWERED)
    assert event.data == {"article": article.pk}


def test_a_short_answer_is_one_card_holding_the_whole_answer(client, kb, supervisor_user):
    article = article_save(
        title="분실물 센터",
        question="지하철에서 잃어버린 물건은 어디서 찾나요?",
        answer="지하철 **유실물센터**에 문의하세요. 운영시간은 평일 9시부터 18시까지입니다.",
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
        synonyms=["분실물"],
    )
    search_index_rebuild()
    payload = answer(client, "지하철 분실물 센터")
    (output,) = payload["template"]["outputs"]
    assert output["basicCard"]["description"] == (
        "지하철 유실물센터에 문의하세요. 운영시간은 평일 9시부터 18시까지입니다."
    )
    assert output["basicCard"]["buttons"][0]["webLinkUrl"].endswith(f"/faq/{article.pk}/")


def test_one_conversation_holds_every_utterance_while_it_is_open(client, kb):
    answer(client, "여권")
    answer(client, "자동차세 연납")
    answer(client, "여권", user="someone-else")
    assert Contact.objects.filter(citizen__kakao_user_key="pf-user-0001").count() == 1
    assert Contact.objects.count() == 2
    assert ContactEvent.objects.filter(type=ContactEvent.Type.BOT_ANSWERED).count() == 3


def test_a_quiet_bot_conversation_ends_and_the_next_utterance_starts_a_new_one(
    client, kb, settings
):
    answer(client, "여권")
    first = Contact.objects.get()
    first.kakao.last_request_at -= timedelta(seconds=settings.KAKAO_CONVERSATION_IDLE_SECONDS + 1)
    first.kakao.save()
    answer(client, "여권")
    first.refresh_from_db()
    assert first.ended_at is not None and not first.abandoned
    assert ContactEvent.objects.get(contact=first, type=ContactEvent.Type.ENDED).data == {
        "by": "bot"
    }
    assert Contact.objects.filter(ended_at__isnull=True).count() == 1


def test_quiet_bot_conversations_are_closed_by_the_periodic_sweep(client, kb, settings):
    answer(client, "여권")
    assert kakao.kakao_conversations_close_idle() == 0
    later = timezone.now() + timedelta(seconds=settings.KAKAO_CONVERSATION_IDLE_SECONDS + 1)
    assert kakao.kakao_conversations_close_idle(now=later) == 1
    contact = Contact.objects.get()
    assert contact.ended_at is not None and not contact.abandoned


def test_an_unsure_search_asks_back_with_the_top_titles_and_a_choice_answers(client, kb):
    payload = answer(client, "쓰레기 버리는 법")
    assert "골라 주시거나" in texts(payload)[0]
    labels = quick_labels(payload)
    assert labels[-1] == "상담사 연결"
    assert len(labels) == 4
    replies = payload["template"]["quickReplies"]
    chosen = replies[0]["messageText"]
    assert chosen in {kb["kb-0022"].title, kb["kb-0023"].title, kb["kb-0024"].title}
    assert not ContactEvent.objects.filter(type=ContactEvent.Type.BOT_ANSWERED).exists()

    payload = answer(client, chosen)
    assert payload["template"]["outputs"][-1]["basicCard"]["title"] == chosen


def test_a_registration_number_typed_to_the_bot_is_stored_masked(client, kb):
    answer(client, "제 주민번호는 900101-1234567 인데 등본 떼려면")
    text = Message.objects.filter(sender="citizen").get().text
    assert "1234567" not in text and "900101-1" in text


def test_helpful_counts_as_the_faqs_helpful_once(client, kb):
    answer(client, "여권")
    payload = answer(client, "도움이 되었어요")
    assert "기쁩니다" in texts(payload)[0]
    answer(client, "도움이 되었어요")
    assert list(ArticleFeedback.objects.values_list("article", "helpful")) == [
        (kb["kb-0004"].pk, True)
    ]


def test_another_question_invites_the_next_one(client, kb):
    payload = answer(client, "다른 질문")
    assert "궁금한 점" in texts(payload)[0]
    assert "상담사 연결" in quick_labels(payload)


def test_two_questions_in_a_row_without_an_answer_go_to_an_agent(client, kb, chat_queue):
    payload = answer(client, "오늘 점심 메뉴 추천해 줘")
    assert "찾지 못했습니다" in texts(payload)[0]
    assert Contact.objects.get().queued_at is None

    payload = answer(client, "블록체인 코인 시세")
    contact = Contact.objects.get()
    assert contact.queue == chat_queue and contact.queued_at is not None
    assert "두 번 연속" in texts(payload)[0]
    event = ContactEvent.objects.get(type=ContactEvent.Type.HANDED_OVER)
    assert event.data == {"queue": "chat", "reason": "unanswered"}


def test_asking_for_an_agent_queues_the_conversation_with_its_transcript(client, kb, chat_queue):
    answer(client, "여권")
    payload = answer(client, "상담사 연결")
    contact = Contact.objects.get()
    assert contact.queue == chat_queue and contact.state == Contact.State.WAITING
    (text,) = texts(payload)
    assert "대기 순서는 1번째" in text
    assert "다음에 메시지를 보내실 때" in text  # honest: Kakao cannot be written to at will
    assert ContactEvent.objects.filter(contact=contact, type="handed_over").count() == 1
    assert list(contact.messages.values_list("sender", flat=True)) == [
        "citizen",
        "bot",
        "citizen",
        "bot",
    ]

    payload = answer(client, "언제쯤 연결되나요?")
    assert "대기 1번째" in texts(payload)[0]
    assert contact.messages.filter(sender="citizen").count() == 3
    assert ContactEvent.objects.filter(contact=contact, type="handed_over").count() == 1


def test_without_a_chat_queue_the_citizen_is_told_and_the_bot_keeps_them(client, kb):
    payload = answer(client, "상담사 연결")
    assert "120으로 전화" in texts(payload)[0]
    assert Contact.objects.get().queued_at is None


# --- ticket status ------------------------------------------------------------------------------
@pytest.fixture
def ticket(db):
    citizen = CitizenFactory(phone="+821055551234")
    ticket = ticket_create(subject="가로등 고장", channel=Channel.VOICE, citizen=citizen)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN)
    return ticket


def test_a_ticket_number_and_the_phones_last_digits_give_its_status(client, ticket):
    payload = answer(client, f"{ticket.number} 1234")
    (text,) = texts(payload)
    assert ticket.number in text and "가로등 고장" in text and "처리중" in text


@pytest.mark.parametrize("query", ["{number} 9999", "120-2000-999999 1234"])
def test_a_wrong_number_or_wrong_digits_reveal_nothing(client, ticket, query):
    payload = answer(client, query.format(number=ticket.number))
    (text,) = texts(payload)
    assert "찾지 못했습니다" in text and "가로등" not in text


def test_the_number_alone_asks_for_the_digits(client, ticket):
    payload = answer(client, ticket.number)
    assert "뒤 4자리" in texts(payload)[0]
    assert "가로등" not in texts(payload)[0]


def test_guessing_the_digits_stops_after_a_few_failures(client, ticket, settings):
    for guess in range(settings.KAKAO_TRACK_FAILURES_PER_HOUR):
        answer(client, f"{ticket.number} {guess:04d}")
    payload = answer(client, f"{ticket.number} 1234")
    assert "여러 번 실패" in texts(payload)[0]
    assert "가로등" not in texts(payload)[0]


def test_the_action_parameters_can_carry_the_number_and_digits(client, ticket):
    body = skill_request("처리 현황 조회")
    body["action"]["detailParams"] = {
        "ticket_number": {"origin": ticket.number, "value": ticket.number, "groupName": ""}
    }
    body["action"]["params"] = {"phone_last4": "1234"}
    response = post(client, body)
    assert "처리중" in texts(response.json())[0]
