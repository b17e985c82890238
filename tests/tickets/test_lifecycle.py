"""A ticket's life: assignment, notes, reopen, close, merge and supervisors' bulk changes."""

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests import factories
from tests.channels_app.conftest import agent_socket, fresh_layers, receive_until  # noqa: F401
from tickets.models import Ticket, TicketAttachment, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    ticket_assign,
    ticket_attachment_add,
    ticket_close,
    ticket_comment,
    ticket_create,
    ticket_merge,
    ticket_reopen,
    ticket_resolve,
    tickets_bulk_update,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def in_english():
    """Refusals are matched by their English text, whatever the translations say."""
    with translation.override("en"):
        yield


def open_ticket(**kwargs) -> Ticket:
    kwargs.setdefault("subject", "불법주차 신고")
    kwargs.setdefault("channel", "voice")
    return ticket_create(**kwargs)


def event_types(ticket: Ticket) -> list[str]:
    return list(ticket.events.values_list("type", flat=True))


@pytest.mark.django_db
def test_assigning_a_new_ticket_opens_it_and_records_who_gave_it_to_whom(
    supervisor_user, agent_user
):
    ticket = open_ticket()
    ticket_assign(ticket=ticket, assignee=agent_user, actor=supervisor_user)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Ticket.Status.OPEN, agent_user)
    assigned = ticket.events.get(type=TicketEvent.Type.ASSIGNED)
    assert assigned.actor == supervisor_user
    assert (assigned.data["to"], assigned.data["to_name"]) == (
        agent_user.pk,
        agent_user.display_name,
    )
    assert ticket.events.filter(
        type=TicketEvent.Type.STATUS_CHANGED, data__to="open", public=False
    ).exists()


@pytest.mark.django_db
def test_tickets_are_assigned_only_to_centre_staff_and_only_while_active(
    supervisor_user, officer_user, agent_user
):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="agents and supervisors"):
        ticket_assign(ticket=ticket, assignee=officer_user, actor=supervisor_user)
    ticket_resolve(ticket=ticket, actor=agent_user, answer="견인 조치했습니다.")
    with pytest.raises(ValueError, match="active"):
        ticket_assign(ticket=ticket, assignee=agent_user, actor=supervisor_user)
    assert not ticket.events.filter(type=TicketEvent.Type.ASSIGNED).exists()


@pytest.mark.django_db
def test_reopening_a_resolved_ticket_clears_its_resolution_but_keeps_the_answer(agent_user):
    ticket = open_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="견인 조치했습니다.")
    ticket_reopen(ticket=ticket, actor=agent_user, reason="차량이 다시 세워져 있음")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == ("open", None, None)
    assert ticket.answer == "견인 조치했습니다."
    reopened = ticket.events.get(type=TicketEvent.Type.REOPENED)
    assert (reopened.data["from"], reopened.data["reason"]) == (
        "resolved",
        "차량이 다시 세워져 있음",
    )


@pytest.mark.django_db
def test_a_reopened_ticket_gets_the_full_resolution_target_again_from_the_reopening(
    agent_user,
):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tickets.models import BusinessCalendar, SlaPolicy

    seoul = ZoneInfo("Asia/Seoul")
    calendar = BusinessCalendar.objects.create(name="시청")
    SlaPolicy.objects.create(
        name="기본", calendar=calendar, first_response_minutes=60, resolution_minutes=540
    )
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=seoul)
    ticket = open_ticket(created_at=monday)
    assert ticket.resolution_due == datetime(2026, 11, 17, 10, 0, tzinfo=seoul)
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함", at=monday)
    reopened_at = datetime(2026, 11, 26, 17, 0, tzinfo=seoul)  # a Thursday, long past due
    ticket_reopen(ticket=ticket, actor=agent_user, reason="다시 문의", at=reopened_at)
    ticket.refresh_from_db()
    # 9 working hours from Thursday 17:00: 1 h on Thursday, 8 h on Friday → Friday 17:00.
    assert ticket.resolution_due == reopened_at + timedelta(days=1)


@pytest.mark.django_db
def test_a_resolved_or_merged_ticket_is_not_resolved_again(agent_user):
    ticket = open_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="견인 조치했습니다.")
    with pytest.raises(ValueError, match="reopen it first"):
        ticket_resolve(ticket=ticket, actor=agent_user, answer="다른 답변")
    ticket.refresh_from_db()
    assert ticket.answer == "견인 조치했습니다."
    assert ticket.events.filter(type=TicketEvent.Type.ANSWERED).count() == 1


