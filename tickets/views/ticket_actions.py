"""What the centre does on a ticket page (and in bulk on the list): each a POST that calls
one service and goes back to the page with a message. A refused step writes nothing."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from callcenter.korean import josa_resolve
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, role_required
from tickets import services
from tickets.forms import (
    TicketAssignForm,
    TicketAttachmentForm,
    TicketBulkForm,
    TicketMergeForm,
    TicketNoteForm,
    TicketReasonForm,
    TicketResolveForm,
)
from tickets.models import Ticket
from tickets.views.tickets import CENTRE


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _act(
    request: HttpRequest,
    ticket: Ticket,
    form: forms.Form | None,
    action: Callable[[dict], object],
    done: str,
) -> HttpResponse:
    """Validate ``form``, run ``action`` with its data, report the outcome on the page."""
    if form is not None and not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            action(form.cleaned_data if form is not None else {})
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
    return redirect("ticket-detail", ticket.pk)


def _ticket(ticket_id: int) -> Ticket:
    return get_object_or_404(Ticket, pk=ticket_id)


@role_required(*CENTRE)
@require_POST
def ticket_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketNoteForm(request.POST),
        lambda data: services.ticket_comment(ticket=ticket, actor=request.user, text=data["text"]),
        _("Internal note added."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_resolve(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketResolveForm(request.POST),
        lambda data: services.ticket_resolve(
            ticket=ticket, actor=request.user, answer=data["answer"]
        ),
        _("Ticket resolved."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketAssignForm(request.POST),
        lambda data: services.ticket_assign(
            ticket=ticket, assignee=data["assignee"], actor=request.user
        ),
        _("Assignee changed."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_reopen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketReasonForm(request.POST),
        lambda data: services.ticket_reopen(
            ticket=ticket, actor=request.user, reason=data["reason"]
        ),
        _("Ticket reopened."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketReasonForm(request.POST),
        lambda data: services.ticket_close(
            ticket=ticket, actor=request.user, reason=data["reason"]
        ),
        _("Ticket closed."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_attachment_upload(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketAttachmentForm(request.POST, request.FILES),
        lambda data: services.ticket_attachment_add(
            ticket=ticket, actor=request.user, upload=data["file"], public=data["public"]
        ),
        _("File attached."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    source = _ticket(ticket_id)
    form = TicketMergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("ticket-detail", source.pk)
    target = form.cleaned_data["target"]
    try:
        services.ticket_merge(source=source, target=target, actor=request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("ticket-detail", source.pk)
    messages.success(
        request,
        josa_resolve(
            _("Ticket %(source)s was merged into this ticket.") % {"source": source.number}
        ),
    )
    return redirect("ticket-detail", target.pk)


@role_required(*CENTRE)
@require_POST
def ticket_sla_pause(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        TicketReasonForm(request.POST),
        lambda data: services.ticket_sla_pause(
            ticket=ticket, actor=request.user, reason=data["reason"]
        ),
        _("The SLA clocks are paused while the ticket waits for the citizen."),
    )


@role_required(*CENTRE)
@require_POST
def ticket_sla_resume(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(ticket_id)
    return _act(
        request,
        ticket,
        None,
        lambda _data: services.ticket_sla_resume(ticket=ticket, actor=request.user),
        _("The SLA clocks run again."),
    )


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def ticket_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, recategorise or close the tickets ticked in the list, all or none."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "ticket-list"
    form = TicketBulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    data = form.cleaned_data
    action = data["action"]
    try:
        changed = services.tickets_bulk_update(
            tickets=data["tickets"],
            actor=request.user,
            assignee=data["assignee"] if action == "assign" else None,
            category=data["category"] if action == "category" else None,
            close=action == "close",
            reason=data["reason"],
        )
    except ValueError as error:
        messages.error(request, _("Nothing was changed. %(error)s") % {"error": error})
    else:
        count = len(changed)
        messages.success(
            request,
            ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", count)
            % {"count": count},
        )
    return redirect(back)
