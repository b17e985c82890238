"""The agent console's server-rendered parts: panels per contact, ticket form, uploads."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.korean import josa_resolve
from callcenter.models import Agent, Citizen, Contact, Message, Presence, Queue
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, role_required, user_roles
from callcenter.selectors import citizen_phone_revealable
from callcenter.services import routing
from callcenter.services.contacts import personal_data_access_log
from callcenter.services.messages import attachment_message_create
from callcenter.services.notify import message_payload
from tickets.forms import ContactTicketForm, TicketOutcome
from tickets.models import Ticket
from tickets.services import contact_ticket_submit

STAFF = (AGENT, SUPERVISOR, ADMINISTRATOR)


def _get_contact_for_user(request: HttpRequest, contact_id: int) -> Contact:
    """The contact if the user holds it (agent) or supervises; 404 for anyone else."""
    contact = get_object_or_404(
        Contact.objects.select_related("citizen", "queue", "agent"), pk=contact_id
    )
    if user_roles(request.user) & {SUPERVISOR, ADMINISTRATOR}:
        return contact
    agent = Agent.objects.filter(user=request.user).first()
    if agent is None or contact.agent_id != agent.pk:
        raise PermissionDenied("This contact is not yours.")
    return contact


def _ticket_initial(contact: Contact) -> dict:
    ticket = contact.tickets.order_by("id").first()
    if ticket is None:
        first = contact.messages.filter(sender=Message.Sender.CITIZEN).order_by("id").first()
        return {"description": first.text if first else "", "outcome": TicketOutcome.KEEP_OPEN}
    return {
        "category": ticket.category_id,
        "subject": ticket.subject,
        "description": ticket.description,
        "answer": ticket.answer,
        "department": ticket.department_id,
        "outcome": _saved_outcome(ticket),
    }


def _saved_outcome(ticket: Ticket) -> TicketOutcome:
    """The outcome the ticket was saved with: the form must show it, or saving again (or
    finishing wrap-up from the form) would apply a choice the agent never made."""
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        return TicketOutcome.RESOLVE
    if ticket.status == Ticket.Status.TRANSFERRED:
        return TicketOutcome.TRANSFER
    return TicketOutcome.KEEP_OPEN


def _panel_context(contact: Contact, form: ContactTicketForm | None = None) -> dict:
    citizen = contact.citizen
    history = []
    if citizen is not None:
        history = (
            citizen.tickets.exclude(contacts=contact)
            .select_related("category")
            .order_by("-created_at")[:10]
        )
    return {
        "contact": contact,
        "citizen": citizen,
        "history": history,
        "previous_contacts": citizen.contacts.exclude(pk=contact.pk).order_by("-created_at")[:5]
        if citizen
        else [],
        "ticket": contact.tickets.order_by("id").first(),
        "form": form or ContactTicketForm(initial=_ticket_initial(contact), contact_id=contact.pk),
    }


@role_required(*STAFF)
@require_GET
def contact_panel(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact_for_user(request, contact_id)
    return render(request, "callcenter/console/contact_panel.html", _panel_context(contact))


@role_required(AGENT)
@require_POST
def contact_ticket(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact_for_user(request, contact_id)
    form = ContactTicketForm(request.POST, contact_id=contact.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = contact_ticket_submit(
                contact=contact,
                actor=request.user,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                answer=data["answer"],
                resolve=data["outcome"] == TicketOutcome.RESOLVE,
                department=(
                    data["department"] if data["outcome"] == TicketOutcome.TRANSFER else None
                ),
                transfer_note=data["transfer_note"],
                callback_phone=data["callback_phone"] if data["callback"] else None,
                wrapup_finish="wrapup" in request.POST,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except (ValueError, routing.RoutingError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, josa_resolve(_("Ticket %s saved.") % ticket.number))
            form = None
    contact.refresh_from_db()
    response = render(
        request, "callcenter/console/ticket_panel.html", _panel_context(contact, form)
    )
    if form is not None and form.errors:
        response.status_code = 422
    return response


@role_required(*STAFF)
@require_POST
def contact_attachment(request: HttpRequest, contact_id: int) -> JsonResponse:
    contact = _get_contact_for_user(request, contact_id)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "no_file", "message": _("Choose a file.")}, status=400)
    if contact.state != Contact.State.ACTIVE:
        return JsonResponse(
            {"error": "not_active", "message": _("The conversation is not active.")}, status=409
        )
    try:
        message = attachment_message_create(
            contact=contact,
            upload=upload,
            sender=Message.Sender.AGENT,
            sender_user=request.user,
            text=request.POST.get("text", ""),
        )
    except ValidationError as error:
        return JsonResponse({"error": "bad_file", "message": " ".join(error.messages)}, status=400)
    return JsonResponse({"message": message_payload(message)}, status=201)


@role_required(*STAFF)
@require_POST
def citizen_reveal_phone(request: HttpRequest, citizen_id: int) -> JsonResponse:
    """Show a citizen's full phone to staff serving them; every look is logged."""
    citizen = get_object_or_404(Citizen, pk=citizen_id)
    if not citizen_phone_revealable(user=request.user, citizen=citizen):
        raise PermissionDenied("Only the agent serving this citizen may see the number.")
    personal_data_access_log(
        user=request.user,
        citizen=citizen,
        field="phone",
        reason=request.POST.get("reason", "console"),
    )
    return JsonResponse({"phone": citizen.phone.as_national if citizen.phone else ""})


@role_required(*STAFF)
@require_GET
def transfer_targets(request: HttpRequest) -> JsonResponse:
    agents = (
        Agent.objects.filter(presence=Presence.AVAILABLE)
        .with_open_console()
        .exclude(user=request.user)
    )
    return JsonResponse(
        {
            "agents": [
                {"id": a.pk, "name": a.display_name, "presence": a.presence} for a in agents
            ],
            "queues": [
                {"id": q.pk, "code": q.code, "name": q.name, "channels": q.channels}
                for q in Queue.objects.filter(is_active=True)
            ],
        }
    )
