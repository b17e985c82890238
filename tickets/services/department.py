"""Department transfers (이관): the centre hands a ticket over, the department answers, asks
the centre for more information, or returns it; the answer goes back to the citizen.

Each step is one transaction with its TicketEvent, checked on the ticket's locked row (two
officers answering at once queue up and the second sees the first one's status); the people
it concerns hear of it live
(``channels_app.notify.publish_ticket_notice``) once it has committed.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.models import Agent, CallbackRequest, Channel, User
from callcenter.pii import mask_registration_numbers
from callcenter.services.callbacks import callback_request_create
from callcenter.services.kakao_outbound import kakao_answer_text, kakao_notification_route
from callcenter.services.locking import row_locked
from callcenter.services.notify import publish_ticket_notice
from callcenter.services.outbox import outbox_enqueue
from tickets.models import Department, Officer, Ticket, TicketEvent
from tickets.services.core import ticket_transfer

# A department acts on a ticket while it is with them: waiting for an answer, or answered
# (an answer can be corrected, and the centre can still be asked for more).
DEPARTMENT_STATUSES = frozenset({Ticket.Status.TRANSFERRED, Ticket.Status.ANSWERED})


# The steps that decide whether a department's question is still open: the latest of them
# is the question itself.
QUESTION_STEPS = (
    TicketEvent.Type.INFO_REQUESTED,
    TicketEvent.Type.INFO_PROVIDED,
    TicketEvent.Type.TRANSFERRED,
    TicketEvent.Type.RETURNED,
)


def info_request_pending(ticket: Ticket) -> TicketEvent | None:
    """The department's latest question to the centre, unless answered or the ticket was
    transferred again since."""
    last = ticket.events.filter(type__in=QUESTION_STEPS).order_by("-id").first()
    return last if last is not None and last.type == TicketEvent.Type.INFO_REQUESTED else None


def _officer_department(*, ticket: Ticket, user: User) -> Department:
    officer = Officer.objects.select_related("department").filter(user=user).first()
    if officer is None or officer.department_id != ticket.department_id:
        raise PermissionDenied(_("Only officers of the ticket's department can do this."))
    return officer.department


def _check_with_department(ticket: Ticket) -> None:
    if ticket.department_id is None or not (
        ticket.is_active and ticket.status in DEPARTMENT_STATUSES
    ):
        raise ValueError(_("This ticket is not with a department."))


def _required(text: str, message: str) -> str:
    """The text, stripped and with registration numbers masked; refused when empty."""
    text = mask_registration_numbers((text or "").strip())
    if not text:
        raise ValueError(message)
    return text


def ticket_department_transfer(
    *, ticket: Ticket, department: Department, actor: User, note: str
) -> Ticket:
    """Hand a ticket to a department with a note for them; the department hears of it live."""
    note = _required(note, _("Write a note for the department."))
    if not department.is_active:
        raise ValueError(_("This department no longer takes tickets."))
    with transaction.atomic():
        row_locked(ticket)
        if not ticket.is_active:
            raise ValueError(_("A resolved, closed or merged ticket cannot be transferred."))
        if ticket.status == Ticket.Status.TRANSFERRED and ticket.department_id == department.pk:
            raise ValueError(_("The ticket is already with this department."))
        ticket_transfer(ticket=ticket, department=department, actor=actor, note=note)
        publish_ticket_notice(
            ticket,
            kind="transferred",
            message=_("Ticket {number} was transferred to your department: {note}").format(
                number=ticket.number, note=note
            ),
            actor=actor,
            centre=False,
            department=True,
        )
    return ticket


def ticket_department_answer(*, ticket: Ticket, officer_user: User, answer: str) -> Ticket:
    """The department's answer: recorded as the answer given, the centre is told, and the
    citizen receives it through the channel they used."""
    answer = _required(answer, _("Write the answer for the citizen."))
    with transaction.atomic():
        row_locked(ticket)
        department = _officer_department(ticket=ticket, user=officer_user)
        _check_with_department(ticket)
        now = timezone.now()
        ticket.status = Ticket.Status.ANSWERED
        ticket.answer = answer
        ticket.answered_at = now
        ticket.first_responded_at = ticket.first_responded_at or now
        ticket.save(
            update_fields=["status", "answer", "answered_at", "first_responded_at", "updated_at"]
        )
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.ANSWERED,
            actor=officer_user,
            data={"by": "department", "department": department.code, "answer": answer},
            public=True,
            created_at=now,
        )
        sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text=answer)
        if sent is None:
            message = _(
                "{department} answered ticket {number}; it could not be sent to the citizen "
                "(no phone, KakaoTalk or email on record)."
            )
        else:
            message = _("{department} answered ticket {number}.")
        publish_ticket_notice(
            ticket,
            kind="department_answered",
            message=message.format(department=department.name, number=ticket.number),
            actor=officer_user,
        )
    return ticket


def ticket_info_request(*, ticket: Ticket, officer_user: User, question: str) -> TicketEvent:
    """The department asks the centre for more information; the ticket stays with them."""
    question = _required(question, _("Write what the department needs to know."))
    with transaction.atomic():
        row_locked(ticket)
        department = _officer_department(ticket=ticket, user=officer_user)
        _check_with_department(ticket)
        event = TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.INFO_REQUESTED,
            actor=officer_user,
            data={"department": department.code, "question": question},
        )
        publish_ticket_notice(
            ticket,
            kind="info_requested",
            message=_("{department} asks about ticket {number}: {question}").format(
                department=department.name, number=ticket.number, question=question
            ),
            actor=officer_user,
        )
    return event


def ticket_info_provide(*, ticket: Ticket, actor: User, text: str) -> TicketEvent:
    """The centre answers the department's question."""
    text = _required(text, _("Write the information for the department."))
    with transaction.atomic():
        row_locked(ticket)
        _check_with_department(ticket)
        question = info_request_pending(ticket)
        if question is None:
            raise ValueError(_("The department has not asked for information."))
        event = TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.INFO_PROVIDED,
            actor=actor,
            data={"department": ticket.department.code, "text": text, "request": question.pk},
        )
        publish_ticket_notice(
            ticket,
            kind="info_provided",
            message=_("The centre answered your question on ticket {number}: {text}").format(
                number=ticket.number, text=text
            ),
            actor=actor,
            centre=False,
            department=True,
        )
    return event


