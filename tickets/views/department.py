"""Department transfers (이관), both sides.

Officers: the inbox of their department and a ticket page to answer, ask the centre or
return the ticket. Officers see only their own department's tickets (others are 404) and a
citizen's phone masked until they press "show", which is logged.

Centre (agents, supervisors): the department panel of the staff ticket page, loaded into it
by htmx, to transfer a ticket and to answer a department's question.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from callcenter.korean import josa_resolve
from callcenter.roles import AGENT, OFFICER, SUPERVISOR, role_required
from callcenter.services.contacts import personal_data_access_log
from channels_app.models import OutboundMessage
from tickets import selectors, services
from tickets.forms_department import (
    DepartmentAnswerForm,
    DepartmentReturnForm,
    DepartmentTransferForm,
    InfoProvideForm,
    InfoRequestForm,
)
from tickets.models import Department, Officer, Ticket, TicketEvent
from tickets.services.department import DEPARTMENT_STATUSES, QUESTION_STEPS

# The steps between the centre and a department; comments and other internal notes of the
# centre are not the department's business.
DEPARTMENT_STEPS = [
    TicketEvent.Type.TRANSFERRED,
    TicketEvent.Type.INFO_REQUESTED,
    TicketEvent.Type.INFO_PROVIDED,
    TicketEvent.Type.ANSWERED,
    TicketEvent.Type.ANSWER_SENT,
    TicketEvent.Type.ANSWER_NOT_SENT,
    TicketEvent.Type.RETURNED,
]
INBOX_TABS = {
    "waiting": gettext_lazy("Waiting for an answer"),
    "info": gettext_lazy("Information requested"),
    "answered": pgettext_lazy("department inbox", "Answered"),
}


# --- access ----------------------------------------------------------------------------------
def _get_officer_for_user(request: HttpRequest) -> Officer:
    return get_object_or_404(Officer.objects.select_related("department"), user=request.user)


def _get_ticket_for_officer(request: HttpRequest, ticket_id: int) -> Ticket:
    """The ticket if it is with the officer's department; 404 for every other ticket."""
    officer = _get_officer_for_user(request)
    return get_object_or_404(
        Ticket.objects.select_related("category__parent", "citizen", "department"),
        pk=ticket_id,
        department=officer.department,
    )


# --- the steps between the centre and departments ---------------------------------------------
SENT_VIA = {
    "sms": gettext_lazy("by SMS"),
    "kakao": gettext_lazy("by KakaoTalk"),
    "email": gettext_lazy("by email"),
    "callback": gettext_lazy("as a call-back task for an agent"),
}
STEP_TEXT = {
    TicketEvent.Type.TRANSFERRED: "note",
    TicketEvent.Type.INFO_REQUESTED: "question",
    TicketEvent.Type.INFO_PROVIDED: "text",
    TicketEvent.Type.ANSWERED: "answer",
    TicketEvent.Type.RETURNED: "reason",
    TicketEvent.Type.ANSWER_NOT_SENT: "reason",
}


def _department_steps(ticket: Ticket) -> list[TicketEvent]:
    """The ticket's department steps, each with the department's name and what was said."""
    steps = list(
        ticket.events.filter(type__in=DEPARTMENT_STEPS).select_related("actor").order_by("id")
    )
    names = dict(Department.objects.values_list("code", "name"))
    not_delivered = set(
        selectors.ticket_outbound_messages(ticket)
        .filter(status__in=selectors.OUTBOUND_NOT_DELIVERED)
        .values_list("pk", flat=True)
    )
    for step in steps:
        step.department_name = names.get(step.data.get("department"), "")
        if step.type == TicketEvent.Type.ANSWER_SENT:
            step.detail = SENT_VIA.get(step.data.get("via"), "")
            failed = step.data.get("status") == OutboundMessage.Status.FAILED
            if step.data.get("outbound_id") in not_delivered or failed:
                step.detail = _("%(via)s (failed)") % {"via": step.detail}
        else:
            step.detail = step.data.get(STEP_TEXT[step.type], "")
    return steps


