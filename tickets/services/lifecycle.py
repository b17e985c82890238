"""A ticket's life after it is created: assignment, notes, attachments, reopen, close, merge.

Status machine (every step is a ``TicketEvent``)::

    new → open → transferred → answered → resolved → closed
                                              ↑          │
                                              └ reopen ←─┘  (resolved or closed → open)

Closing: anyone on the centre's staff closes a *resolved* ticket (the citizen has had the
answer); only a supervisor (or an administrator) closes a ticket that is still active —
spam, a withdrawn request, a duplicate — and then the reason is recorded. Merged tickets are
closed for good: work goes on in the ticket they were merged into.

Every step locks the ticket's row first and checks its status on what it reads then, never
on the caller's copy: a resolve racing a close, or two reopens, change the ticket once.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.attachments import ALLOWED_TYPES, attachment_type
from callcenter.models import Contact, User
from callcenter.pii import mask_personal_data
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, user_roles
from callcenter.services.locking import row_locked
from callcenter.services.notify import publish_ticket_notice
from tickets.models import (
    ACTIVE_STATUSES,
    Category,
    Ticket,
    TicketAttachment,
    TicketEvent,
)
from tickets.services.core import ticket_update
from tickets.services.sla import sla_due_times

REOPENABLE = frozenset({Ticket.Status.RESOLVED, Ticket.Status.CLOSED})
REPEAT_WINDOW = timedelta(days=7)


def _is_supervisor(user: User | None) -> bool:
    return user is not None and bool(user_roles(user) & {SUPERVISOR, ADMINISTRATOR})


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _event(
    ticket: Ticket,
    type_: str,
    actor: User | None,
    public: bool = False,
    created_at: datetime | None = None,
    **data,
):
    return TicketEvent.objects.create(
        ticket=ticket,
        type=type_,
        actor=actor,
        data=mask_personal_data(data),
        public=public,
        created_at=created_at or timezone.now(),
    )


def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User | None) -> Ticket:
    """Give an active ticket to a centre agent or supervisor (None: nobody). A new ticket
    opens when someone takes it."""
    if assignee is not None and not user_roles(assignee) & {AGENT, SUPERVISOR}:
        raise ValueError(_("Tickets are assigned to agents and supervisors of the centre."))
    with transaction.atomic():
        ticket = row_locked(ticket)
        if not ticket.is_active:
            raise ValueError(_("Only an active ticket can be assigned."))
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return ticket
        previous = ticket.assignee
        ticket.assignee = assignee
        fields = ["assignee", "updated_at"]
        if ticket.status == Ticket.Status.NEW and assignee is not None:
            ticket.status = Ticket.Status.OPEN
            fields.append("status")
            _event(
                ticket,
                TicketEvent.Type.STATUS_CHANGED,
                actor,
                **{"from": Ticket.Status.NEW, "to": Ticket.Status.OPEN},
            )
        ticket.save(update_fields=fields)
        _event(
            ticket,
            TicketEvent.Type.ASSIGNED,
            actor,
            **{
                "from": previous.pk if previous else None,
                "from_name": previous.display_name if previous else None,
                "to": assignee.pk if assignee else None,
                "to_name": assignee.display_name if assignee else None,
            },
        )
        if assignee is not None and assignee != actor:
            publish_ticket_notice(
                ticket,
                kind="assigned",
                message=_("Ticket %(number)s was assigned to you.") % {"number": ticket.number},
                actor=actor,
            )
    return ticket


def ticket_reopen(
    *, ticket: Ticket, actor: User | None, reason: str, at: datetime | None = None
) -> Ticket:
    """Open a resolved or closed ticket again (the problem came back, the answer was
    wrong); the resolution and closing times go, the answer given stays on record.

    The resolution clock starts again from the reopening with the policy's full target:
    the old due time has usually passed, and a reopened ticket is not late by definition.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError(_("Say why the ticket is reopened."))
    at = at or timezone.now()
    with transaction.atomic():
        ticket = row_locked(ticket)
        if ticket.merged_into_id is not None:
            raise ValueError(
                _("A merged ticket stays closed; reopen the ticket it was merged into.")
            )
        if ticket.status not in REOPENABLE:
            raise ValueError(_("Only a resolved or closed ticket can be reopened."))
        previous, old_due = ticket.status, ticket.resolution_due
        ticket.status = Ticket.Status.OPEN
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.resolution_due = sla_due_times(
            category=ticket.category, priority=ticket.priority, channel=ticket.channel, start=at
        )["resolution_due"]
        ticket.save(
            update_fields=["status", "resolved_at", "closed_at", "resolution_due", "updated_at"]
        )
        _event(
            ticket,
            TicketEvent.Type.REOPENED,
            actor,
            created_at=at,
            **{
                "from": previous,
                "reason": reason,
                "resolution_due": {"from": _iso(old_due), "to": _iso(ticket.resolution_due)},
            },
        )
        publish_ticket_notice(
            ticket,
            kind="reopened",
            message=_("Ticket %(number)s was reopened.") % {"number": ticket.number},
            actor=actor,
        )
    return ticket


