"""A contact's ticket as the agent saves it from the console: created on the first save,
updated after, then resolved with the answer given or transferred to a department; the
citizen is told its number. It draws on core, lifecycle and department, which never call it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from callcenter.models import CallbackRequest, Channel, Contact, Message, User
from callcenter.services import notify, routing
from callcenter.services.callbacks import callback_request_create
from callcenter.services.messages import message_create
from tickets.models import Category, Department, Ticket
from tickets.services.core import ticket_create, ticket_resolve, ticket_update
from tickets.services.department import ticket_department_transfer
from tickets.services.lifecycle import ticket_comment, ticket_repeat_contact_link


def contact_ticket_save(
    *,
    contact: Contact,
    actor: User,
    category: Category,
    subject: str,
    description: str = "",
    answer: str = "",
    resolve: bool = False,
    department: Department | None = None,
    transfer_note: str = "",
) -> Ticket:
    """The agent's ticket for a contact: created on first save, updated after; then resolved
    with the answer given, or transferred to a department."""
    if resolve and department is not None:
        raise ValueError(_("A ticket is either resolved now or transferred, not both."))
    if resolve and not answer.strip():
        raise ValueError(_("Write the answer given to resolve the ticket."))
    with transaction.atomic():
        ticket = contact.tickets.order_by("id").first()
        repeat = None
        if ticket is None:
            # A repeat contact joins the citizen's recent ticket on the same category.
            ticket = repeat = ticket_repeat_contact_link(
                contact=contact, category=category, actor=actor
            )
        if repeat is not None:
            # The earlier inquiry stays as it was written; the new one is noted beside it.
            text = "\n".join(part.strip() for part in (subject, description) if part.strip())
            ticket_comment(
                ticket=ticket, actor=actor, text=_("Repeat contact: %(text)s") % {"text": text}
            )
        elif ticket is None:
            ticket = ticket_create(
                subject=subject,
                channel=contact.channel,
                citizen=contact.citizen,
                category=category,
                description=description,
                created_by=actor,
                contacts=[contact],
            )
            ticket.status = Ticket.Status.OPEN
            ticket.assignee = actor
            ticket.save(update_fields=["status", "assignee", "updated_at"])
        else:
            ticket_update(
                ticket=ticket,
                actor=actor,
                subject=subject.strip(),
                category=category,
                description=description,
                answer=answer.strip() or ticket.answer,
            )
        if answer.strip() and not resolve:
            ticket_update(ticket=ticket, actor=actor, answer=answer.strip())
        if resolve and ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            ticket_resolve(ticket=ticket, actor=actor, answer=answer)
        if department is not None and ticket.department_id != department.pk:
            ticket_department_transfer(
                ticket=ticket, department=department, actor=actor, note=transfer_note
            )
        contact_ticket_number_tell(contact=contact, ticket=ticket)
    return ticket


def contact_ticket_submit(
    *,
    contact: Contact,
    actor: User,
    category: Category,
    subject: str,
    description: str = "",
    answer: str = "",
    resolve: bool = False,
    department: Department | None = None,
    transfer_note: str = "",
    callback_phone: str | None = None,
    wrapup_finish: bool = False,
) -> Ticket:
    """The console's ticket form in one transaction: the contact's ticket saved (see
    ``contact_ticket_save``), a call-back promised to ``callback_phone`` when given (kept by
    the contact's agent), and wrap-up finished when asked; the agent's console hears of the
    change after commit. Nothing is kept when any part is refused.

    Raises ``ValidationError`` (a bad call-back number under ``callback_phone``),
    ``ValueError`` or ``routing.RoutingError``.
    """
    with transaction.atomic():
        ticket = contact_ticket_save(
            contact=contact,
            actor=actor,
            category=category,
            subject=subject,
            description=description,
            answer=answer,
            resolve=resolve,
            department=department,
            transfer_note=transfer_note,
        )
        if callback_phone is not None:
            try:
                # The agent who promised the call-back keeps it.
                callback_request_create(
                    phone=callback_phone,
                    source=CallbackRequest.Source.CONSOLE,
                    citizen=contact.citizen,
                    contact=contact,
                    ticket=ticket,
                    agent=contact.agent,
                    actor=actor,
                    note=subject,
                )
            except ValidationError as error:
                raise ValidationError({"callback_phone": error.messages}) from error
        if wrapup_finish:
            routing.contact_wrapup_complete(contact=contact, agent=contact.agent)
    contact.refresh_from_db()
    notify.publish_contact_updated(contact)
    return ticket


# A chat citizen is told the number once per ticket; the message's client id makes that a
# database guarantee (one message per contact, sender and client id).
TICKET_NUMBER_CLIENT_ID = "ticket-number:{ticket_id}"


def contact_ticket_number_tell(*, contact: Contact, ticket: Ticket) -> Message | None:
    """Tell a web-chat citizen the ticket number of their inquiry, as a system line of the
    conversation (published after commit), once per ticket and conversation."""
    client_id = TICKET_NUMBER_CLIENT_ID.format(ticket_id=ticket.pk)
    if contact.channel != Channel.WEBCHAT or contact.messages.filter(client_id=client_id).exists():
        return None
    with translation.override("ko" if contact.language == "ko" else "en"):
        text = _(
            "Your inquiry number is %(number)s. You can check its progress at %(url)s with "
            "this number and your phone number."
        ) % {"number": ticket.number, "url": settings.PUBLIC_BASE_URL + reverse("track")}
    message = message_create(
        contact=contact, sender=Message.Sender.SYSTEM, text=text, client_id=client_id
    )
    notify.publish_chat_ticket(contact, number=ticket.number)
    return message