# --- officer: inbox --------------------------------------------------------------------------
def _inbox_tickets(department: Department, tab: str) -> QuerySet[Ticket]:
    last_step = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), type__in=QUESTION_STEPS)
        .order_by("-id")
        .values("type")[:1]
    )
    tickets = (
        Ticket.objects.filter(department=department, merged_into__isnull=True)
        .annotate(last_step=Subquery(last_step))
        .select_related("category", "citizen")
        .order_by(F("resolution_due").asc(nulls_last=True), "created_at")
    )
    asking = TicketEvent.Type.INFO_REQUESTED
    if tab == "info":
        return tickets.filter(status__in=DEPARTMENT_STATUSES, last_step=asking)
    if tab == "answered":
        return tickets.filter(status=Ticket.Status.ANSWERED).exclude(last_step=asking)
    return tickets.filter(status=Ticket.Status.TRANSFERRED).exclude(last_step=asking)


@role_required(OFFICER)
@require_GET
def department_inbox(request: HttpRequest) -> HttpResponse:
    officer = _get_officer_for_user(request)
    tab = request.GET.get("tab", "waiting")
    if tab not in INBOX_TABS:
        tab = "waiting"
    page = Paginator(_inbox_tickets(officer.department, tab), 25).get_page(request.GET.get("page"))
    tabs = [
        (key, label, _inbox_tickets(officer.department, key).count())
        for key, label in INBOX_TABS.items()
    ]
    return render(
        request,
        "tickets/department_inbox.html",
        {"department": officer.department, "page": page, "tab": tab, "tabs": tabs},
    )


# --- officer: one ticket ---------------------------------------------------------------------
def _ticket_page(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **forms: forms.Form
) -> HttpResponse:
    steps = _department_steps(ticket)
    transfer = next(
        (
            step
            for step in reversed(steps)
            if step.type == TicketEvent.Type.TRANSFERRED
            and step.data.get("department") == ticket.department.code
        ),
        None,
    )
    context = {
        "ticket": ticket,
        "transfer": transfer,
        "steps": steps,
        "pending_question": services.info_request_pending(ticket),
        "transcripts": selectors.ticket_department_transcripts(ticket),
        "attribute_answers": selectors.ticket_attribute_answers(ticket),
        "can_act": ticket.is_active and ticket.status in DEPARTMENT_STATUSES,
        "answer_form": forms.get("answer_form") or DepartmentAnswerForm(),
        "question_form": forms.get("question_form") or InfoRequestForm(),
        "return_form": forms.get("return_form") or DepartmentReturnForm(),
    }
    return render(request, "tickets/department_ticket.html", context, status=status)


@role_required(OFFICER)
@require_GET
def department_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, _get_ticket_for_officer(request, ticket_id))


def _officer_step(
    request: HttpRequest,
    ticket_id: int,
    *,
    form_class: type[forms.Form],
    form_name: str,
    step: Callable[[Ticket, dict], object],
    done: str,
) -> HttpResponse | None:
    """Validate the form and run the step; None when it went through, else the page with the
    form's errors (422)."""
    ticket = _get_ticket_for_officer(request, ticket_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            step(ticket, form.cleaned_data)
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done)
            return None
    return _ticket_page(request, ticket, status=422, **{form_name: form})


@role_required(OFFICER)
@require_POST
def department_ticket_answer(request: HttpRequest, ticket_id: int) -> HttpResponse:
    refused = _officer_step(
        request,
        ticket_id,
        form_class=DepartmentAnswerForm,
        form_name="answer_form",
        step=lambda ticket, data: services.ticket_department_answer(
            ticket=ticket, officer_user=request.user, answer=data["answer"]
        ),
        done=_("The answer was recorded; the centre and the citizen are told."),
    )
    return refused or redirect("department-ticket", ticket_id)


