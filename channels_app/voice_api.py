"""The console's call controls: JSON over the session, one POST per action.

- ``GET  /api/voice/calls/<contact_id>``: the call's live state (its agent, a colleague
  dialled in for a warm transfer, supervisors).
- ``POST /api/voice/calls/<contact_id>/<action>`` (the call's agent only), actions:
  ``hold``, ``resume``, ``mute``, ``unmute``, ``transfer`` (``{"agent": id}`` or
  ``{"queue": "code"}``, ``"mode": "blind"|"warm"``, optional ``"note"``),
  ``transfer-complete``, ``transfer-cancel``, ``interpreter`` (optional
  ``{"language": "en"}``), ``interpreter-remove``, ``hang-up``.
- ``POST /api/voice/callbacks/<callback_id>/dial``: call a taken call-back from the
  softphone.

Answers: 200 ``{"contact_id", "state", "call"}`` (``call`` as in the ``call.updated``
frame); 400 a malformed request, 401 signed out, 403 not the call's agent, 404 no such
call, 409 the call cannot do that now; every error is ``{"error", "message"}``. The
CSRF token is required as for any form.
"""

import json
from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.models import Agent, CallbackRequest, Channel, Contact, Queue
from callcenter.roles import (
    ADMINISTRATOR,
    AGENT,
    SUPERVISOR,
    api_signed_in,
    json_error,
    user_roles,
)
from callcenter.services import call_controls, calls, voice


def _answer(contact: Contact) -> JsonResponse:
    contact.refresh_from_db()
    return JsonResponse(
        {"contact_id": contact.pk, "state": contact.state, "call": voice.call_summary(contact)}
    )


def _agent(request: HttpRequest) -> Agent | None:
    if AGENT not in user_roles(request.user):
        return None
    return Agent.objects.filter(user=request.user).first()


def _body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(_("The request body is not JSON.")) from error
    if not isinstance(body, dict):
        raise ValueError(_("The request body must be a JSON object."))
    return body


def _integer(body: dict, name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(_("%(name)s must be an integer.") % {"name": name})
    return value


def _transfer(contact: Contact, agent: Agent, body: dict) -> Contact:
    mode = body.get("mode", "blind")
    note = body.get("note", "")
    if mode not in ("blind", "warm") or not isinstance(note, str):
        raise ValueError(_("mode is blind or warm, and note is text."))
    if "queue" in body:
        if mode == "warm":
            raise ValueError(_("A warm transfer goes to a colleague, not a queue."))
        queue = Queue.objects.filter(code=str(body["queue"]), is_active=True).first()
        if queue is None:
            raise LookupError(_("No such queue."))
        return call_controls.call_transfer_to_queue(
            contact=contact, agent=agent, queue=queue, note=note
        )
    target = Agent.objects.filter(pk=_integer(body, "agent")).first()
    if target is None:
        raise LookupError(_("No such agent."))
    if mode == "warm":
        return call_controls.call_consult(contact=contact, agent=agent, to_agent=target)
    return call_controls.call_transfer_to_agent(
        contact=contact, agent=agent, to_agent=target, note=note
    )


def _language(body: dict) -> str:
    language = body.get("language", "")
    if not isinstance(language, str):
        raise ValueError(_("language must be text."))
    return language


ACTIONS: dict[str, Callable[[Contact, Agent, dict], Contact]] = {
    "hold": lambda c, a, b: call_controls.call_hold(contact=c, agent=a, hold=True),
    "resume": lambda c, a, b: call_controls.call_hold(contact=c, agent=a, hold=False),
    "mute": lambda c, a, b: call_controls.call_mute(contact=c, agent=a, muted=True),
    "unmute": lambda c, a, b: call_controls.call_mute(contact=c, agent=a, muted=False),
    "transfer": _transfer,
    "transfer-complete": lambda c, a, b: call_controls.call_consult_complete(
        contact=c, agent=a, note=str(b.get("note", ""))
    ),
    "transfer-cancel": lambda c, a, b: call_controls.call_consult_cancel(contact=c, agent=a),
    "interpreter": lambda c, a, b: call_controls.call_interpreter_add(
        contact=c, agent=a, language=_language(b)
    ),
    "interpreter-remove": lambda c, a, b: call_controls.call_interpreter_remove(contact=c, agent=a),
    "hang-up": lambda c, a, b: call_controls.call_hang_up(contact=c, agent=a),
}


@require_GET
@api_signed_in
def call_state(request: HttpRequest, contact_id: int) -> JsonResponse:
    contact = Contact.objects.filter(pk=contact_id, channel=Channel.VOICE).first()
    if contact is None:
        return json_error(404, "not_found", _("No such call."))
    agent = _agent(request)
    on_call = agent is not None and (
        contact.agent_id == agent.pk or contact.call_legs.filter(agent=agent).exists()
    )
    if not on_call and not user_roles(request.user) & {SUPERVISOR, ADMINISTRATOR}:
        return json_error(403, "forbidden", _("This call is not yours."))
    return _answer(contact)


@require_POST
@api_signed_in
def call_action(request: HttpRequest, contact_id: int, action: str) -> JsonResponse:
    run = ACTIONS.get(action)
    if run is None:
        return json_error(404, "unknown_action", _("No such call action."))
    agent = _agent(request)
    if agent is None:
        return json_error(403, "forbidden", _("Only agents control calls."))
    contact = Contact.objects.filter(pk=contact_id, channel=Channel.VOICE).first()
    if contact is None:
        return json_error(404, "not_found", _("No such call."))
    if contact.agent_id != agent.pk:
        return json_error(403, "forbidden", _("This call is not yours."))
    try:
        contact = run(contact, agent, _body(request))
    except ValueError as error:
        return json_error(400, "invalid", str(error))
    except LookupError as error:
        return json_error(404, "not_found", str(error))
    except calls.CallError as error:
        return json_error(409, "conflict", str(error))
    return _answer(contact)


@require_POST
@api_signed_in
def callback_dial(request: HttpRequest, callback_id: int) -> JsonResponse:
    agent = _agent(request)
    if agent is None:
        return json_error(403, "forbidden", _("Only agents call citizens back."))
    callback = CallbackRequest.objects.filter(pk=callback_id).first()
    if callback is None:
        return json_error(404, "not_found", _("No such call-back."))
    if callback.assigned_to_id not in (None, agent.pk):
        return json_error(403, "forbidden", _("This call-back is another agent's."))
    try:
        contact = call_controls.callback_dial(callback=callback, agent=agent)
    except calls.CallError as error:
        return json_error(409, "conflict", str(error))
    return _answer(contact)
