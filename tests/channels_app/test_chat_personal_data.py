"""A registration number typed into the chat is masked before anything is stored or sent.

Checked where it would land: the message rows and frames, the suggestions frame, the ticket
built from the conversation, the call-back note, the transcript by SMS (outbox),
the FAQ search log, the log output, and finally the raw database itself.
"""

import io
import logging

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from django.db import connection
from django.test import Client

from callcenter.models import CallbackRequest, Message, Skill
from callcenter.pii import PersonalDataLogFilter
from channels_app.models import OutboundMessage
from knowledge.models import SearchQueryLog
from tests.channels_app.conftest import agent_socket, citizen_socket, receive_until
from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tickets.models import Ticket, TicketEvent
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db(transaction=True)

# Real-looking numbers (valid check digits); what must never be stored is their second half.
CITIZEN_RRN = "900101-1734525"
FOREIGNER_RRN_FULL_WIDTH = "９０１２３１－５１２３４５７"
SECRETS = ["1734525", "734525", "5123457", "１２３４５７", "123457"]


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def centre(db):
    korean = SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)
    chat = QueueFactory(code="chat", name="채팅", channels=["webchat", "kakao"])
    chat.required_skills.set([korean])
    minji = AgentFactory(user__username="minji", display_name="김민지", skills=[korean])
    category = category_get_or_create_path(path="일반행정/민원서류")
    from knowledge.services import article_save

    article_save(
        title="주민등록등본 발급 방법",
        question="등본 떼려면 어디로 가야 하나요?",
        answer="정부24에서 무료로 발급받을 수 있습니다.",
        synonyms=["등본"],
        status="published",
        author=None,
    )
    return {"minji": minji, "category": category}


@pytest.fixture
def log_output():
    """What the configured (masked) console handler writes during the test."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataLogFilter) for f in handler.filters)
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    yield stream
    console.setStream(previous)


@sync_to_async
def start_chat() -> dict:
    response = Client().post(
        "/chat/start",
        {"name": "홍길동", "phone": "010-1234-5678", "language": "ko", "consent": "on"},
    )
    assert response.status_code == 201, response.content
    return response.json()


async def connected_chat(centre):
    agent = await agent_socket(centre["minji"].user)
    await agent.receive_json_from(timeout=5)
    started = await start_chat()
    citizen = await citizen_socket(started["token"])
    await citizen.receive_json_from(timeout=5)
    await agent.send_json_to({"type": "presence.set", "presence": "available"})
    offer, _ = await receive_until(agent, "offer.created")
    await agent.send_json_to({"type": "offer.accept", "offer_id": offer["offer"]["id"]})
    await receive_until(agent, "contact.assigned")
    await receive_until(citizen, "chat.state")
    return started["contact_id"], agent, citizen


async def citizen_says(agent, citizen, text: str) -> dict:
    await citizen.send_json_to({"type": "message.send", "text": text})
    frame, _ = await receive_until(agent, "message.created")
    while frame["message"]["sender"] != "citizen":
        frame, _ = await receive_until(agent, "message.created")
    return frame


@sync_to_async
def agent_saves_ticket(user, contact_id: int, category) -> tuple[str, int]:
    client = Client()
    client.force_login(user)
    panel = client.get(f"/agent/contacts/{contact_id}/panel/").content.decode()
    response = client.post(
        f"/agent/contacts/{contact_id}/ticket/",
        {
            "category": category.pk,
            "subject": f"등본 발급 (주민번호 {CITIZEN_RRN})",
            "description": f"불러준 번호 {CITIZEN_RRN}, 배우자 {FOREIGNER_RRN_FULL_WIDTH}",
            "answer": f"{CITIZEN_RRN} 본인 확인 후 정부24 안내",
            "outcome": "resolve",
            "callback": "on",
            "callback_phone": "010-2222-3333",
        },
    )
    return panel, response.status_code


@sync_to_async
def search_faq() -> None:
    Client().get("/faq/", {"q": f"주민번호 {CITIZEN_RRN} 등본"})
    Client().get("/api/knowledge/search", {"q": f"등본 {FOREIGNER_RRN_FULL_WIDTH}"})


@sync_to_async
def stored_texts() -> dict[str, list[str]]:
    return {
        "messages": list(Message.objects.values_list("text", flat=True)),
        "tickets": [f"{t.subject}\n{t.description}\n{t.answer}" for t in Ticket.objects.all()],
        "ticket events": [str(e.data) for e in TicketEvent.objects.all()],
        "call-backs": list(CallbackRequest.objects.values_list("note", flat=True)),
        "outbox": list(OutboundMessage.objects.values_list("body", flat=True)),
        "search log": list(SearchQueryLog.objects.values_list("query", flat=True)),
    }


@sync_to_async
def raw_database_rows() -> str:
    """Every row of every table, read with plain SQL (what a dump or export would hold)."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump += [repr(row) for row in cursor.fetchall()]
    return "\n".join(dump)


