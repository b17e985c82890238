"""KakaoTalk conversations: the knowledge-base bot, hand-over to agents, agents' replies.

A Kakao user's utterance (``kakao_utterance_handle``, called by the skill view
``channels_app.kakao.views``) lands in the citizen's open Kakao conversation: a Contact of
channel kakao, created at the first utterance without a queue while the bot handles it. Every
utterance and every answer is a Message, so agents see the bot's transcript above the live
conversation once it is handed over.

While the bot has the conversation it answers from the published knowledge base (the best
article as a card with a "자세히 보기" link to the public FAQ; a clarifying question with the
top titles when the search is unsure), looks up a ticket's status by its number and the last
four digits of the phone it was filed with, and hands over to the chat queue on "상담사 연결"
or after KAKAO_HANDOVER_AFTER_UNANSWERED questions in a row it could not answer.

Kakao cannot be written to at will, which decides how agents' answers travel
(``kakao_reply_deliver``): through the latest request's callbackUrl when the skill answered
it with ``useCallback`` less than KAKAO_CALLBACK_WINDOW_SECONDS ago (once), otherwise in the
response to the citizen's next utterance. The citizen is told which applies.

The response format (Kakao's JSON and its limits) is built here too: agents' replies leave
through the outbox from this layer, so the builders cannot live in the adapter;
``channels_app.kakao.responses`` checks every response against the limits.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy

from callcenter.models import (
    Channel,
    Citizen,
    Contact,
    ContactEvent,
    Message,
)
from callcenter.selectors import queue_for_language
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.conversations import chat_session_continue
from callcenter.services.kakao_outbound import kakao_callback_url_allowed
from callcenter.services.messages import message_create
from callcenter.services.outbox import outbox_enqueue
from callcenter.services.replies import delivery_publish
from callcenter.services.routing import contact_enqueue, queue_position
from channels_app.models import KakaoConversation, OutboundMessage
from knowledge.models import Article
from knowledge.selectors import article_search_hits
from knowledge.services import article_feedback, search_query_log
from tickets.models import Ticket

logger = logging.getLogger(__name__)

# --- Kakao's response format ------------------------------------------------------------------
MAX_OUTPUTS = 3
MAX_QUICK_REPLIES = 10
MAX_SIMPLE_TEXT = 1000
MAX_CARD_TITLE = 50
MAX_CARD_DESCRIPTION = 230
MAX_CARD_BUTTONS = 3
MAX_LABEL = 14  # what Kakao shows of a button or quick-reply label


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def simple_text(text: str) -> dict:
    return {"simpleText": {"text": _cut(text, MAX_SIMPLE_TEXT) or "…"}}


def web_link_button(label: str, url: str) -> dict:
    return {"label": _cut(label, MAX_LABEL), "action": "webLink", "webLinkUrl": url}


def basic_card(*, title: str, description: str, buttons: list[dict]) -> dict:
    return {
        "basicCard": {
            "title": _cut(title, MAX_CARD_TITLE),
            "description": _cut(description, MAX_CARD_DESCRIPTION),
            "buttons": buttons[:MAX_CARD_BUTTONS],
        }
    }


def quick_reply(label: str, message_text: str = "") -> dict:
    """A quick reply that sends ``message_text`` (the label itself by default) as the next
    utterance; the label is cut to what Kakao shows, the text sent stays whole."""
    return {
        "label": _cut(label, MAX_LABEL),
        "action": "message",
        "messageText": message_text or label,
    }


def skill_response(outputs: list[dict], quick_replies: list[dict] | None = None) -> dict:
    template: dict = {"outputs": outputs[:MAX_OUTPUTS]}
    if quick_replies:
        template["quickReplies"] = quick_replies[:MAX_QUICK_REPLIES]
    return {"version": "2.0", "template": template}


def callback_wait_response(text: str) -> dict:
    """The answer now to a request whose real answer follows through its callbackUrl."""
    return {"version": "2.0", "useCallback": True, "data": {"text": text}}


# --- What the bot says (the Kakao channel speaks Korean) --------------------------------------
HELPFUL = "도움이 되었어요"
AGENT = "상담사 연결"
ANOTHER = "다른 질문"
TRACK = "처리 현황 조회"
WEB_CHAT = "웹 채팅으로 계속"
ANSWER_REPLIES = (HELPFUL, AGENT, ANOTHER)

WELCOME = "안녕하세요, 120 다산콜재단 상담봇입니다. 궁금한 점을 한 문장으로 적어 주세요."
ASK_ANOTHER = "궁금한 점을 한 문장으로 적어 주세요. 접수번호로 처리 현황도 알려 드립니다."
THANKS = "도움이 되어 기쁩니다. 더 궁금한 점이 있으면 언제든 물어봐 주세요."
CLARIFY = "어떤 내용을 찾으시나요? 아래에서 골라 주시거나 조금 더 자세히 적어 주세요."
NOT_FOUND = (
    "죄송합니다, 알맞은 답을 찾지 못했습니다. "
    "다른 말로 물어봐 주시거나 상담사와 연결해 드릴 수 있어요."
)
LONG_ANSWER_MORE = "전체 안내와 관련 링크는 '자세히 보기'에서 확인하세요."
MORE = "자세히 보기"
TOO_LONG = "메시지가 너무 깁니다. {limit}자 이내로 나누어 보내 주세요."
TRACK_HELP = (
    "접수번호와 접수 때 남기신 전화번호 뒤 4자리를 함께 보내 주세요. 예: 120-2026-000123 5678"
)
TRACK_NEEDS_DIGITS = "전화번호 뒤 4자리도 함께 보내 주세요. 예: {number} 5678"
TRACK_FOUND = "접수번호 {number}\n처리 상태: {status}\n내용: {subject}\n최근 변경: {updated}"
TRACK_NOT_FOUND = "일치하는 민원을 찾지 못했습니다. 접수번호와 전화번호 뒤 4자리를 확인해 주세요."
TRACK_LIMITED = (
    "조회에 여러 번 실패했습니다. 한 시간 뒤에 다시 시도하시거나 상담사와 연결해 주세요."
)
HANDOVER_REPEATED = "두 번 연속 답을 찾지 못해 상담사에게 연결합니다."
HANDOVER_QUEUED = "상담사를 연결해 드릴게요. 지금 대기 순서는 {position}번째입니다."
HANDOVER_QUEUED_NO_POSITION = "상담사를 연결해 드릴게요. 순서가 되면 상담사가 답합니다."
# Honest about the channel: Kakao lets us answer only when the citizen writes (or within a
# minute of it, when callbacks are on).
REPLY_WHEN_NEXT = "상담사의 답변은 다음에 메시지를 보내실 때 함께 전해 드립니다."
REPLY_BY_CALLBACK = (
    "1분 안에 답변이 오면 바로 전해 드리고, 그보다 늦으면 다음에 메시지를 보내실 때 전해 드립니다."
)
WAITING = "상담사 연결을 기다리고 있습니다. 보내신 내용은 상담사에게 전달했습니다."
WAITING_POSITION = (
    "상담사 연결을 기다리고 있습니다 (대기 {position}번째). 보내신 내용은 상담사에게 전달했습니다."
)
FORWARDED = "상담사에게 전달했습니다."
AGENT_PREPARING = "상담사가 답변을 준비하고 있습니다."
WEB_CHAT_HINT = "답변을 바로 받아 보시려면 '웹 채팅으로 계속'을 눌러 주세요."
WEB_CHAT_LINK = (
    "아래 버튼을 누르면 이 상담이 웹 채팅으로 이어집니다. 상담사의 답변이 바로 보이고, "
    "카카오톡으로도 계속 보내실 수 있습니다. 이 링크는 본인만 사용해 주세요."
)
NO_QUEUE = "지금은 상담사 연결을 할 수 없습니다. 급한 일은 국번 없이 120으로 전화해 주세요."
CLOSED = (
    "지금은 상담 시간이 아닙니다. "
    "상담 시간에 다시 '상담사 연결'을 눌러 주시거나 120으로 전화해 주세요."
)
MORE_PENDING = "상담사의 답변이 {count}개 더 있습니다. 아무 메시지나 보내시면 이어서 보여 드립니다."

# What a citizen reads for each ticket status (the tracking page's words, same translations).
TICKET_STATUS_LABELS = {
    Ticket.Status.NEW: pgettext_lazy("status for citizens", "Received"),
    Ticket.Status.OPEN: pgettext_lazy("status for citizens", "In progress"),
    Ticket.Status.TRANSFERRED: pgettext_lazy("status for citizens", "Transferred to a department"),
    Ticket.Status.ANSWERED: pgettext_lazy("status for citizens", "Answered"),
    Ticket.Status.RESOLVED: pgettext_lazy("status for citizens", "Resolved"),
    Ticket.Status.CLOSED: pgettext_lazy("status for citizens", "Closed"),
}

TICKET_NUMBER = re.compile(r"120-\d{4}-\d{6}")
FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")
AGENT_WORDS = re.compile(r"^(상담(사|원)|사람)(연결|요|님|과|이랑|랑|바꿔.*|연결해.*|부탁.*)?$")
TRACK_WORDS = re.compile(r"처리현황|민원조회|접수번호|진행상황")
# The second-best article scoring within this share of the best makes the search unsure.
CLEAR_LEAD = 0.8
# Articles scoring under this share of KAKAO_BOT_MIN_SCORE_CENTS are not offered as choices.
CHOICE_FLOOR = 0.5
CHOICES = 3
MERGE_CHAIN_LIMIT = 10
# Agents' answers older than this are no longer brought to the citizen's next utterance.
PENDING_REPLIES_DAYS = 7


@dataclass
class _Turn:
    """One answer being made: outputs, quick replies, and the bot lines to store."""

    outputs: list[dict] = field(default_factory=list)
    quick_replies: list[dict] = field(default_factory=list)
    bot_lines: list[str] = field(default_factory=list)
    callback: bool = False  # the request has a callbackUrl
    wait_text: str = ""  # set: answer with useCallback and this text

    def say(self, text: str, *, output: dict | None = None) -> None:
        self.outputs.append(output or simple_text(text))
        self.bot_lines.append(text)


def _quick(*labels: str) -> list[dict]:
    return [quick_reply(label) for label in labels]


def _compact(text: str) -> str:
    return re.sub(r"[\s.,!?~^·]+", "", text)


# --- Entry point ------------------------------------------------------------------------------
def kakao_too_long_response() -> dict:
    """The answer to an utterance over KAKAO_UTTERANCE_MAX_CHARS (nothing is stored)."""
    text = TOO_LONG.format(limit=settings.KAKAO_UTTERANCE_MAX_CHARS)
    return skill_response([simple_text(text)], _quick(AGENT, ANOTHER))


def kakao_utterance_handle(
    *,
    user_key: str,
    utterance: str,
    callback_url: str = "",
    params: dict[str, str] | None = None,
    now: datetime | None = None,
) -> dict:
    """Store the utterance in the citizen's Kakao conversation and answer it: the skill
    response (``{"version": "2.0", …}``) to send back to Kakao."""
    now = now or timezone.now()
    params = params or {}
    if not kakao_callback_url_allowed(callback_url):
        callback_url = ""  # the sender would refuse it: the answer waits for the next message
    with translation.override("ko"), transaction.atomic():
        citizen = _citizen_locked(user_key)
        contact, conversation = _conversation_for(citizen, now)
        contact.citizen = citizen  # read along by the messages' payloads: no query each
        if utterance:
            message_create(contact=contact, sender=Message.Sender.CITIZEN, text=utterance)
        turn = _Turn(callback=bool(callback_url))
        with_agent = contact.queued_at is not None
        if (
            with_agent
            and contact.state == Contact.State.ACTIVE
            and (_compact(utterance) == _compact(WEB_CHAT))
        ):
            _web_chat(contact, citizen, turn, now)
        elif with_agent:
            _with_agent(contact, turn)
        else:
            _bot_turn(contact, conversation, turn, utterance=utterance, params=params)
        response = _finish(
            citizen,
            contact,
            conversation,
            turn,
            callback_url=callback_url,
            bot_turn=not with_agent,
            now=now,
        )
    return response


def _citizen_locked(user_key: str) -> Citizen:
    """The citizen behind the Kakao key, created at the first utterance, row locked: one
    user's requests are handled one after the other."""
    citizen = Citizen.objects.by_kakao_key(user_key).select_for_update().first()
    if citizen is not None:
        return citizen
    try:
        with transaction.atomic():
            citizen = citizen_find_or_create(kakao_user_key=user_key)
    except (IntegrityError, ValidationError):  # the same user's other request made it
        citizen = Citizen.objects.by_kakao_key(user_key).get()
    return Citizen.objects.select_for_update().get(pk=citizen.pk)