def ticket_close(*, ticket: Ticket, actor: User | None, reason: str = "") -> Ticket:
    """Close a resolved ticket; a supervisor may also close an active one (with a reason)."""
    with transaction.atomic():
        ticket = row_locked(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ValueError(_("The ticket is already closed."))
        if ticket.status != Ticket.Status.RESOLVED:
            if not _is_supervisor(actor):
                raise ValueError(_("Only a resolved ticket can be closed; resolve it first."))
            if not reason.strip():
                raise ValueError(_("Say why a ticket that was not resolved is closed."))
        previous = ticket.status
        ticket.status = Ticket.Status.CLOSED
        ticket.closed_at = timezone.now()
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        _event(
            ticket,
            TicketEvent.Type.STATUS_CHANGED,
            actor,
            **{"from": previous, "to": Ticket.Status.CLOSED, "reason": reason.strip()},
        )
    return ticket


def ticket_comment(*, ticket: Ticket, actor: User | None, text: str) -> TicketEvent:
    """An internal note on the ticket: staff see it, the citizen never does."""
    text = text.strip()
    if not text:
        raise ValueError(_("A note needs some text."))
    with transaction.atomic():
        event = _event(ticket, TicketEvent.Type.COMMENTED, actor, text=text)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return event


def ticket_attachment_add(
    *, ticket: Ticket, actor: User | None, upload: UploadedFile, public: bool = False
) -> TicketAttachment:
    """Keep an image or PDF with the ticket. The content decides the type, never the name;
    files are stored under a random name and served only through a role-checked view."""
    try:
        mime = attachment_type(upload)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from error
    name = mask_personal_data(Path(upload.name or "file").name)[:200]
    attachment = TicketAttachment(
        ticket=ticket,
        name=name,
        content_type=mime,
        size=upload.size,
        public=public,
        uploaded_by=actor,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{ALLOWED_TYPES[mime]}", upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
            _event(
                ticket,
                TicketEvent.Type.ATTACHMENT_ADDED,
                actor,
                public=public,
                attachment=attachment.pk,
                name=name,
            )
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


def ticket_merge(*, source: Ticket, target: Ticket, actor: User | None) -> Ticket:
    """Fold a duplicate ``source`` into ``target``: its contacts and attachments move, it is
    closed and points at the target. Both tickets record the merge."""
    if source.pk == target.pk:
        raise ValueError(_("A ticket cannot be merged into itself."))
    with transaction.atomic():
        # Both rows, always in the same order, so two opposite merges cannot deadlock.
        for ticket in sorted((source, target), key=lambda ticket: ticket.pk):
            row_locked(ticket)
        if source.merged_into_id is not None:
            raise ValueError(_("This ticket was already merged into another one."))
        if target.merged_into_id is not None or target.status == Ticket.Status.CLOSED:
            raise ValueError(_("Tickets can only be merged into a ticket that is not closed."))
        if source.citizen_id and target.citizen_id and source.citizen_id != target.citizen_id:
            raise ValueError(_("These tickets belong to different citizens."))
        contact_ids = list(source.contacts.values_list("pk", flat=True))
        attachment_ids = list(source.attachments.values_list("pk", flat=True))
        target.contacts.add(*contact_ids)
        source.contacts.clear()
        TicketAttachment.objects.filter(pk__in=attachment_ids).update(ticket=target)
        target_fields = ["repeat_contacts", "updated_at"]
        target.repeat_contacts = F("repeat_contacts") + source.repeat_contacts
        if target.citizen_id is None and source.citizen_id is not None:
            target.citizen_id = source.citizen_id
            target_fields.append("citizen")
        target.save(update_fields=target_fields)
        target.refresh_from_db(fields=["repeat_contacts"])
        previous = source.status
        source.merged_into = target
        source.status = Ticket.Status.CLOSED
        source.closed_at = timezone.now()
        source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
        moved = {"contacts": contact_ids, "attachments": attachment_ids}
        _event(
            source,
            TicketEvent.Type.MERGED,
            actor,
            into=target.pk,
            into_number=target.number,
            from_status=previous,
            **moved,
        )
        _event(
            target,
            TicketEvent.Type.MERGED,
            actor,
            source=source.pk,
            source_number=source.number,
            **moved,
        )
        publish_ticket_notice(
            target,
            kind="merged",
            message=_("Ticket %(source)s was merged into %(target)s.")
            % {"source": source.number, "target": target.number},
            actor=actor,
        )
    return target


def tickets_bulk_update(
    *,
    tickets: Iterable[Ticket],
    actor: User,
    assignee: User | None = None,
    category: Category | None = None,
    close: bool = False,
    reason: str = "",
) -> list[Ticket]:
    """A supervisor's change to many tickets at once: each gets its own events, and one
    refused ticket leaves every ticket as it was."""
    if not _is_supervisor(actor):
        raise ValueError(_("Only supervisors change tickets in bulk."))
    tickets = list(tickets)
    if not tickets:
        raise ValueError(_("Choose at least one ticket."))
    if assignee is None and category is None and not close:
        raise ValueError(_("Choose what to change."))
    with transaction.atomic():
        for ticket in tickets:
            try:
                if category is not None:
                    ticket_update(ticket=ticket, actor=actor, category=category)
                if assignee is not None:
                    ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
                if close:
                    ticket_close(
                        ticket=ticket,
                        actor=actor,
                        reason=reason or _("Closed in bulk by a supervisor."),
                    )
            except ValueError as error:
                raise ValueError(f"{ticket.number}: {error}") from error
    return tickets


def ticket_repeat_contact_link(
    *, contact: Contact, category: Category, actor: User | None
) -> Ticket | None:
    """The citizen's recent ticket on the same category, with ``contact`` linked to it as a
    repeat contact (reopened if it was resolved or closed); None when there is none.

    Recent: still active, or created, resolved or closed in the last 7 days. Merged
    tickets never count. A repeat contact means the ticket was not resolved on first
    contact (DESIGN.md, FCR).
    """
    if contact.citizen_id is None:
        return None
    since = timezone.now() - REPEAT_WINDOW
    ticket = (
        Ticket.objects.filter(
            citizen_id=contact.citizen_id, category=category, merged_into__isnull=True
        )
        .filter(
            Q(status__in=ACTIVE_STATUSES)
            | Q(created_at__gte=since)
            | Q(resolved_at__gte=since)
            | Q(closed_at__gte=since)
        )
        .order_by("-created_at")
        .first()
    )
    if ticket is None:
        return None
    with transaction.atomic():
        row_locked(ticket)  # whether it is reopened is decided on the locked row
        ticket.contacts.add(contact)
        Ticket.objects.filter(pk=ticket.pk).update(
            repeat_contacts=F("repeat_contacts") + 1, updated_at=timezone.now()
        )
        ticket.refresh_from_db(fields=["repeat_contacts", "updated_at"])
        _event(ticket, TicketEvent.Type.CONTACT_LINKED, actor, repeat=True, contact=contact.pk)
        if ticket.status in REOPENABLE:
            ticket_reopen(ticket=ticket, actor=actor, reason=_("The citizen contacted us again."))
    return ticket
