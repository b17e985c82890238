"""Outbound real-time events, all in one place.

Services call ``publish_…`` inside their transaction; the event leaves through the channel
layer only after the transaction commits, so no client hears of a change that rolled back.
Each payload's ``type`` names the consumer handler that relays it ("presence.changed" →
``presence_changed``); the frame a client receives is the payload itself.

Groups:
- ``agent.<agent id>``: one agent's consoles (offers, assigned contacts, presence);
- ``contact.<contact id>``: staff following a conversation (agent, supervisors who joined);
- ``citizen.<contact id>``: the citizen's chat (never internal notes);
- ``supervisors``: presence changes for wallboards;
- ``agents``: every agent console (queue lengths);
- ``department.<department id>``: a department's officers (tickets transferred to them).

Ticket notices (``ticket.notice``) tell the people a ticket concerns that something needs
their eyes: a department answered, asked for information or returned it; an SLA clock
reached 80 % or was breached. The centre hears them on ``/ws/agent/`` (the assignee's
consoles and supervisors), departments on ``/ws/department/``.
"""

import asyncio
import logging
import os
from typing import Literal, TypedDict

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from callcenter.korean import josa_resolve

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"
AGENTS_GROUP = "agents"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def contact_group(contact_id: int) -> str:
    return f"contact.{contact_id}"


def citizen_group(contact_id: int) -> str:
    return f"citizen.{contact_id}"


def department_group(department_id: int) -> str:
    return f"department.{department_id}"


class PresenceChanged(TypedDict):
    type: Literal["presence.changed"]
    agent_id: int
    presence: str
    reason: str  # shown to people: a break's reason, or the label of a system reason
    reason_code: str  # the stored reason ("console_closed", "offer_missed" or the break's)
    changed_at: str


class MessagePayload(TypedDict):
    id: int
    contact_id: int
    sender: str
    sender_name: str
    text: str
    attachments: list[dict]
    internal: bool
    client_id: str
    created_at: str
    delivered_at: str | None


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    message: MessagePayload


class OfferCreated(TypedDict):
    type: Literal["offer.created"]
    offer: dict


class OfferCancelled(TypedDict):
    type: Literal["offer.cancelled"]
    offer_id: int
    contact_id: int
    reason: str


class ContactChanged(TypedDict):
    type: Literal["contact.assigned", "contact.updated"]
    contact: dict


class ContactRemoved(TypedDict):
    type: Literal["contact.removed"]
    contact_id: int
    reason: str


class ChatState(TypedDict):
    type: Literal["chat.state"]
    contact_id: int
    state: str
    agent_name: str | None


class TicketSummary(TypedDict):
    id: int
    number: str
    subject: str
    status: str
    status_display: str
    department: str | None
    assignee_id: int | None
    resolution_due: str | None
    url: str


class TicketNotice(TypedDict):
    type: Literal["ticket.notice"]
    kind: str
    ticket: TicketSummary
    message: str
    actor: str | None
    at: str


class QueuePosition(TypedDict):
    type: Literal["queue.position"]
    contact_id: int
    position: int
    eta_seconds: int


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _send_after_commit(groups: list[str], payload: dict) -> None:
    """Send ``payload`` to ``groups`` once the current transaction commits (at once when
    there is none); a rollback sends nothing."""
    # robust: the change is committed whatever happens to the broadcast; a failed send is
    # logged, and clients catch up from the database when they resume by last seen id.
    transaction.on_commit(lambda: broadcast(groups, payload), robust=True)


def broadcast(groups: list[str], payload: dict) -> None:
    """Send ``payload`` to ``groups`` now, from synchronous code.

    Called from a thread that a consumer or an ASGI view runs through ``sync_to_async``, the
    send is handed to that event loop and the thread returns at once: pool threads are few,
    and one that waited for the loop to send (``async_to_sync``) was a thread no other
    message could use. Elsewhere (Celery, management commands, sync tests) it sends and waits.
    """
    loop = _calling_loop()
    if loop is None:
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, payload)
        return
    try:
        loop.call_soon_threadsafe(_schedule, list(groups), payload)
    except RuntimeError:  # the loop closed meanwhile (a server shutting down)
        logger.warning("event %s not sent: the event loop has closed", payload.get("type"))


