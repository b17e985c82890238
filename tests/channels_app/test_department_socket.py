"""Live ticket notices between the centre and departments, through the real ASGI app."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from callcenter.asgi import application
from tests.channels_app.conftest import ORIGIN, agent_socket, receive_until, session_cookie_for
from tickets.models import Ticket
from tickets.services import (
    category_get_or_create_path,
    ticket_create,
    ticket_department_answer,
    ticket_department_return,
    ticket_department_transfer,
    ticket_info_provide,
    ticket_info_request,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def department_socket(user=None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/department/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@database_sync_to_async
def open_ticket(*, citizen, assignee) -> Ticket:
    ticket = ticket_create(
        subject="도로 파손 신고",
        channel="sms",
        citizen=citizen,
        category=category_get_or_create_path(path="도로/도로 파손"),
    )
    ticket.status = Ticket.Status.OPEN
    ticket.assignee = assignee
    ticket.save(update_fields=["status", "assignee"])
    return ticket


@database_sync_to_async
def transfer(ticket: Ticket, officer_user, actor) -> Ticket:
    return ticket_department_transfer(
        ticket=ticket, department=officer_user.officer.department, actor=actor, note="확인 요청"
    )


async def test_an_officer_hears_of_a_ticket_transferred_to_the_department(
    officer_user, agent_user, citizen
):
    socket = await department_socket(officer_user)
    hello = await socket.receive_json_from(timeout=5)
    assert hello["type"] == "hello" and hello["department"]["name"] == "도로관리과"
    ticket = await open_ticket(citizen=citizen, assignee=agent_user)
    await transfer(ticket, officer_user, agent_user)
    notice = await socket.receive_json_from(timeout=5)
    assert (notice["type"], notice["kind"]) == ("ticket.notice", "transferred")
    assert notice["ticket"]["number"] == ticket.number
    assert notice["ticket"]["department"] == "도로관리과"
    assert "확인 요청" in notice["message"]
    await socket.disconnect()


async def test_an_officer_of_another_department_hears_nothing(
    officer_user, other_officer_user, agent_user, citizen
):
    socket = await department_socket(other_officer_user)
    await socket.receive_json_from(timeout=5)  # hello
    ticket = await open_ticket(citizen=citizen, assignee=agent_user)
    await transfer(ticket, officer_user, agent_user)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_the_department_hears_the_centres_reply_to_its_question(
    officer_user, agent_user, citizen
):
    ticket = await open_ticket(citizen=citizen, assignee=agent_user)
    await transfer(ticket, officer_user, agent_user)
    await database_sync_to_async(ticket_info_request)(
        ticket=ticket, officer_user=officer_user, question="번지는?"
    )
    socket = await department_socket(officer_user)
    await socket.receive_json_from(timeout=5)  # hello
    await database_sync_to_async(ticket_info_provide)(
        ticket=ticket, actor=agent_user, text="시청로 12"
    )
    notice = await socket.receive_json_from(timeout=5)
    assert notice["kind"] == "info_provided" and "시청로 12" in notice["message"]
    await socket.disconnect()


@pytest.mark.parametrize(
    "step,kind",
    [
        (
            lambda ticket, officer: ticket_department_answer(
                ticket=ticket, officer_user=officer, answer="내일 보수합니다."
            ),
            "department_answered",
        ),
        (
            lambda ticket, officer: ticket_info_request(
                ticket=ticket, officer_user=officer, question="번지는?"
            ),
            "info_requested",
        ),
        (
            lambda ticket, officer: ticket_department_return(
                ticket=ticket, officer_user=officer, reason="구청 소관"
            ),
            "returned",
        ),
    ],
)
async def test_the_assignee_and_supervisors_hear_the_departments_step(
    officer_user, agent_user, supervisor_user, citizen, step, kind
):
    ticket = await open_ticket(citizen=citizen, assignee=agent_user)
    await transfer(ticket, officer_user, agent_user)
    agent = await agent_socket(agent_user)
    supervisor = await agent_socket(supervisor_user)
    await agent.receive_json_from(timeout=5)  # hello
    await supervisor.receive_json_from(timeout=5)  # hello

    await database_sync_to_async(step)(ticket, officer_user)

    for socket in (agent, supervisor):
        notice, _seen = await receive_until(socket, "ticket.notice")
        assert notice["kind"] == kind
        assert notice["ticket"]["id"] == ticket.pk
        assert notice["ticket"]["url"] == f"/tickets/{ticket.pk}/"
        await socket.disconnect()


async def test_another_agent_does_not_hear_of_a_ticket_that_is_not_theirs(
    officer_user, agent_user, other_agent_user, citizen
):
    ticket = await open_ticket(citizen=citizen, assignee=agent_user)
    await transfer(ticket, officer_user, agent_user)
    other = await agent_socket(other_agent_user)
    await other.receive_json_from(timeout=5)  # hello
    await database_sync_to_async(ticket_info_request)(
        ticket=ticket, officer_user=officer_user, question="번지는?"
    )
    assert await other.receive_nothing(timeout=0.5)
    await other.disconnect()


async def assert_refused(socket: WebsocketCommunicator) -> None:
    error = await socket.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "forbidden")
    closed = await socket.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)


async def test_an_agent_cannot_open_the_department_socket(agent_user):
    await assert_refused(await department_socket(agent_user))


async def test_a_supervisor_cannot_open_the_department_socket(supervisor_user):
    await assert_refused(await department_socket(supervisor_user))


async def test_anonymous_department_sockets_are_refused():
    await assert_refused(await department_socket(None))


async def test_the_department_socket_answers_pings(officer_user):
    socket = await department_socket(officer_user)
    await socket.receive_json_from(timeout=5)  # hello
    await socket.send_json_to({"type": "ping", "id": 7})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong", "id": 7}
    await socket.disconnect()
