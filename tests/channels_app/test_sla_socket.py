"""SLA warnings and breaches reach the assignee's console and supervisors over /ws/agent/."""

from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from channels_app.ticker import sla_tick
from tests.channels_app.conftest import agent_socket, receive_until
from tickets.models import BusinessCalendar, SlaAlert, SlaPolicy, Ticket
from tickets.services import category_get_or_create_path, sla_check, ticket_create, ticket_update
from tickets.sla import SEOUL

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def pothole_for(assignee, created_at: datetime) -> Ticket:
    """A pothole report assigned to ``assignee``: first response within an hour."""
    category = category_get_or_create_path(path="도로/포트홀")
    SlaPolicy.objects.get_or_create(
        name="도로",
        category=category,
        calendar=BusinessCalendar.objects.get_or_create(name="평일 업무시간")[0],
        first_response_minutes=60,
        resolution_minutes=3 * 60,
    )
    ticket = ticket_create(
        subject="포트홀 신고", channel="voice", category=category, created_at=created_at
    )
    return ticket_update(ticket=ticket, actor=assignee, assignee=assignee)


async def connected(user):
    communicator = await agent_socket(user)
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator


async def next_notice(communicator) -> dict:
    notice, _ = await receive_until(communicator, "ticket.notice")
    return notice


async def test_the_assignee_and_a_supervisor_hear_the_warning_then_the_breach(
    agent_user, other_agent_user, supervisor_user
):
    ticket = await pothole_for(agent_user, datetime(2026, 11, 23, 9, tzinfo=SEOUL))
    assignee = await connected(agent_user)
    supervisor = await connected(supervisor_user)
    bystander = await connected(other_agent_user)

    await database_sync_to_async(sla_check)(now=datetime(2026, 11, 23, 9, 48, tzinfo=SEOUL))
    for communicator in (assignee, supervisor):
        notice = await next_notice(communicator)
        assert (notice["kind"], notice["ticket"]["number"]) == ("sla_warning", ticket.number)
        assert notice["ticket"]["assignee_id"] == agent_user.pk
        assert ticket.number in notice["message"]

    await database_sync_to_async(sla_check)(now=datetime(2026, 11, 23, 10, tzinfo=SEOUL))
    for communicator in (assignee, supervisor):
        notice = await next_notice(communicator)
        assert (notice["kind"], notice["ticket"]["id"]) == ("sla_breached", ticket.pk)

    assert await bystander.receive_nothing(timeout=0.3)
    for communicator in (assignee, supervisor, bystander):
        await communicator.disconnect()


async def test_a_check_run_twice_notifies_once(agent_user):
    await pothole_for(agent_user, datetime(2026, 11, 23, 9, tzinfo=SEOUL))
    assignee = await connected(agent_user)
    check_at = datetime(2026, 11, 23, 10, 30, tzinfo=SEOUL)
    await database_sync_to_async(sla_check)(now=check_at)
    assert (await next_notice(assignee))["kind"] == "sla_breached"
    await database_sync_to_async(sla_check)(now=check_at)
    assert await assignee.receive_nothing(timeout=0.3)
    await assignee.disconnect()


async def test_the_router_loop_checks_the_sla_clocks_once_per_sla_check_seconds(agent_user):
    ticket = await pothole_for(agent_user, timezone.now() - timedelta(days=7))
    assignee = await connected(agent_user)

    assert await sla_tick()  # this period's turn: checked
    kinds = {(await next_notice(assignee))["kind"] for _ in range(2)}
    assert kinds == {"sla_breached"}
    assert await database_sync_to_async(ticket.sla_alerts.count)() == 2

    await database_sync_to_async(SlaAlert.objects.all().delete)()
    assert not await sla_tick()  # the period's turn is taken (by any process): no check
    assert await assignee.receive_nothing(timeout=0.3)
    assert not await database_sync_to_async(SlaAlert.objects.exists)()
    await assignee.disconnect()