def _conversation_for(citizen: Citizen, now: datetime) -> tuple[Contact, KakaoConversation]:
    """The citizen's open Kakao conversation, or a new one. A bot-only conversation quiet
    for KAKAO_CONVERSATION_IDLE_SECONDS is over: it ends and a new one starts."""
    contact = (
        Contact.objects.filter(channel=Channel.KAKAO, citizen=citizen, ended_at__isnull=True)
        .select_related("kakao")
        .order_by("-id")
        .first()
    )
    if contact is not None:
        conversation = getattr(contact, "kakao", None) or KakaoConversation.objects.create(
            contact=contact
        )
        idle = timedelta(seconds=settings.KAKAO_CONVERSATION_IDLE_SECONDS)
        if contact.queued_at is not None or now - conversation.last_request_at < idle:
            return contact, conversation
        _bot_conversation_end(contact, at=conversation.last_request_at)
    contact, _created = contact_create(
        channel=Channel.KAKAO, citizen=citizen, language=citizen.preferred_language or "ko"
    )
    return contact, KakaoConversation.objects.create(contact=contact, last_request_at=now)


def _bot_conversation_end(contact: Contact, *, at: datetime) -> None:
    """A conversation the bot kept to the end: ended at its last request, not abandoned
    (nobody waited for an agent)."""
    ended = Contact.objects.filter(pk=contact.pk, ended_at__isnull=True, queued_at__isnull=True)
    if ended.update(ended_at=max(at, contact.created_at)):
        ContactEvent.objects.create(
            contact=contact, type=ContactEvent.Type.ENDED, data={"by": "bot"}
        )


