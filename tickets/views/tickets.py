"""Staff pages for tickets: the list (filters, saved filters) and one ticket."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.attachments import attachment_public
from callcenter.models import Channel
from callcenter.privacy import mask_rrn
from callcenter.roles import ADMINISTRATOR, AGENT, OFFICER, SUPERVISOR, role_required, user_roles
from callcenter.selectors import call_details, citizen_phone_revealable
from knowledge.selectors import article_search
from tickets import selectors, services
from tickets.forms import (
    SavedFilterForm,
    TicketAssignForm,
    TicketAttachmentForm,
    TicketBulkForm,
    TicketFilterForm,
    TicketMergeForm,
    TicketResolveForm,
)
from tickets.models import Officer, SavedFilter, Ticket

CENTRE = (AGENT, SUPERVISOR, ADMINISTRATOR)
PAGE_SIZE = 25
RELATED_ARTICLES = 3


def _is_centre(request: HttpRequest) -> bool:
    return bool(user_roles(request.user) & set(CENTRE))


def _get_ticket_for_user(request: HttpRequest, ticket_id: int) -> Ticket:
    """Any ticket for the centre's staff (they share tickets); for a department officer,
    only their department's tickets. 404 for anyone else."""
    ticket = get_object_or_404(
        Ticket.objects.select_related(
            "category__parent__parent", "citizen", "assignee", "department", "merged_into"
        ),
        pk=ticket_id,
    )
    if _is_centre(request):
        return ticket
    officer = Officer.objects.filter(user=request.user).first()
    if officer is not None and ticket.department_id == officer.department_id:
        return ticket
    raise Http404("No such ticket.")


def _is_supervisor(request: HttpRequest) -> bool:
    return bool(user_roles(request.user) & {SUPERVISOR, ADMINISTRATOR})


def _list_query(request: HttpRequest) -> str:
    """The list's query string without the page number (kept across pages and saved)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@role_required(*CENTRE)
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    form = TicketFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
    tickets = selectors.ticket_list(user=request.user, **filters)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    supervisor = _is_supervisor(request)
    return render(
        request,
        "tickets/ticket_list.html",
        {
            "form": form,
            "page": page,
            "query": _list_query(request),
            "saved_filters": SavedFilter.objects.filter(user=request.user),
            "save_form": SavedFilterForm(initial={"query": _list_query(request)}),
            "bulk_form": TicketBulkForm() if supervisor else None,
        },
    )


@role_required(*CENTRE)
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the filter a name (at most 80 characters)."))
        return redirect("ticket-list")
    query = form.cleaned_data["query"].lstrip("?")
    services.saved_filter_save(user=request.user, name=form.cleaned_data["name"], query=query)
    messages.success(request, _("Filter “%s” saved.") % form.cleaned_data["name"])
    return redirect(f"{reverse('ticket-list')}?{query}")


@role_required(*CENTRE)
@require_POST
def saved_filter_delete(request: HttpRequest, filter_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, pk=filter_id, user=request.user)
    services.saved_filter_delete(saved_filter=saved, user=request.user)
    messages.success(request, _("Filter “%s” deleted.") % saved.name)
    return redirect("ticket-list")


def _can_reveal_phone(request: HttpRequest, ticket: Ticket) -> bool:
    """Whether the "show" button works for this user (the reveal endpoint's own rule)."""
    citizen = ticket.citizen
    return bool(citizen and citizen.phone) and citizen_phone_revealable(
        user=request.user, citizen=citizen
    )


def _transcripts(ticket: Ticket, *, user) -> list[dict]:
    """Each linked contact with its messages, resident registration numbers masked, and a
    call's summary (times, menu path, transfers, recording) for a phone contact."""
    contacts = ticket.contacts.select_related("agent", "queue").order_by("created_at")
    result = []
    for contact in contacts.prefetch_related("messages"):
        lines = [
            {
                "sender": message.get_sender_display(),
                "sender_code": message.sender,
                "text": mask_rrn(message.text),
                "internal": message.internal,
                "created_at": message.created_at,
                "attachments": [attachment_public(message, item) for item in message.attachments],
            }
            for message in contact.messages.all()
        ]
        call = call_details(contact, user=user) if contact.channel == Channel.VOICE else None
        result.append({"contact": contact, "messages": lines, "call": call})
    return result


@role_required(*CENTRE, OFFICER)
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The centre's whole ticket. A department officer (following an old link or a
    notification) is sent to the department page of the ticket, which leaves out the
    centre's internal notes, transcripts and files."""
    ticket = _get_ticket_for_user(request, ticket_id)
    if not _is_centre(request):
        return redirect("department-ticket", ticket.pk)
    related = article_search(
        query=f"{ticket.subject} {ticket.description}"[:200], limit=RELATED_ARTICLES
    )
    context = {
        "ticket": ticket,
        "centre": True,
        "supervisor": _is_supervisor(request),
        "department_panel": bool(user_roles(request.user) & {AGENT, SUPERVISOR}),
        "can_reveal_phone": _can_reveal_phone(request, ticket),
        "transcripts": _transcripts(ticket, user=request.user),
        "outbound_messages": selectors.ticket_outbound_messages(ticket),
        "events": ticket.events.select_related("actor"),
        "attribute_answers": selectors.ticket_attribute_answers(ticket),
        "status_labels": dict(Ticket.Status.choices),
        "attachments": ticket.attachments.all(),
        "merged_tickets": ticket.merged_tickets.all(),
        "first_contact_resolved": selectors.first_contact_resolved(ticket),
        "related_articles": [article for article, _score, _snippet in related],
        "resolve_form": TicketResolveForm(initial={"answer": ticket.answer}),
        "assign_form": TicketAssignForm(initial={"assignee": ticket.assignee_id}),
        "attachment_form": TicketAttachmentForm(),
        "merge_form": TicketMergeForm(),
    }
    return render(request, "tickets/ticket_detail.html", context)


@role_required(*CENTRE, OFFICER)
@require_GET
def ticket_attachment(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    """A ticket's file, for those who may see the ticket; never under a public URL.
    Department officers get only the files the citizen may see: the rest are the centre's."""
    ticket = _get_ticket_for_user(request, ticket_id)
    attachments = (
        ticket.attachments if _is_centre(request) else ticket.attachments.filter(public=True)
    )
    attachment = get_object_or_404(attachments, pk=attachment_id)
    is_image = attachment.content_type.startswith("image/")
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not is_image,
        filename=attachment.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
