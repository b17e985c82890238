"""The video call's voice relay: the agent brings a voice party (a department by phone)
into the call through the voice backend's conference, and interprets between them.

- ``GET  /api/video/calls/<contact_id>/relay``: the relay's state (the call's agent;
  supervisors and administrators read it too).
- ``POST /api/video/calls/<contact_id>/relay`` (the call's agent only):
  ``{"department_id": 3}`` or ``{"number": "02-120-1234"}`` → 201.
- ``POST /api/video/calls/<contact_id>/relay/end`` (the call's agent only) → 200.
- ``GET  /api/video/relay-targets``: the departments the console offers (names, masked
  phones), for agents.

Answers: ``{"contact_id", "relay": {"state", "department", "number", "legs", …}}`` with
numbers masked; 400 a bad number or department, 401 signed out, 403 not the call's agent,
404 no such video call, 409 not in conversation or a relay already live, 503
``voice_unavailable`` when no voice backend dials out. Every error is ``{"error",
"message"}``; the CSRF token is required as for any form.
"""

import json

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callcenter.models import Agent, Channel, Contact
from callcenter.roles import (
    ADMINISTRATOR,
    AGENT,
    SUPERVISOR,
    api_signed_in,
    json_error,
    user_roles,
)
from callcenter.services import video_relay as relay
from tickets.models import Department


def _answer(contact: Contact, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {"contact_id": contact.pk, "relay": relay.relay_state(contact)}, status=status
    )


def _agent(request: HttpRequest) -> Agent | None:
    if AGENT not in user_roles(request.user):
        return None
    return Agent.objects.filter(user=request.user).first()


def _video_contact(contact_id: int) -> Contact | None:
    return Contact.objects.filter(pk=contact_id, channel=Channel.VIDEO).first()


def _target(body: dict) -> tuple[Department | None, str]:
    """The department or the typed number the body names; ValueError otherwise."""
    if "department_id" in body:
        department_id = body["department_id"]
        if not isinstance(department_id, int) or isinstance(department_id, bool):
            raise ValueError(_("department_id must be an integer."))
        department = Department.objects.filter(pk=department_id, is_active=True).first()
        if department is None:
            raise ValueError(_("No such department."))
        return department, ""
    number = body.get("number")
    if not isinstance(number, str) or not number.strip() or len(number) > 30:
        raise ValueError(_("Choose a department or enter a number."))
    return None, number


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(_("The request body is not JSON.")) from error
    if not isinstance(body, dict):
        raise ValueError(_("The request body must be a JSON object."))
    return body


@require_http_methods(["GET", "POST"])
@api_signed_in
def video_relay(request: HttpRequest, contact_id: int) -> JsonResponse:
    contact = _video_contact(contact_id)
    if contact is None:
        return json_error(404, "not_found", _("No such video call."))
    agent = _agent(request)
    mine = agent is not None and contact.agent_id == agent.pk
    if request.method == "GET":
        if not mine and not user_roles(request.user) & {SUPERVISOR, ADMINISTRATOR}:
            return json_error(403, "forbidden", _("This video call is not yours."))
        return _answer(contact)
    if not mine:
        return json_error(403, "forbidden", _("This video call is not yours."))
    if not relay.relay_available():
        return json_error(503, "voice_unavailable", _("No voice line is set up to call out."))
    try:
        department, number = _target(_body(request))
        contact = relay.video_relay_start(
            contact=contact, agent=agent, department=department, number=number
        )
    except ValueError as error:  # RelayInvalid too
        return json_error(400, "invalid", str(error))
    except PermissionError as error:
        return json_error(403, "forbidden", str(error))
    except relay.RelayError as error:
        return json_error(409, "conflict", str(error))
    return _answer(contact, status=201)


@require_POST
@api_signed_in
def video_relay_end(request: HttpRequest, contact_id: int) -> JsonResponse:
    contact = _video_contact(contact_id)
    if contact is None:
        return json_error(404, "not_found", _("No such video call."))
    agent = _agent(request)
    if agent is None or contact.agent_id != agent.pk:
        return json_error(403, "forbidden", _("This video call is not yours."))
    try:
        contact = relay.video_relay_end(contact=contact, agent=agent)
    except PermissionError as error:
        return json_error(403, "forbidden", str(error))
    except relay.RelayError as error:
        return json_error(409, "conflict", str(error))
    return _answer(contact)


@require_GET
@api_signed_in
def video_relay_targets(request: HttpRequest) -> JsonResponse:
    if _agent(request) is None:
        return json_error(403, "forbidden", _("Only agents call departments."))
    return JsonResponse(
        {"departments": relay.relay_targets(), "available": relay.relay_available()}
    )