def kakao_conversations_close_idle(*, now: datetime | None = None) -> int:
    """End bot-only Kakao conversations quiet for KAKAO_CONVERSATION_IDLE_SECONDS (for a
    periodic job; the next utterance of their citizen does it too). Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.KAKAO_CONVERSATION_IDLE_SECONDS)
    closed = 0
    for conversation in KakaoConversation.objects.filter(
        contact__ended_at__isnull=True,
        contact__queued_at__isnull=True,
        last_request_at__lt=cutoff,
    ).select_related("contact"):
        with transaction.atomic():
            _bot_conversation_end(conversation.contact, at=conversation.last_request_at)
            closed += 1
    return closed


# --- The bot ----------------------------------------------------------------------------------
def _bot_turn(
    contact: Contact,
    conversation: KakaoConversation,
    turn: _Turn,
    *,
    utterance: str,
    params: dict[str, str],
) -> None:
    said = _compact(utterance)
    if not said:
        turn.say(WELCOME)
        turn.quick_replies = _quick(TRACK, AGENT)
        return
    if said == _compact(AGENT) or AGENT_WORDS.match(said):
        _hand_over(contact, conversation, turn, reason="asked")
        return
    if said == _compact(HELPFUL):
        _helpful(contact)
        turn.say(THANKS)
        turn.quick_replies = _quick(ANOTHER, TRACK)
        return
    if said == _compact(ANOTHER):
        conversation.unanswered, conversation.choices = 0, []
        turn.say(ASK_ANOTHER)
        turn.quick_replies = _quick(TRACK, AGENT)
        return
    number = params.get("ticket_number") or _first(TICKET_NUMBER, utterance)
    if number or said == _compact(TRACK) or TRACK_WORDS.search(said):
        _ticket_status(contact, turn, number=number, utterance=utterance, params=params)
        return
    chosen = _chosen_article(conversation, utterance)
    if chosen is not None:
        _answer(contact, conversation, turn, chosen)
        return
    _search_answer(contact, conversation, turn, utterance)


def _first(pattern: re.Pattern, text: str) -> str:
    match = pattern.search(text)
    return match.group(0) if match else ""


def _chosen_article(conversation: KakaoConversation, utterance: str) -> Article | None:
    """The article a clarifying question offered whose title the citizen sent back."""
    if not conversation.choices:
        return None
    wanted = _compact(utterance)
    for article in Article.objects.filter(
        pk__in=conversation.choices, status=Article.Status.PUBLISHED
    ):
        if _compact(article.title) == wanted:
            return article
    return None


def _search_answer(
    contact: Contact, conversation: KakaoConversation, turn: _Turn, utterance: str
) -> None:
    query = utterance[:200]
    hits = article_search_hits(query=query, limit=CHOICES, staff=False)
    search_query_log(query=query, hits=hits, staff=False)
    results = [(hit.article, hit.score, hit.snippet) for hit in hits]
    # Far below the bar a match is chance (one shared word): not worth offering.
    floor = settings.KAKAO_BOT_MIN_SCORE_CENTS / 100 * CHOICE_FLOOR
    results = [result for result in results if result[1] >= floor]
    best_score = results[0][1] if results else 0.0
    second = results[1][1] if len(results) > 1 else 0.0
    # Sure: well above the bar (near-copies of one answer, such as each district's version
    # of it, score alike), or above it and clearly ahead of the next.
    confident = bool(results) and (
        best_score * 100 >= settings.KAKAO_BOT_SURE_SCORE_CENTS
        or (
            best_score * 100 >= settings.KAKAO_BOT_MIN_SCORE_CENTS
            and second < best_score * CLEAR_LEAD
        )
    )
    if confident:
        _answer(contact, conversation, turn, results[0][0])
        return
    conversation.unanswered += 1
    if conversation.unanswered >= settings.KAKAO_HANDOVER_AFTER_UNANSWERED:
        turn.say(HANDOVER_REPEATED)
        _hand_over(contact, conversation, turn, reason="unanswered")
        return
    # One choice per title: the district versions of an answer read the same as a choice.
    offered = list({_compact(a.title): a for a, _score, _snip in reversed(results)}.values())[::-1]
    if offered:
        conversation.choices = [article.pk for article in offered]
        turn.say(CLARIFY)
        turn.quick_replies = [quick_reply(article.title) for article in offered] + _quick(AGENT)
        return
    conversation.choices = []
    turn.say(NOT_FOUND)
    turn.quick_replies = _quick(AGENT, ANOTHER)


_MARKDOWN = [
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [label](url) → label
    (re.compile(r"(\*\*|__|`)"), ""),
    (re.compile(r"(?m)^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+"), ""),
]


def _plain(markdown: str) -> str:
    for pattern, replacement in _MARKDOWN:
        markdown = pattern.sub(replacement, markdown)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{3,}", "\n\n", markdown)).strip()


def article_public_url(article: Article) -> str:
    return settings.PUBLIC_BASE_URL + reverse("faq-article", args=[article.pk])


def _answer(
    contact: Contact, conversation: KakaoConversation, turn: _Turn, article: Article
) -> None:
    """The article as the answer: a card with the link to its FAQ page (a long answer comes
    first as text, the card then points to the whole page)."""
    answer = _plain(article.answer)
    button = web_link_button(MORE, article_public_url(article))
    if len(answer) <= MAX_CARD_DESCRIPTION:
        card = basic_card(title=article.title, description=answer, buttons=[button])
        turn.say(f"{article.title}\n{answer}\n{button['webLinkUrl']}", output=card)
    else:
        text = _cut(f"{article.title}\n\n{answer}", MAX_SIMPLE_TEXT)
        turn.say(text)
        card = basic_card(title=article.title, description=LONG_ANSWER_MORE, buttons=[button])
        turn.say(f"{LONG_ANSWER_MORE} {button['webLinkUrl']}", output=card)
    turn.quick_replies = _quick(*ANSWER_REPLIES)
    conversation.unanswered, conversation.choices = 0, []
    ContactEvent.objects.create(
        contact=contact, type=ContactEvent.Type.BOT_ANSWERED, data={"article": article.pk}
    )


def _helpful(contact: Contact) -> None:
    """ "도움이 되었어요" on the bot's last answer counts as the FAQ's "helpful", once."""
    event = (
        ContactEvent.objects.filter(contact=contact, type=ContactEvent.Type.BOT_ANSWERED)
        .order_by("-id")
        .first()
    )
    if event is None or event.data.get("helpful"):
        return
    article = Article.objects.filter(pk=event.data.get("article")).first()
    if article is None:
        return
    article_feedback(article=article, helpful=True)
    event.data = {**event.data, "helpful": True}
    event.save(update_fields=["data"])


# --- Ticket status ----------------------------------------------------------------------------
def _track_failures_key(contact: Contact) -> str:
    return f"kakao-track-failures:{contact.citizen_id}"


def _track_failures(contact: Contact, *, add: bool) -> int:
    """Wrong number/digits pairs this citizen tried this hour (0 when the cache is down:
    the lookup is let through, as the tracking page's limit does)."""
    key = _track_failures_key(contact)
    try:
        if add:
            cache.add(key, 0, timeout=3600)
            return cache.incr(key)
        return int(cache.get(key) or 0)
    except Exception:  # noqa: BLE001 - a limit must not take the bot down
        logger.warning("Kakao tracking limit not checked: the cache is unavailable")
        return 0


def _ticket_status(
    contact: Contact, turn: _Turn, *, number: str, utterance: str, params: dict[str, str]
) -> None:
    """The status of the ticket with this number filed with a phone ending in the four
    digits given; the same "not found" for a wrong number and wrong digits."""
    turn.quick_replies = _quick(ANOTHER, AGENT)
    if not number:
        turn.say(TRACK_HELP)
        return
    digits = params.get("phone_last4") or _first(FOUR_DIGITS, utterance.replace(number, " "))
    if not re.fullmatch(r"\d{4}", digits or ""):
        turn.say(TRACK_NEEDS_DIGITS.format(number=number))
        return
    if _track_failures(contact, add=False) >= settings.KAKAO_TRACK_FAILURES_PER_HOUR:
        turn.say(TRACK_LIMITED)
        return
    ticket = (
        Ticket.objects.filter(number=number, citizen__phone__endswith=digits)
        .exclude(citizen__phone="")
        .first()
    )
    if ticket is None:
        _track_failures(contact, add=True)
        turn.say(TRACK_NOT_FOUND)
        return
    current = ticket
    for _step in range(MERGE_CHAIN_LIMIT):  # merged tickets answer with the one they joined
        if current.merged_into_id is None:
            break
        current = Ticket.objects.get(pk=current.merged_into_id)
    turn.say(
        TRACK_FOUND.format(
            number=ticket.number,
            status=TICKET_STATUS_LABELS[current.status],
            subject=_cut(ticket.subject, 80),
            updated=timezone.localtime(current.updated_at).strftime("%Y-%m-%d"),
        )
    )


# --- Hand-over and agents ---------------------------------------------------------------------
def _hand_over(
    contact: Contact, conversation: KakaoConversation, turn: _Turn, *, reason: str
) -> None:
    """The conversation goes to the chat queue; its Messages (the bot's transcript) go with
    it. Closed or missing queue: the citizen is told, the bot keeps the conversation."""
    queue = queue_for_language(language=contact.language, channel=Channel.KAKAO)
    if queue is None:
        turn.say(NO_QUEUE)
        turn.quick_replies = _quick(ANOTHER)
        return
    if queue.calendar is not None and not queue.calendar.working_time().is_open(timezone.now()):
        turn.say(CLOSED)
        turn.quick_replies = _quick(ANOTHER)
        return
    contact_enqueue(contact=contact, queue=queue, announce=False)
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.HANDED_OVER,
        data={"queue": queue.code, "reason": reason},
    )
    conversation.unanswered, conversation.choices = 0, []
    place = queue_position(contact)
    queued = HANDOVER_QUEUED.format(position=place[0]) if place else HANDOVER_QUEUED_NO_POSITION
    if turn.callback:
        turn.wait_text = " ".join([*turn.bot_lines, queued, REPLY_BY_CALLBACK])
    turn.say(f"{queued} {REPLY_WHEN_NEXT}")


