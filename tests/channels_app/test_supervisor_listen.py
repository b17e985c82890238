"""A supervisor listens silently, joins explicitly (once), and whispers to the agent."""

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection

from callcenter.models import ContactEvent, Message
from callcenter.services.conversations import conversation_messages
from tests.channels_app.conftest import agent_socket, receive_until
from tests.channels_app.test_chat_flow import centre, connected_chat  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def system_lines(contact_id: int) -> list[str]:
    return list(
        Message.objects.filter(contact_id=contact_id, sender=Message.Sender.SYSTEM)
        .order_by("id")
        .values_list("text", flat=True)
    )


@sync_to_async
def join_events(contact_id: int) -> int:
    return ContactEvent.objects.filter(contact_id=contact_id, type=ContactEvent.Type.JOINED).count()


async def supervisor_listening(user, contact_id: int):
    socket = await agent_socket(user)
    await receive_until(socket, "hello")
    await socket.send_json_to({"type": "contact.listen", "contact_id": contact_id})
    listening, _ = await receive_until(socket, "contact.listening")
    return socket, listening


async def test_listening_is_silent_yet_hears_the_conversation(centre, supervisor_user):  # noqa: F811
    contact_id, agent, citizen = await connected_chat(centre)
    lines_before = await system_lines(contact_id)

    supervisor, listening = await supervisor_listening(supervisor_user, contact_id)

    assert (listening["contact"]["id"], listening["joined"]) == (contact_id, False)
    assert await system_lines(contact_id) == lines_before
    assert await join_events(contact_id) == 0
    assert await citizen.receive_nothing(timeout=0.3)
    await citizen.send_json_to({"type": "message.send", "text": "여보세요", "client_id": "c1"})
    heard, _ = await receive_until(supervisor, "message.created")
    assert heard["message"]["text"] == "여보세요"
    for socket in (supervisor, agent, citizen):
        await socket.disconnect()


async def test_joining_posts_one_line_however_often_the_page_reconnects(
    centre,  # noqa: F811
    supervisor_user,
):
    contact_id, agent, citizen = await connected_chat(centre)
    lines_before = await system_lines(contact_id)

    first, _ = await supervisor_listening(supervisor_user, contact_id)
    await first.send_json_to({"type": "contact.join", "contact_id": contact_id})
    joined, _ = await receive_until(first, "contact.assigned")
    await first.send_json_to({"type": "contact.join", "contact_id": contact_id})
    await receive_until(first, "contact.assigned")
    await first.disconnect()
    again, listening = await supervisor_listening(supervisor_user, contact_id)  # a reconnect
    await again.send_json_to({"type": "contact.join", "contact_id": contact_id})
    await receive_until(again, "contact.assigned")

    assert joined["joined"] is True
    assert listening["joined"] is True
    new_lines = (await system_lines(contact_id))[len(lines_before) :]
    assert new_lines == ["관리자 박소라님이 상담에 참여했습니다."]
    assert await join_events(contact_id) == 1
    for socket in (again, agent, citizen):
        await socket.disconnect()


async def test_a_whisper_reaches_the_agent_only(centre, supervisor_user):  # noqa: F811
    contact_id, agent, citizen = await connected_chat(centre)
    supervisor, _ = await supervisor_listening(supervisor_user, contact_id)

    await supervisor.send_json_to(
        {"type": "whisper", "contact_id": contact_id, "text": "주소 먼저 확인하세요"}
    )

    whisper, _ = await receive_until(agent, "message.created")
    assert whisper["message"]["sender"] == "supervisor"
    assert whisper["message"]["internal"] is True
    assert whisper["message"]["sender_name"] == "박소라"
    assert await citizen.receive_nothing(timeout=0.3)
    transcript = await sync_to_async(conversation_messages)(
        await sync_to_async(lambda: centre["minji"].contacts.get(pk=contact_id))(),
        include_internal=False,
    )
    assert "주소 먼저 확인하세요" not in [m["text"] for m in transcript]
    for socket in (supervisor, agent, citizen):
        await socket.disconnect()


async def test_a_listening_supervisor_must_join_before_writing_to_the_citizen(
    centre,  # noqa: F811
    supervisor_user,
):
    contact_id, agent, citizen = await connected_chat(centre)
    supervisor, _ = await supervisor_listening(supervisor_user, contact_id)

    await supervisor.send_json_to(
        {"type": "message.send", "contact_id": contact_id, "text": "안녕하세요"}
    )

    error, _ = await receive_until(supervisor, "error")
    assert error["code"] == "refused"
    assert await citizen.receive_nothing(timeout=0.3)
    for socket in (supervisor, agent, citizen):
        await socket.disconnect()


async def test_agents_cannot_listen_or_whisper(centre):  # noqa: F811
    contact_id, agent, citizen = await connected_chat(centre)
    for frame in (
        {"type": "contact.listen", "contact_id": contact_id},
        {"type": "whisper", "contact_id": contact_id, "text": "x"},
    ):
        await agent.send_json_to(frame)
        error, _ = await receive_until(agent, "error")
        assert error["code"] == "supervisors_only"
    await agent.disconnect()
    await citizen.disconnect()