def ticket_department_return(*, ticket: Ticket, officer_user: User, reason: str) -> Ticket:
    """Not this department's matter: the ticket goes back to the centre, open, with why."""
    reason = _required(reason, _("Say why the ticket is not for your department."))
    with transaction.atomic():
        row_locked(ticket)
        department = _officer_department(ticket=ticket, user=officer_user)
        _check_with_department(ticket)
        ticket.department = None
        ticket.status = Ticket.Status.OPEN
        ticket.save(update_fields=["department", "status", "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.RETURNED,
            actor=officer_user,
            data={"department": department.code, "reason": reason},
        )
        publish_ticket_notice(
            ticket,
            kind="returned",
            message=_("{department} returned ticket {number}: {reason}").format(
                department=department.name, number=ticket.number, reason=reason
            ),
            actor=officer_user,
        )
    return ticket


def _delivery_route(ticket: Ticket) -> str | None:
    """How the answer reaches the citizen: the channel they used when it can carry a reply
    (KakaoTalk: an 알림톡 to their phone, or SMS while business messages are off), else a
    call-back (also for citizens who need assistance), else email; never SMS to a citizen
    who texted STOP; None when the citizen cannot be reached at all."""
    citizen = ticket.citizen
    if citizen is None:
        return None
    has_phone = bool(citizen.phone)
    if citizen.needs_assistance:
        route = "callback"
    elif ticket.channel == Channel.SMS:
        route = "sms"
    elif ticket.channel == Channel.KAKAO:
        # 알림톡 to their phone while business messages are on, else SMS (rules below).
        route = kakao_notification_route(citizen) or "sms"
    elif ticket.channel == Channel.WEBCHAT:
        route = "email" if citizen.email else "sms"
    else:
        route = "callback"
    if route == "sms" and citizen.sms_opted_out_at is not None:
        # STOP / 수신거부: nothing is texted, the answer still reaches them (a call is no text).
        route = "email" if citizen.email else "callback"
    if route in ("sms", "callback") and not has_phone:
        route = "email" if citizen.email else None
    return route


def _answer_text(ticket: Ticket, text: str) -> tuple[str, str]:
    """Subject and body of the answer, in the citizen's language when the site has it."""
    with translation.override(ticket.citizen.message_language):
        subject = _("Answer to your inquiry {number}").format(number=ticket.number)
        body = _("[City 120] Answer to your inquiry {number} ({subject}):\n{text}").format(
            number=ticket.number, subject=ticket.subject, text=text
        )
    return subject, body


def ticket_answer_deliver(*, ticket: Ticket, actor: User | None, text: str) -> TicketEvent | None:
    """Send an answer to the citizen through the channel of origin (SMS, KakaoTalk, email for
    web chat) or leave a call-back task for an agent. Returns the ANSWER_SENT event, or None
    when the citizen left no way to reach them (then an ANSWER_NOT_SENT event says so)."""
    text = _required(text, _("Write the answer for the citizen."))
    route = _delivery_route(ticket)
    if route is None:
        # On the record, so the centre sees in the timeline why the citizen heard nothing.
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.ANSWER_NOT_SENT,
            actor=actor,
            data={"reason": _("No phone, KakaoTalk or email on record.")},
        )
        return None
    citizen = ticket.citizen
    with transaction.atomic():
        event = TicketEvent.objects.create(
            ticket=ticket, type=TicketEvent.Type.ANSWER_SENT, actor=actor, data={"via": route}
        )
        data: dict = {"via": route}
        if route == "callback":
            # The agent who owns the ticket makes the call when they are an agent.
            callback = callback_request_create(
                phone=citizen.phone,
                source=CallbackRequest.Source.DEPARTMENT_ANSWER,
                citizen=citizen,
                contact=ticket.contacts.order_by("-id").first(),
                ticket=ticket,
                note=_("Call the citizen with the department's answer to ticket {number}.").format(
                    number=ticket.number
                ),
                agent=Agent.objects.filter(user_id=ticket.assignee_id).first(),
                actor=actor,
            )
            data["callback_id"] = callback.pk
        else:
            subject, body = _answer_text(ticket, text)
            template = ""
            if route == "kakao":
                # The approved Korean template, whatever the citizen's language.
                body = kakao_answer_text(
                    number=ticket.number,
                    subject=ticket.subject,
                    answer=text,
                    track_url=settings.PUBLIC_BASE_URL + reverse("track"),
                )
                template = settings.KAKAO_BIZMSG_TEMPLATE_ANSWER
            to = citizen.email if route == "email" else citizen.phone.as_e164
            # Sent by the worker once this commits; its delivery state is on the row.
            outbound = outbox_enqueue(
                channel=route,
                to=to,
                subject=subject if route == "email" else "",
                body=body,
                idempotency_key=f"ticket-answer:{event.pk}",
                ticket=ticket,
                template=template,
            )
            data["outbound_id"] = outbound.pk
            if route in ("sms", "kakao"):
                data["to"] = citizen.masked_phone
        # The event is completed in the transaction that created it, before anyone reads it.
        event.data = data
        event.save(update_fields=["data"])
        return event