def _with_agent(contact: Contact, turn: _Turn) -> None:
    """The utterance went to the agent (stored above); the answer is honest about when the
    agent's reply can come. Agents' answers already waiting are added by ``_finish``."""
    if contact.state == Contact.State.WAITING:
        place = queue_position(contact)
        text = WAITING_POSITION.format(position=place[0]) if place else WAITING
        turn.say(f"{text} {REPLY_WHEN_NEXT}")
        if turn.callback:
            turn.wait_text = f"{text} {REPLY_BY_CALLBACK}"
    elif turn.callback:
        turn.wait_text = AGENT_PREPARING
        turn.say(AGENT_PREPARING)
    else:
        turn.say(f"{FORWARDED} {REPLY_WHEN_NEXT} {WEB_CHAT_HINT}")
        turn.quick_replies = _quick(WEB_CHAT)


def _web_chat(contact: Contact, citizen: Citizen, turn: _Turn, now: datetime) -> None:
    """The citizen chose to continue in the web chat (their tap is the consent): a link to
    the chat page carrying a new session's token in its fragment (never sent to a server,
    never stored in the transcript); the same conversation, live. Offered once an agent has
    it: a waiting chat without its page would leave the queue."""
    token = chat_session_continue(contact=contact)
    if not citizen.consent_privacy:
        citizen.consent_privacy, citizen.consented_at = True, now
        citizen.save(update_fields=["consent_privacy", "consented_at"])
    url = f"{settings.PUBLIC_BASE_URL}{reverse('chat')}#continue={token}"
    card = basic_card(
        title=WEB_CHAT,
        description=WEB_CHAT_LINK,
        buttons=[web_link_button("웹 채팅 열기", url)],
    )
    turn.say(WEB_CHAT_LINK, output=card)