@pytest.mark.django_db
def test_a_closed_ticket_can_be_reopened_too(agent_user, supervisor_user):
    ticket = open_ticket()
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    ticket_close(ticket=ticket, actor=agent_user)
    ticket_reopen(ticket=ticket, actor=supervisor_user, reason="시민 재문의")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.closed_at is None


@pytest.mark.django_db
def test_only_finished_tickets_are_reopened_and_only_with_a_reason(agent_user):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="resolved or closed"):
        ticket_reopen(ticket=ticket, actor=agent_user, reason="왜?")
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    with pytest.raises(ValueError, match="why"):
        ticket_reopen(ticket=ticket, actor=agent_user, reason="  ")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert not ticket.events.filter(type=TicketEvent.Type.REOPENED).exists()


@pytest.mark.django_db
def test_an_agent_closes_a_resolved_ticket_but_not_an_open_one(agent_user):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="resolve it first"):
        ticket_close(ticket=ticket, actor=agent_user, reason="중복")
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내함")
    ticket_close(ticket=ticket, actor=agent_user)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and ticket.closed_at is not None
    with pytest.raises(ValueError, match="already closed"):
        ticket_close(ticket=ticket, actor=agent_user)


@pytest.mark.django_db
def test_a_supervisor_closes_an_unresolved_ticket_only_with_a_reason(supervisor_user):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="why"):
        ticket_close(ticket=ticket, actor=supervisor_user)
    ticket_close(ticket=ticket, actor=supervisor_user, reason="장난 전화")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED and ticket.resolved_at is None
    assert ticket.events.filter(data__reason="장난 전화", data__to="closed").exists()


@pytest.mark.django_db
def test_a_note_is_internal_and_must_say_something(agent_user):
    ticket = open_ticket()
    note = ticket_comment(ticket=ticket, actor=agent_user, text=" 시민이 격앙됨 ")
    assert (note.type, note.public, note.data, note.actor) == (
        "commented",
        False,
        {"text": "시민이 격앙됨"},
        agent_user,
    )
    with pytest.raises(ValueError):
        ticket_comment(ticket=ticket, actor=agent_user, text="   ")
    assert ticket.events.filter(type="commented").count() == 1


@pytest.mark.django_db
def test_an_attachment_is_kept_by_content_type_and_recorded(agent_user):
    ticket = open_ticket()
    upload = SimpleUploadedFile("사진.txt", PNG, content_type="text/plain")
    attachment = ticket_attachment_add(ticket=ticket, actor=agent_user, upload=upload, public=True)
    assert (attachment.content_type, attachment.name, attachment.public) == (
        "image/png",
        "사진.txt",
        True,
    )
    assert attachment.file.name.endswith(".png") and "사진" not in attachment.file.name
    event = ticket.events.get(type=TicketEvent.Type.ATTACHMENT_ADDED)
    assert event.public and event.data["attachment"] == attachment.pk


@pytest.mark.django_db
def test_an_executable_or_an_oversized_file_is_refused(agent_user, settings):
    ticket = open_ticket()
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/png")
    with pytest.raises(ValueError, match="Only images"):
        ticket_attachment_add(ticket=ticket, actor=agent_user, upload=fake)
    settings.CHAT_MAX_UPLOAD_BYTES = 10
    with pytest.raises(ValueError, match="limited"):
        ticket_attachment_add(
            ticket=ticket, actor=agent_user, upload=SimpleUploadedFile("a.png", PNG)
        )
    assert not ticket.attachments.exists()


@pytest.mark.django_db
def test_merging_a_duplicate_moves_its_contacts_and_files_and_closes_it(agent_user, citizen):
    target = open_ticket(citizen=citizen)
    first, second = factories.ContactFactory(citizen=citizen), factories.ContactFactory()
    source = open_ticket(contacts=[first, second])
    ticket_attachment_add(ticket=source, actor=agent_user, upload=SimpleUploadedFile("p.png", PNG))
    ticket_merge(source=source, target=target, actor=agent_user)
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.status, source.merged_into) == (Ticket.Status.CLOSED, target)
    assert not source.is_active
    assert set(target.contacts.all()) == {first, second} and not source.contacts.exists()
    assert TicketAttachment.objects.get().ticket == target
    assert source.events.get(type="merged").data["into_number"] == target.number
    assert target.events.get(type="merged").data["source_number"] == source.number