def _calling_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop that called this thread through sync_to_async, if any."""
    try:
        asyncio.get_running_loop()
        return None  # on the loop itself: sync code here is a bug elsewhere; send and wait
    except RuntimeError:
        pass
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or loop.is_closed() or not loop.is_running():
        return None
    return loop


# The last send queued per group on this process's loop: a group's events leave in the
# order they were committed, while different groups are sent concurrently.
_tails: dict[str, asyncio.Task] = {}


def _schedule(groups: list[str], payload: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        previous = _tails.get(group)
        task = asyncio.get_running_loop().create_task(_send(layer, group, payload, previous))
        _tails[group] = task
        task.add_done_callback(lambda done, group=group: _forget(group, done))


async def _send(layer, group: str, payload: dict, previous: asyncio.Task | None) -> None:
    if previous is not None and not previous.done():
        await asyncio.wait([previous])
    try:
        await layer.group_send(group, payload)
    except Exception:
        logger.exception("event %s to %s not sent", payload.get("type"), group)


def _forget(group: str, task: asyncio.Task) -> None:
    if _tails.get(group) is task:
        del _tails[group]


# --- serialisers ---------------------------------------------------------------------------
def sender_name(message) -> str:
    if message.sender == "citizen":
        return message.contact.citizen.name if message.contact.citizen_id else ""
    if message.sender_user_id is None:
        return ""
    user = message.sender_user
    agent = getattr(user, "agent", None)
    return agent.display_name if agent else user.display_name


def message_payload(message) -> MessagePayload:
    """A message as sockets show it. Resident registration numbers are masked on the way
    out (stored as typed): no console role needs one in full."""
    from callcenter.attachments import attachment_public
    from callcenter.privacy import mask_rrn

    return {
        "id": message.pk,
        "contact_id": message.contact_id,
        "sender": message.sender,
        "sender_name": sender_name(message),
        "text": mask_rrn(message.text),
        "attachments": [attachment_public(message, item) for item in message.attachments],
        "internal": message.internal,
        "client_id": message.client_id,
        "created_at": _iso(message.created_at),
        "delivered_at": _iso(message.delivered_at),
    }


def citizen_summary(citizen) -> dict | None:
    if citizen is None:
        return None
    return {
        "id": citizen.pk,
        "name": citizen.name,
        "masked_phone": citizen.masked_phone,
        "needs_assistance": citizen.needs_assistance,
        "language": citizen.preferred_language,
    }


def contact_summary(contact) -> dict:
    ticket = contact.tickets.order_by("id").first()
    return {
        "id": contact.pk,
        "channel": contact.channel,
        "channel_label": str(contact.get_channel_display()),
        "state": contact.state,
        "language": contact.language,
        "queue": {"id": contact.queue_id, "name": contact.queue.name} if contact.queue_id else None,
        "agent_id": contact.agent_id,
        "citizen": citizen_summary(contact.citizen),
        "queued_at": _iso(contact.queued_at),
        "answered_at": _iso(contact.answered_at),
        "ended_at": _iso(contact.ended_at),
        "ticket": {"id": ticket.pk, "number": ticket.number} if ticket else None,
        "previous_contact_id": contact.transferred_from_id,
    }


def offer_payload(offer) -> dict:
    contact = offer.contact
    return {
        "id": offer.pk,
        "contact_id": contact.pk,
        "channel": contact.channel,
        "channel_label": str(contact.get_channel_display()),
        "queue_name": contact.queue.name if contact.queue_id else "",
        "waited_seconds": round((offer.created_at - contact.queued_at).total_seconds()),
        "expires_at": _iso(offer.expires_at),
        "timeout_seconds": round((offer.expires_at - offer.created_at).total_seconds()),
        "citizen": citizen_summary(contact.citizen),
        "language": contact.language,
    }


# --- publishers ----------------------------------------------------------------------------
def publish_presence_changed(agent) -> None:
    payload: PresenceChanged = {
        "type": "presence.changed",
        "agent_id": agent.pk,
        "presence": agent.presence,
        "reason": agent.presence_reason_label,
        "reason_code": agent.presence_reason,
        "changed_at": _iso(agent.presence_changed_at),
    }
    _send_after_commit([agent_group(agent.pk), SUPERVISORS_GROUP], dict(payload))


def publish_message_created(message) -> None:
    payload: MessageCreated = {"type": "message.created", "message": message_payload(message)}
    groups = [contact_group(message.contact_id)]
    if not message.internal:
        groups.append(citizen_group(message.contact_id))
    _send_after_commit(groups, dict(payload))


def publish_messages_delivered(*, contact_id: int, up_to_id: int, audience: str, at) -> None:
    """Tell the other side its messages arrived (``audience`` is who sent them)."""
    group = contact_group(contact_id) if audience == "staff" else citizen_group(contact_id)
    _send_after_commit(
        [group],
        {
            "type": "message.delivered",
            "contact_id": contact_id,
            "up_to_id": up_to_id,
            "delivered_at": _iso(at),
        },
    )


def publish_offer_created(offer) -> None:
    payload: OfferCreated = {"type": "offer.created", "offer": offer_payload(offer)}
    _send_after_commit([agent_group(offer.agent_id)], dict(payload))


def publish_offer_cancelled(offer, *, reason: str) -> None:
    payload: OfferCancelled = {
        "type": "offer.cancelled",
        "offer_id": offer.pk,
        "contact_id": offer.contact_id,
        "reason": reason,
    }
    _send_after_commit([agent_group(offer.agent_id)], dict(payload))


def publish_contact_assigned(contact) -> None:
    payload: ContactChanged = {"type": "contact.assigned", "contact": contact_summary(contact)}
    _send_after_commit([agent_group(contact.agent_id)], dict(payload))


def publish_contact_updated(contact) -> None:
    payload: ContactChanged = {"type": "contact.updated", "contact": contact_summary(contact)}
    groups = [contact_group(contact.pk)]
    if contact.agent_id:
        groups.append(agent_group(contact.agent_id))
    _send_after_commit(groups, dict(payload))


def publish_contact_removed(contact, *, reason: str, agent_id: int | None = None) -> None:
    payload: ContactRemoved = {
        "type": "contact.removed",
        "contact_id": contact.pk,
        "reason": reason,
    }
    _send_after_commit([agent_group(agent_id or contact.agent_id)], dict(payload))


def publish_chat_state(contact) -> None:
    payload: ChatState = {
        "type": "chat.state",
        "contact_id": contact.pk,
        "state": contact.state,
        "agent_name": contact.agent.display_name if contact.agent_id else None,
    }
    _send_after_commit([citizen_group(contact.pk)], dict(payload))


def publish_chat_ended(contact, *, by: str) -> None:
    _send_after_commit(
        [citizen_group(contact.pk), contact_group(contact.pk)],
        {"type": "chat.ended", "contact_id": contact.pk, "by": by},
    )


def publish_chat_ticket(contact, *, number: str) -> None:
    """The citizen's inquiry was filed as ticket ``number`` (shown on the end screen too)."""
    _send_after_commit(
        [citizen_group(contact.pk)],
        {"type": "chat.ticket", "contact_id": contact.pk, "number": number},
    )