def _pending_replies(citizen: Citizen, now: datetime) -> list[Message]:
    """Agents' (and the system's) lines of the citizen's handed-over Kakao conversations not
    yet brought to them: no delivery, and no callback on its way or sent."""
    callback = OutboundMessage.objects.filter(
        message=OuterRef("pk"), channel=OutboundMessage.Channel.KAKAO_CALLBACK
    ).exclude(status=OutboundMessage.Status.FAILED)
    return list(
        Message.objects.filter(
            contact__citizen=citizen,
            contact__channel=Channel.KAKAO,
            contact__queued_at__isnull=False,
            sender__in=[Message.Sender.AGENT, Message.Sender.SYSTEM],
            internal=False,
            delivered_at__isnull=True,
            created_at__gte=now - timedelta(days=PENDING_REPLIES_DAYS),
        )
        .exclude(Exists(callback))
        .order_by("id")[:50]
    )


def _message_text(message: Message) -> str:
    names = [item.get("name", "") for item in message.attachments if isinstance(item, dict)]
    files = f"\n[첨부 파일: {', '.join(n for n in names if n)}]" if names else ""
    return (message.text + files).strip() or "…"


def _finish(
    citizen: Citizen,
    contact: Contact,
    conversation: KakaoConversation,
    turn: _Turn,
    *,
    callback_url: str,
    bot_turn: bool,
    now: datetime,
) -> dict:
    """Store the bot's lines, bring waiting agents' answers, open the callback window when
    the answer is ``useCallback``; the response."""
    pending = _pending_replies(citizen, now)
    delivered: list[Message] = []
    if pending:
        # Agents' answers first, then the bot's answer to this utterance (none while an
        # agent has the conversation: the answers are the answer); at most 3 outputs, the
        # last one saying how many more wait.
        # A long answer keeps only its card (which links to the whole answer) to make room.
        own = turn.outputs[-1:] if bot_turn else []
        room = max(MAX_OUTPUTS - len(own), 1)
        if len(pending) > room:
            room = max(room - 1, 1)
        delivered = pending[:room]
        outputs = [simple_text(_message_text(m)) for m in delivered]
        if len(pending) > len(delivered):
            outputs.append(simple_text(MORE_PENDING.format(count=len(pending) - len(delivered))))
        turn.outputs = (outputs + own)[:MAX_OUTPUTS]
        if not bot_turn:
            turn.bot_lines = []
            # The next answers come with the next message too, unless the citizen moves on.
            active = contact.state == Contact.State.ACTIVE
            turn.quick_replies = _quick(WEB_CHAT) if active else []
        turn.wait_text = ""  # the answers are here: nothing to wait for
    if turn.wait_text:
        turn.bot_lines = [turn.wait_text]
    if turn.bot_lines:  # the turn's outputs as one message of the transcript
        message_create(contact=contact, sender=Message.Sender.BOT, text="\n\n".join(turn.bot_lines))
    Message.objects.filter(
        contact=contact, sender=Message.Sender.BOT, delivered_at__isnull=True
    ).update(delivered_at=now)
    if delivered:
        Message.objects.filter(pk__in=[m.pk for m in delivered]).update(delivered_at=now)
        _publish_deliveries(delivered, now)
    conversation.last_request_at = now
    fields = ["unanswered", "choices", "last_request_at"]
    if turn.wait_text and callback_url:
        conversation.callback_url = callback_url
        conversation.callback_received_at = now
        conversation.callback_used_at = None
        fields += ["callback_url", "callback_received_at", "callback_used_at"]
    conversation.save(update_fields=fields)
    if turn.wait_text and callback_url:
        return callback_wait_response(turn.wait_text)
    return skill_response(turn.outputs, turn.quick_replies)