@pytest.mark.django_db
def test_a_ticket_without_a_citizen_merged_in_gives_the_target_its_citizen(agent_user, citizen):
    target = open_ticket()
    source = open_ticket(citizen=citizen)
    ticket_merge(source=source, target=target, actor=agent_user)
    target.refresh_from_db()
    assert target.citizen == citizen


@pytest.mark.django_db
def test_merges_that_make_no_sense_are_refused(agent_user, supervisor_user, citizen):
    ticket, other = open_ticket(citizen=citizen), open_ticket()
    with pytest.raises(ValueError, match="itself"):
        ticket_merge(source=ticket, target=ticket, actor=agent_user)
    stranger = open_ticket(citizen=factories.CitizenFactory(name="김철수"))
    with pytest.raises(ValueError, match="different citizens"):
        ticket_merge(source=ticket, target=stranger, actor=agent_user)
    closed = open_ticket()
    ticket_close(ticket=closed, actor=supervisor_user, reason="종결")
    with pytest.raises(ValueError, match="not closed"):
        ticket_merge(source=ticket, target=closed, actor=agent_user)
    ticket_merge(source=other, target=ticket, actor=agent_user)
    with pytest.raises(ValueError, match="not closed"):
        ticket_merge(source=ticket, target=other, actor=agent_user)
    with pytest.raises(ValueError, match="already merged"):
        ticket_merge(source=other, target=stranger, actor=agent_user)
    assert TicketEvent.objects.filter(type="merged").count() == 2


@pytest.mark.django_db
def test_a_merged_ticket_cannot_be_reopened(agent_user):
    source, target = open_ticket(), open_ticket()
    ticket_merge(source=source, target=target, actor=agent_user)
    with pytest.raises(ValueError, match="merged"):
        ticket_reopen(ticket=source, actor=agent_user, reason="실수")


@pytest.mark.django_db
def test_a_supervisor_changes_many_tickets_each_with_its_own_events(supervisor_user, agent_user):
    tickets = [open_ticket(), open_ticket()]
    category = category_get_or_create_path(path="교통/주정차")
    tickets_bulk_update(
        tickets=tickets, actor=supervisor_user, assignee=agent_user, category=category
    )
    for ticket in tickets:
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.category) == (agent_user, category)
        assert {"assigned", "updated"} <= set(event_types(ticket))


@pytest.mark.django_db
def test_one_refused_ticket_leaves_the_whole_bulk_change_undone(supervisor_user, agent_user):
    fine, merged, target = open_ticket(), open_ticket(), open_ticket()
    ticket_merge(source=merged, target=target, actor=supervisor_user)
    merged.refresh_from_db()
    with pytest.raises(ValueError, match=merged.number):
        tickets_bulk_update(tickets=[fine, merged], actor=supervisor_user, assignee=agent_user)
    fine.refresh_from_db()
    assert fine.assignee is None and fine.status == Ticket.Status.NEW
    assert not TicketEvent.objects.filter(type="assigned").exists()


@pytest.mark.django_db
def test_bulk_close_by_a_supervisor_closes_active_and_resolved_tickets(supervisor_user, agent_user):
    active, resolved = open_ticket(), open_ticket()
    ticket_resolve(ticket=resolved, actor=agent_user, answer="안내함")
    tickets_bulk_update(tickets=[active, resolved], actor=supervisor_user, close=True)
    assert set(Ticket.objects.values_list("status", flat=True)) == {"closed"}


@pytest.mark.django_db
def test_only_supervisors_change_tickets_in_bulk(agent_user):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="supervisors"):
        tickets_bulk_update(tickets=[ticket], actor=agent_user, close=True)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


@pytest.mark.django_db(transaction=True)
async def test_the_agent_hears_live_that_a_ticket_was_assigned_to_them(agent_user, supervisor_user):
    communicator = await agent_socket(agent_user)
    await communicator.receive_json_from(timeout=5)  # hello
    ticket = await database_sync_to_async(open_ticket)()
    await database_sync_to_async(ticket_assign)(
        ticket=ticket, assignee=agent_user, actor=supervisor_user
    )
    notice, _ = await receive_until(communicator, "ticket.notice")
    assert (notice["kind"], notice["ticket"]["number"], notice["ticket"]["url"]) == (
        "assigned",
        ticket.number,
        f"/tickets/{ticket.pk}/",
    )
    assert notice["actor"] == "박소라"
    await communicator.disconnect()
