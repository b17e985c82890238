"""The call-back work list: agents take call-backs and record what came of them;
supervisors also reassign and cancel. Writes go through ``callcenter.callbacks``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.forms import (
    CallbackCancelForm,
    CallbackFilterForm,
    CallbackOutcomeForm,
    CallbackReassignForm,
)
from callcenter.models import Agent, CallbackRequest
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, role_required
from callcenter.services import callbacks, routing, video_callbacks
from callcenter.services.contacts import personal_data_access_log

CENTRE = (AGENT, SUPERVISOR, ADMINISTRATOR)


def _agent_of(request: HttpRequest) -> Agent | None:
    return Agent.objects.filter(user=request.user).first()


def _visible_callbacks(request: HttpRequest):
    """Supervisors see every call-back; an agent those of their queues and their own."""
    if callbacks.is_callback_supervisor(request.user):
        return CallbackRequest.objects.all()
    agent = _agent_of(request)
    if agent is None:
        return CallbackRequest.objects.none()
    return CallbackRequest.objects.filter(
        Q(pk__in=callbacks.callback_list_for_agent(agent=agent)) | Q(assigned_to=agent)
    )


def _get_callback_for_user(request: HttpRequest, callback_id: int) -> CallbackRequest:
    return get_object_or_404(
        _visible_callbacks(request).select_related("queue", "citizen", "assigned_to", "ticket"),
        pk=callback_id,
    )


@role_required(*CENTRE)
@require_GET
def callback_list(request: HttpRequest) -> HttpResponse:
    form = CallbackFilterForm(request.GET or None)
    status, queue = "", None
    if form.is_valid():
        status, queue = form.cleaned_data["status"], form.cleaned_data["queue"]
    rows = callbacks.callback_list(status=status, queue=queue).filter(
        pk__in=_visible_callbacks(request)
    )
    agent = _agent_of(request)
    return render(
        request,
        "callcenter/callbacks/list.html",
        {
            "form": form,
            "callbacks": rows[:200],
            "agent": agent,
            "open_count": callbacks.callback_open_count(agent=agent) if agent else None,
            "is_supervisor": callbacks.is_callback_supervisor(request.user),
        },
    )


def _detail(request: HttpRequest, callback: CallbackRequest, status: int = 200, **forms):
    agent = _agent_of(request)
    owner = agent is not None and callback.assigned_to_id == agent.pk
    supervisor = callbacks.is_callback_supervisor(request.user)
    action = reverse("callback-outcome", args=[callback.pk])
    context = {
        "callback": callback,
        "events": callback.events.select_related("actor"),
        "agent": agent,
        "can_act": owner or supervisor,
        "is_owner": owner,
        "is_supervisor": supervisor,
        "result_choices": CallbackRequest.Result.choices,
        "outcome_form": forms.get("outcome_form") or CallbackOutcomeForm(action=action),
        "cancel_form": forms.get("cancel_form") or CallbackCancelForm(),
        "reassign_form": forms.get("reassign_form") or CallbackReassignForm(),
    }
    return render(request, "callcenter/callbacks/detail.html", context, status=status)


@role_required(*CENTRE)
@require_GET
def callback_detail(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _detail(request, _get_callback_for_user(request, callback_id))


def _refused(request: HttpRequest, callback: CallbackRequest, error: Exception) -> HttpResponse:
    """A move the call-back no longer allows (someone was faster, or it is closed): 409."""
    if isinstance(error, callbacks.CallbackForbidden):
        raise PermissionDenied(str(error))
    messages.error(request, str(error))
    callback.refresh_from_db()
    return _detail(request, callback, status=409)


@role_required(AGENT)
@require_POST
def callback_take(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = _get_callback_for_user(request, callback_id)
    agent = _agent_of(request)
    if agent is None:
        raise PermissionDenied("Only agents take call-backs.")
    try:
        callbacks.callback_take(callback=callback, agent=agent)
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    routing.callback_call_withdraw(callback)  # taken by hand: the router no longer offers it
    messages.success(request, _("You have taken this call-back. Call the citizen now."))
    return redirect("callback-detail", callback.pk)


@role_required(AGENT)
@require_POST
def callback_take_next(request: HttpRequest) -> HttpResponse:
    agent = _agent_of(request)
    if agent is None:
        raise PermissionDenied("Only agents take call-backs.")
    callback = callbacks.callback_take_next(agent=agent)
    if callback is None:
        messages.info(request, _("No call-back is waiting in your queues."))
        return redirect("callback-list")
    routing.callback_call_withdraw(callback)
    messages.success(request, _("You have taken this call-back. Call the citizen now."))
    return redirect("callback-detail", callback.pk)


@role_required(*CENTRE)
@require_POST
def callback_outcome(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = _get_callback_for_user(request, callback_id)
    form = CallbackOutcomeForm(request.POST, action=request.path)
    if not form.is_valid():
        return _detail(request, callback, status=422, outcome_form=form)
    try:
        callback = callbacks.callback_attempt_record(
            callback=callback,
            user=request.user,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
        )
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    messages.success(request, _("Outcome recorded: %s") % callback.get_status_display())
    return redirect("callback-detail", callback.pk)


@role_required(*CENTRE)
@require_POST
def callback_complete(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = _get_callback_for_user(request, callback_id)
    try:
        callbacks.callback_complete(
            callback=callback, user=request.user, note=request.POST.get("note", "")[:500]
        )
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    messages.success(request, _("Call-back closed."))
    return redirect("callback-list")


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def callback_cancel(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = _get_callback_for_user(request, callback_id)
    form = CallbackCancelForm(request.POST)
    if not form.is_valid():
        return _detail(request, callback, status=422, cancel_form=form)
    try:
        callbacks.callback_cancel(
            callback=callback, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        form.add_error("reason", error.messages)
        return _detail(request, callback, status=422, cancel_form=form)
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    routing.callback_call_withdraw(callback)
    messages.success(request, _("Call-back cancelled."))
    return redirect("callback-list")


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def callback_reassign(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = _get_callback_for_user(request, callback_id)
    form = CallbackReassignForm(request.POST)
    if not form.is_valid():
        return _detail(request, callback, status=422, reassign_form=form)
    try:
        callbacks.callback_reassign(
            callback=callback, agent=form.cleaned_data["agent"], user=request.user
        )
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    messages.success(request, _("Call-back given to %s.") % form.cleaned_data["agent"])
    return redirect("callback-detail", callback.pk)


@role_required(AGENT)
@require_POST
def callback_video_link(request: HttpRequest, callback_id: int) -> HttpResponse:
    """Text the citizen of a sign-language video call-back the link that starts the call
    with me: 403 unless it is mine and I sign, 409 when it is not a video call-back taken."""
    callback = _get_callback_for_user(request, callback_id)
    agent = _agent_of(request)
    if agent is None:
        raise PermissionDenied("Only agents send video call links.")
    try:
        video_callbacks.video_callback_link_send(callback=callback, agent=agent)
    except callbacks.CallbackError as error:
        return _refused(request, callback, error)
    messages.success(request, _("The link has been sent."))
    return redirect("callback-detail", callback.pk)


@role_required(AGENT)
@require_POST
def callback_reveal_phone(request: HttpRequest, callback_id: int) -> HttpResponse:
    """The full number, for the agent who has taken the call-back; every look is logged."""
    callback = _get_callback_for_user(request, callback_id)
    if not callbacks.callback_phone_revealable(user=request.user, callback=callback):
        raise PermissionDenied("Only the agent who took this call-back may see the number.")
    if callback.citizen is None:
        raise Http404("No citizen on record.")
    personal_data_access_log(
        user=request.user,
        citizen=callback.citizen,
        field="phone",
        reason=f"call-back #{callback.pk}",
    )
    return render(request, "callcenter/callbacks/_phone.html", {"callback": callback})


@role_required(AGENT)
@require_GET
def callback_badge(request: HttpRequest) -> HttpResponse:
    """The console's call-back panel: open call-backs of my queues, and the ones I hold."""
    agent = _agent_of(request)
    if agent is None:
        raise PermissionDenied("Only agents have a console.")
    mine = CallbackRequest.objects.filter(
        assigned_to=agent, status=CallbackRequest.Status.TAKEN
    ).count()
    return render(
        request,
        "callcenter/callbacks/_badge.html",
        {"open_count": callbacks.callback_open_count(agent=agent), "mine": mine},
    )