@role_required(OFFICER)
@require_POST
def department_info_request(request: HttpRequest, ticket_id: int) -> HttpResponse:
    refused = _officer_step(
        request,
        ticket_id,
        form_class=InfoRequestForm,
        form_name="question_form",
        step=lambda ticket, data: services.ticket_info_request(
            ticket=ticket, officer_user=request.user, question=data["question"]
        ),
        done=_("Your question was sent to the centre."),
    )
    return refused or redirect("department-ticket", ticket_id)


@role_required(OFFICER)
@require_POST
def department_ticket_return(request: HttpRequest, ticket_id: int) -> HttpResponse:
    refused = _officer_step(
        request,
        ticket_id,
        form_class=DepartmentReturnForm,
        form_name="return_form",
        step=lambda ticket, data: services.ticket_department_return(
            ticket=ticket, officer_user=request.user, reason=data["reason"]
        ),
        done=_("The ticket was returned to the centre."),
    )
    return refused or redirect("department-inbox")


@role_required(OFFICER)
@require_POST
def department_reveal_phone(request: HttpRequest, ticket_id: int) -> JsonResponse:
    """The citizen's full phone for the officer working the ticket; every look is logged."""
    ticket = _get_ticket_for_officer(request, ticket_id)
    citizen = ticket.citizen
    if citizen is None or not citizen.phone:
        raise Http404("This ticket has no phone number.")
    personal_data_access_log(
        user=request.user,
        citizen=citizen,
        field="phone",
        reason=f"department ticket {ticket.number}",
    )
    return JsonResponse({"phone": citizen.phone.as_national})


# --- centre: the department panel of the staff ticket page -----------------------------------
def _panel(
    request: HttpRequest,
    ticket: Ticket,
    *,
    transfer_form: DepartmentTransferForm | None = None,
    info_form: InfoProvideForm | None = None,
) -> HttpResponse:
    steps = _department_steps(ticket)
    last = steps[-1] if steps else None
    context = {
        "department_panel_body": True,
        "ticket": ticket,
        "steps": steps,
        "pending_question": services.info_request_pending(ticket),
        "returned": last if last and last.type == TicketEvent.Type.RETURNED else None,
        # The department answered but the citizen left no way to send it: the centre must.
        "answer_unsent": bool(last and last.type == TicketEvent.Type.ANSWER_NOT_SENT),
        "can_transfer": ticket.is_active,
        "transfer_form": transfer_form or DepartmentTransferForm(),
        "info_form": info_form or InfoProvideForm(),
    }
    invalid = any(form is not None and form.errors for form in (transfer_form, info_form))
    return render(
        request, "tickets/_department_panel.html", context, status=422 if invalid else 200
    )


def _get_ticket_for_centre(ticket_id: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("department"), pk=ticket_id)


def _centre_done(request: HttpRequest, ticket: Ticket, message: str) -> HttpResponse:
    """After a step from the panel, the whole ticket page again: its status and timeline
    changed too (htmx reloads the page instead of swapping the panel)."""
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("ticket-detail", ticket.pk)


@role_required(AGENT, SUPERVISOR)
@require_GET
def ticket_department_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _panel(request, _get_ticket_for_centre(ticket_id))


@role_required(AGENT, SUPERVISOR)
@require_POST
def ticket_department_transfer(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _get_ticket_for_centre(ticket_id)
    form = DepartmentTransferForm(request.POST)
    if form.is_valid():
        department = form.cleaned_data["department"]
        try:
            services.ticket_department_transfer(
                ticket=ticket,
                department=department,
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return _centre_done(
                request,
                ticket,
                josa_resolve(
                    _("Ticket transferred to %(department)s.") % {"department": department.name}
                ),
            )
    return _panel(request, ticket, transfer_form=form)


@role_required(AGENT, SUPERVISOR)
@require_POST
def ticket_info_provide(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _get_ticket_for_centre(ticket_id)
    form = InfoProvideForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_info_provide(
                ticket=ticket, actor=request.user, text=form.cleaned_data["text"]
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return _centre_done(request, ticket, _("Your answer was sent to the department."))
    return _panel(request, ticket, info_form=form)