def database_file_bytes() -> bytes:
    """On SQLite, the bytes of the database files themselves (free pages included)."""
    name = str(connection.settings_dict["NAME"])
    data = b""
    for suffix in ("", "-wal", "-journal"):
        try:
            with open(name + suffix, "rb") as db_file:
                data += db_file.read()
        except FileNotFoundError:
            continue
    return data


async def test_a_registration_number_in_a_chat_is_stored_and_sent_only_masked(
    centre, log_output, settings
):
    settings.MESSAGING_BACKEND = "console"  # the console backend logs every SMS body
    settings.KNOWLEDGE_SUGGEST_DELAY_SECONDS = 0.1
    contact_id, agent, citizen = await connected_chat(centre)
    await agent.send_json_to({"type": "console.view", "contact_id": contact_id})

    frame = await citizen_says(agent, citizen, f"제 주민번호는 {CITIZEN_RRN}이에요. 등본 떼려면요?")
    assert frame["message"]["text"] == "제 주민번호는 900101-1******이에요. 등본 떼려면요?"
    suggestions, _ = await receive_until(agent, "knowledge.suggestions")
    assert "900101-1******" in suggestions["query"] and not leaks(suggestions["query"])
    frame = await citizen_says(agent, citizen, f"외국인등록번호 {FOREIGNER_RRN_FULL_WIDTH}")
    assert frame["message"]["text"] == "외국인등록번호 901231-5******"

    panel, status = await agent_saves_ticket(centre["minji"].user, contact_id, centre["category"])
    assert status == 200
    assert "900101-1******" in panel and not leaks(panel)  # the pre-filled inquiry

    await agent.send_json_to({"type": "contact.end", "contact_id": contact_id})
    await receive_until(citizen, "chat.ended")
    await citizen.send_json_to({"type": "transcript.request", "phone": "010-5555-6666"})
    await receive_until(citizen, "transcript.sent")
    await search_faq()
    await agent.disconnect()
    await citizen.disconnect()

    stored = await stored_texts()
    assert all(stored.values()), stored  # every place was written to
    for place, texts in stored.items():
        assert not leaks("\n".join(texts)), (place, texts)
    assert "900101-1******" in stored["messages"][-1] or any(
        "900101-1******" in text for text in stored["messages"]
    )
    transcript = "\n".join(stored["outbox"])
    assert "900101-1******" in transcript and "901231-5******" in transcript
    assert "901231-5******" in "\n".join(stored["search log"])
    assert "900101-1******" in log_output.getvalue() and not leaks(log_output.getvalue())

    rows = await raw_database_rows()
    assert "900101-1******" in rows and not leaks(rows)
    if connection.vendor == "sqlite":
        raw = database_file_bytes()
        assert b"900101-1******" in raw
        assert not [secret for secret in SECRETS if secret.encode() in raw]
