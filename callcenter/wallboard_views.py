"""The live wallboard (``/supervisor/wallboard/``, ``?tv=1`` for the wall) and the actions a
supervisor takes from it. The page renders the first snapshot; ``/ws/wallboard/`` pushes
the next ones. Actions answer JSON to the page's fetch() (``Accept: application/json``) and
redirect back, with a message, for a plain form post."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.forms_wallboard import AgentPresenceForm, ContactQueueForm
from callcenter.models import Agent, Channel, Contact
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, role_required
from callcenter.services import supervision
from callcenter.wallboard import wallboard_snapshot


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    tv = request.GET.get("tv") == "1"
    return render(
        request,
        "callcenter/wallboard.html",
        {
            "snapshot": wallboard_snapshot(),
            "tv": tv,
            "channel_labels": {channel.value: str(channel.label) for channel in Channel},
            "presence_form": AgentPresenceForm(),
            "queue_form": ContactQueueForm(),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request: HttpRequest, *, ok: bool, message: str, **extra) -> HttpResponse:
    """JSON for the page's fetch(); a redirect back with a message for a form post."""
    if _wants_json(request):
        body = (
            {"ok": True, "message": message, **extra}
            if ok
            else {
                "error": "refused",
                "message": message,
            }
        )
        return JsonResponse(body, status=200 if ok else 400)
    (messages.success if ok else messages.error)(request, message)
    return redirect(extra.get("next") or reverse("supervisor-wallboard"))


def _form_problem(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def agent_presence(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(Agent, pk=agent_id)
    form = AgentPresenceForm(request.POST)
    if not form.is_valid():
        return _answer(request, ok=False, message=_form_problem(form))
    try:
        agent = supervision.agent_presence_set_by_supervisor(
            agent=agent,
            presence=form.cleaned_data["presence"],
            reason=form.cleaned_data["reason"],
            supervisor=request.user,
        )
    except supervision.SupervisionError as error:
        return _answer(request, ok=False, message=str(error))
    return _answer(
        request,
        ok=True,
        message=_("%(name)s is now %(state)s.")
        % {"name": agent.display_name, "state": agent.get_presence_display()},
        presence=agent.presence,
    )


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def contact_queue(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    form = ContactQueueForm(request.POST)
    if not form.is_valid():
        return _answer(request, ok=False, message=_form_problem(form))
    queue = form.cleaned_data["queue"]
    try:
        supervision.contact_move_to_queue(contact=contact, queue=queue, supervisor=request.user)
    except supervision.SupervisionError as error:
        return _answer(request, ok=False, message=str(error))
    return _answer(
        request,
        ok=True,
        message=_("Contact #%(id)s now waits in %(queue)s.")
        % {"id": contact.pk, "queue": queue.name},
        queue_id=queue.pk,
    )


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_POST
def contact_take_over(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    try:
        supervision.contact_take_over(contact=contact, supervisor=request.user)
    except supervision.SupervisionError as error:
        if _wants_json(request):
            return _answer(request, ok=False, message=str(error))
        messages.error(request, str(error))
        return redirect("supervisor-contact", contact_id=contact.pk)
    return _answer(
        request,
        ok=True,
        message=_("Conversation #%(id)s is yours now: it is in your agent console.")
        % {"id": contact.pk},
        next=reverse("agent-console"),
        console_url=reverse("agent-console"),
    )
