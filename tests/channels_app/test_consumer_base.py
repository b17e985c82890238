"""Bad frames get an error frame naming the refused message; the socket stays open."""

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from django.core.exceptions import ValidationError
from django.test import Client

from callcenter.models import Contact, Message, Skill
from callcenter.services.messages import message_create
from tests.channels_app.conftest import agent_socket, citizen_socket
from tests.factories import QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat_queue(db):
    queue = QueueFactory(code="chat", name="채팅", channels=["webchat"])
    queue.required_skills.set([SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)])
    return queue


@sync_to_async
def start_chat() -> dict:
    response = Client().post(
        "/chat/start",
        {"name": "홍길동", "phone": "010-1234-5678", "language": "ko", "consent": "on"},
    )
    assert response.status_code == 201, response.content
    return response.json()


@sync_to_async
def stored_citizen_texts() -> list[str]:
    return list(Message.objects.filter(sender="citizen").values_list("text", flat=True))


async def open_chat():
    citizen = await citizen_socket((await start_chat())["token"])
    assert (await citizen.receive_json_from(timeout=5))["type"] == "hello"
    return citizen


async def still_open(socket) -> bool:
    await socket.send_json_to({"type": "ping", "id": 7})
    return await socket.receive_json_from(timeout=5) == {"type": "pong", "id": 7}


async def test_a_nul_byte_in_a_message_is_refused_and_the_socket_stays_open(chat_queue):
    citizen = await open_chat()
    await citizen.send_json_to({"type": "message.send", "text": "등본\x00", "client_id": "c1"})
    error = await citizen.receive_json_from(timeout=5)
    assert (error["type"], error["code"], error["client_id"]) == ("error", "invalid_text", "c1")
    assert await still_open(citizen)
    assert await stored_citizen_texts() == []
    await citizen.send_json_to({"type": "message.send", "text": "등본", "client_id": "c2"})
    echo = await citizen.receive_json_from(timeout=5)
    assert echo["message"]["client_id"] == "c2"
    await citizen.disconnect()


async def test_other_control_characters_are_refused_but_tabs_and_line_breaks_pass(chat_queue):
    citizen = await open_chat()
    await citizen.send_json_to({"type": "message.send", "text": "a\x1bb", "client_id": "c1"})
    assert (await citizen.receive_json_from(timeout=5))["code"] == "invalid_text"
    await citizen.send_json_to({"type": "message.send", "text": "a\tb\r\nc", "client_id": "c2"})
    echo = await citizen.receive_json_from(timeout=5)
    assert echo["message"]["text"] == "a\tb\r\nc"
    await citizen.disconnect()


async def test_a_deeply_nested_frame_is_an_error_not_a_crash(chat_queue):
    citizen = await open_chat()
    frame = '{"type": "message.send", "text": ' + "[" * 5000 + "]" * 5000 + "}"
    assert len(frame) > 10_000
    await citizen.send_to(text_data=frame)
    error = await citizen.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "invalid_json")
    assert await still_open(citizen)
    await citizen.disconnect()


async def test_a_frame_nested_past_the_limit_is_refused_before_any_handler(chat_queue):
    citizen = await open_chat()
    nested = "x"
    for _ in range(20):
        nested = [nested]
    await citizen.send_to(
        text_data=json.dumps({"type": "message.send", "text": "hi", "client_id": "c1", "x": nested})
    )
    error = await citizen.receive_json_from(timeout=5)
    assert (error["code"], error["client_id"]) == ("invalid_frame", "c1")
    assert await stored_citizen_texts() == []
    assert await still_open(citizen)
    await citizen.disconnect()


async def test_a_message_the_service_refuses_names_its_client_id(chat_queue):
    citizen = await open_chat()
    await citizen.send_json_to({"type": "message.send", "text": "가" * 4001, "client_id": "long"})
    error = await citizen.receive_json_from(timeout=5)
    assert (error["code"], error["client_id"]) == ("refused", "long")
    await citizen.disconnect()


async def test_staff_sockets_refuse_control_characters_too(agent_user):
    agent = await agent_socket(agent_user)
    await agent.receive_json_from(timeout=5)  # hello
    await agent.send_json_to(
        {"type": "message.send", "contact_id": 1, "text": "\x00", "client_id": "s1"}
    )
    error = await agent.receive_json_from(timeout=5)
    assert (error["code"], error["client_id"]) == ("invalid_text", "s1")
    assert await still_open(agent)
    await agent.disconnect()


@pytest.mark.postgres
async def test_on_postgresql_a_nul_message_is_refused_and_nothing_is_stored(chat_queue):
    citizen = await open_chat()
    await citizen.send_json_to({"type": "message.send", "text": "\x00", "client_id": "c1"})
    assert (await citizen.receive_json_from(timeout=5))["code"] == "invalid_text"
    assert await still_open(citizen)
    assert await stored_citizen_texts() == []
    await citizen.disconnect()


@pytest.mark.postgres
def test_on_postgresql_the_message_service_refuses_nul_from_any_channel(chat_queue):
    Client().post(
        "/chat/start",
        {"name": "홍길동", "phone": "010-1234-5678", "language": "ko", "consent": "on"},
    )
    contact = Contact.objects.get()
    with pytest.raises(ValidationError):
        message_create(contact=contact, sender="citizen", text="문자\x00메시지")
    assert not Message.objects.filter(sender="citizen").exists()