def publish_chat_moved(old, new) -> None:
    """A transfer to another queue: the citizen's chat follows the new leg."""
    _send_after_commit(
        [citizen_group(old.pk)],
        {"type": "chat.moved", "contact_id": old.pk, "new_contact_id": new.pk},
    )


def publish_queue_position(contact, *, position: int, eta_seconds: int) -> None:
    payload: QueuePosition = {
        "type": "queue.position",
        "contact_id": contact.pk,
        "position": position,
        "eta_seconds": eta_seconds,
    }
    _send_after_commit([citizen_group(contact.pk)], dict(payload))


def publish_no_agents(contact) -> None:
    _send_after_commit(
        [citizen_group(contact.pk)],
        {"type": "queue.no_agents", "contact_id": contact.pk, "callback_available": True},
    )


def publish_queue_counts(counts: dict[int, int]) -> None:
    """Waiting contacts per queue, for the consoles' headers."""
    _send_after_commit(
        [AGENTS_GROUP],
        {"type": "queues.updated", "queues": [{"id": q, "waiting": n} for q, n in counts.items()]},
    )


def ticket_summary(ticket) -> TicketSummary:
    from django.urls import reverse

    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_display": str(ticket.get_status_display()),
        "department": ticket.department.name if ticket.department_id else None,
        "assignee_id": ticket.assignee_id,
        "resolution_due": _iso(ticket.resolution_due),
        "url": reverse("ticket-detail", args=[ticket.pk]),
    }


def publish_ticket_notice(
    ticket,
    *,
    kind: str,
    message: str,
    actor=None,
    centre: bool = True,
    department: bool = False,
) -> None:
    """Tell the centre (the assignee's consoles and supervisors) and/or the ticket's
    department about a step of a ticket. ``kind`` names the step for clients
    ("department_answered", "info_requested", "returned", "sla_warning", "sla_breached", …).
    """
    from callcenter.models import Agent

    groups = []
    if centre:
        groups.append(SUPERVISORS_GROUP)
        if ticket.assignee_id:
            agent_id = Agent.objects.filter(user_id=ticket.assignee_id).values_list("pk", flat=True)
            groups.extend(agent_group(pk) for pk in agent_id)
    if department and ticket.department_id:
        groups.append(department_group(ticket.department_id))
    payload: TicketNotice = {
        "type": "ticket.notice",
        "kind": kind,
        "ticket": ticket_summary(ticket),
        # The .po writes "을(를)" where the particle depends on a number or name.
        "message": josa_resolve(str(message)),
        "actor": (actor.get_full_name() or actor.get_username()) if actor else None,
        "at": _iso(timezone.now()),
    }
    _send_after_commit(groups, dict(payload))