def _publish_deliveries(messages: list[Message], now: datetime) -> None:
    """Tell the consoles the agents' answers reached the citizen (replies.delivery_publish,
    the messaging channels' one way of saying so)."""
    for message in messages:
        message.delivered_at = now
        delivery_publish(message)


def kakao_reply_deliver(message: Message) -> None:
    """An agent's non-internal message on a Kakao conversation, just stored: sent through
    the latest callbackUrl while its window is open (once), else it waits for the citizen's
    next utterance (``_finish``). Runs in the transaction that stored the message."""
    conversation = (
        KakaoConversation.objects.select_for_update().filter(contact_id=message.contact_id).first()
    )
    now = timezone.now()
    if conversation is None or not conversation.callback_open(
        now, settings.KAKAO_CALLBACK_WINDOW_SECONDS
    ):
        return
    # System lines since the last delivery (the agent joined) ride along before the answer.
    carried = list(
        Message.objects.filter(
            contact_id=message.contact_id,
            sender=Message.Sender.SYSTEM,
            internal=False,
            delivered_at__isnull=True,
            pk__lt=message.pk,
        ).order_by("-id")[: MAX_OUTPUTS - 1]
    )[::-1]
    outputs = [simple_text(_message_text(m)) for m in [*carried, message]]
    body = skill_response(outputs)
    conversation.callback_used_at = now
    conversation.save(update_fields=["callback_used_at"])
    outbox_enqueue(
        channel=OutboundMessage.Channel.KAKAO_CALLBACK,
        to=conversation.callback_url,
        body=json.dumps(body, ensure_ascii=False),
        idempotency_key=f"kakao-callback-{message.pk}",
        contact=message.contact,
        message=message,
    )
    if carried:
        Message.objects.filter(pk__in=[m.pk for m in carried]).update(delivered_at=now)
