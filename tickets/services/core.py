"""Ticket core: numbering, create, update, resolve, transfer."""

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import Citizen, Contact, User
from callcenter.pii import mask_registration_numbers
from callcenter.services.locking import row_locked
from tickets.models import Category, Department, Ticket, TicketCounter, TicketEvent
from tickets.services.sla import sla_due_times, ticket_sla_recompute
from tickets.services.surveys import survey_schedule


def ticket_number_allocate(*, year: int) -> str:
    """The next number of ``year``, like '120-2026-000123'. Call inside a transaction.

    The UPDATE takes the counter row's lock until the surrounding transaction ends, so
    concurrent creators queue behind each other and a rollback returns the number.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_number_allocate must run inside a transaction")
    if not TicketCounter.objects.filter(year=year).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                TicketCounter.objects.create(year=year, last=1)
        except IntegrityError:  # another creator made the row first: queue behind it
            TicketCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = TicketCounter.objects.values_list("last", flat=True).get(year=year)
    return f"120-{year}-{last:06d}"


def ticket_create(
    *,
    subject: str,
    channel: str,
    citizen: Citizen | None = None,
    category: Category | None = None,
    description: str = "",
    priority: int = Ticket.Priority.NORMAL,
    created_by: User | None = None,
    contacts: Iterable[Contact] = (),
    created_at: datetime | None = None,
) -> Ticket:
    """Open a ticket with the next number of its year and record who created it."""
    subject = mask_registration_numbers(subject.strip())
    description = mask_registration_numbers(description)
    if not subject:
        raise ValueError(_("A ticket needs a subject."))
    created_at = created_at or timezone.now()
    due = sla_due_times(category=category, priority=priority, channel=channel, start=created_at)
    with transaction.atomic():
        number = ticket_number_allocate(year=timezone.localtime(created_at).year)
        ticket = Ticket.objects.create(
            **due,
            number=number,
            subject=subject,
            channel=channel,
            citizen=citizen,
            category=category,
            description=description,
            priority=priority,
            created_by=created_by,
            created_at=created_at,
        )
        contacts = list(contacts)
        if contacts:
            ticket.contacts.add(*contacts)
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.CREATED,
            actor=created_by,
            data={"channel": channel, "contacts": [c.pk for c in contacts]},
            created_at=created_at,
        )
    return ticket


def category_get_or_create_path(*, path: str, code: str = "") -> Category:
    """The category at ``path`` ('세무/자동차세'), creating missing nodes on the way.

    New nodes get a stable ASCII code derived from their parent and name (a top-level
    node may be given ``code``); codes are what Open311 apps see as service codes.
    """
    names = [name.strip() for name in path.split("/") if name.strip()]
    if not names:
        raise ValueError("A category path needs at least one name.")
    parent = None
    for depth, name in enumerate(names):
        node = Category.objects.filter(parent=parent, name=name).first()
        if node is None:
            is_last = depth == len(names) - 1
            node_code = code if (is_last and code) else _category_code(parent, name)
            node = Category.objects.create(parent=parent, name=name, code=node_code)
        parent = node
    return parent


def _stable_code(name: str, length: int) -> str:
    """An ASCII code derived from a Korean name: the same name always gives the same code."""
    return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:length]


def _category_code(parent: Category | None, name: str) -> str:
    digest = _stable_code(name, 6)
    return f"{parent.code}-{digest}" if parent else f"c-{digest}"


def department_get_or_create(*, name: str) -> Department:
    """The department called ``name``, created with a stable ASCII code when new."""
    department = Department.objects.filter(name=name).first()
    if department is None:
        department = Department.objects.create(name=name, code=f"dept-{_stable_code(name, 8)}")
    return department


def ticket_transfer(
    *,
    ticket: Ticket,
    department: Department,
    actor: User | None,
    note: str = "",
    due: datetime | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Hand a ticket to a city department (이관) with a note and a due time."""
    note = mask_registration_numbers(note)
    at = at or timezone.now()
    with transaction.atomic():
        ticket = row_locked(ticket)
        if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            raise ValueError(_("A resolved or closed ticket cannot be transferred."))
        ticket.department = department
        ticket.status = Ticket.Status.TRANSFERRED
        ticket.transferred_at = at
        if due is not None:
            ticket.resolution_due = due
        ticket.save(
            update_fields=["department", "status", "transferred_at", "resolution_due", "updated_at"]
        )
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.TRANSFERRED,
            actor=actor,
            data={
                "department": department.code,
                "note": note,
                "due": due.isoformat() if due else None,
            },
            created_at=at,
        )
        if due is None:
            ticket_sla_recompute(ticket=ticket, actor=actor, at=at)
    return ticket


def ticket_resolve(
    *, ticket: Ticket, actor: User | None, answer: str, at: datetime | None = None
) -> Ticket:
    """Record the answer given to the citizen and resolve the ticket (once: two agents
    resolving it at once queue on its row, and the second is refused)."""
    answer = mask_registration_numbers(answer)
    if not answer.strip():
        raise ValueError(_("Resolving a ticket needs the answer given."))
    at = at or timezone.now()
    with transaction.atomic():
        ticket = row_locked(ticket)
        if not ticket.is_active:
            raise ValueError(_("Only an active ticket can be resolved; reopen it first."))
        previous = ticket.status
        ticket.answer = answer.strip()
        ticket.status = Ticket.Status.RESOLVED
        ticket.resolved_at = at
        ticket.first_responded_at = ticket.first_responded_at or at
        ticket.save(
            update_fields=["answer", "status", "resolved_at", "first_responded_at", "updated_at"]
        )
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket=ticket,
                    type=TicketEvent.Type.ANSWERED,
                    actor=actor,
                    data={"answer": ticket.answer},
                    public=True,
                    created_at=at,
                ),
                TicketEvent(
                    ticket=ticket,
                    type=TicketEvent.Type.STATUS_CHANGED,
                    actor=actor,
                    data={"from": previous, "to": Ticket.Status.RESOLVED},
                    created_at=at,
                ),
            ]
        )
        survey_schedule(ticket=ticket, at=at)
    return ticket


def ticket_update(*, ticket: Ticket, actor: User | None, **changes) -> Ticket:
    """Change a ticket's fields and record what changed (old → new) as one event."""
    editable = {"subject", "description", "category", "priority", "answer", "assignee"}
    unknown = set(changes) - editable
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        # Compared with the locked row: the event says what this change replaced.
        ticket = row_locked(ticket)
        changed = {}
        for field, value in changes.items():
            if field in ("subject", "description", "answer") and isinstance(value, str):
                value = mask_registration_numbers(value)
            old = getattr(ticket, field)
            if old != value:
                changed[field] = {
                    "from": str(old) if old is not None else None,
                    "to": str(value) if value is not None else None,
                }
                setattr(ticket, field, value)
        if not changed:
            return ticket
        ticket.save(update_fields=[*changed, "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.UPDATED,
            actor=actor,
            data={"changed": changed},
        )
        if "category" in changed or "priority" in changed:
            ticket_sla_recompute(ticket=ticket, actor=actor)
    return ticket
