"""Outbound real-time events: the groups, the frames' shapes, and their way out.

Services build payloads (``callcenter.services.notify``) and call ``send_after_commit``
inside their transaction; the event leaves through the channel layer only after the
transaction commits, so no client hears of a change that rolled back. This module takes
plain payloads and imports no domain module.
Each payload's ``type`` names the consumer handler that relays it ("presence.changed" →
``presence_changed``); the frame a client receives is the payload itself.

Groups:
- ``agent.<agent id>``: one agent's consoles (offers, assigned contacts, presence);
- ``contact.<contact id>``: staff following a conversation (agent, supervisors who joined);
- ``citizen.<contact id>``: the citizen's chat (never internal notes);
- ``supervisors``: supervisors' consoles (presence changes, calls, ticket notices);
- ``agents``: every agent console (queue lengths);
- ``department.<department id>``: a department's officers (tickets transferred to them);
- ``wallboard``: supervisors' wallboards. They hear no domain payloads, only
  ``wallboard.changed`` nudges ("something they show changed: read it again"), one per
  committed transaction that sent any of ``WALLBOARD_CAUSES``; each wallboard socket then
  builds a fresh snapshot, at most once a second (channels_app.consumers.wallboard).

Replies over SMS, WhatsApp and KakaoTalk leave through the outbox; each step of their
delivery (queued, sent, delivered, failed) reaches the staff following the contact as
``message.delivery``.

Ticket notices (``ticket.notice``) tell the people a ticket concerns that something needs
their eyes: a department answered, asked for information or returned it; an SLA clock
reached 80 % or was breached. The centre hears them on ``/ws/agent/`` (the assignee's
consoles and supervisors), departments on ``/ws/department/``.
"""

import asyncio
import logging
import os
import time
import weakref
from typing import Literal, TypedDict

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"
AGENTS_GROUP = "agents"
WALLBOARD_GROUP = "wallboard"

# Events that change what a wallboard shows: contacts queued (the router's beat publishes
# queue counts when they change), offered, answered, moved, ended; presences; calls; ticket
# SLA notices. Conversation traffic (messages, typing, deliveries, video signalling) changes
# nothing on it, and neither do queue positions: a beat may move hundreds, one event each.
WALLBOARD_CAUSES = frozenset(
    {
        "presence.changed",
        "offer.created",
        "offer.cancelled",
        "contact.assigned",
        "contact.updated",
        "contact.removed",
        "chat.ended",
        "chat.moved",
        "queue.no_agents",
        "queues.updated",
        "call.updated",
        "ticket.notice",
    }
)


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
    changed_by: str | None  # the supervisor who set it, by name; None: the agent or the system


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
    # An agent's reply on SMS, WhatsApp or KakaoTalk: how far it got (None elsewhere).
    delivery: "DeliveryState | None"


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    message: MessagePayload


class DeliveryState(TypedDict):
    """Where a reply sent over a messenger is: ``status`` is the outbox row's (queued, sent,
    delivered, undelivered, failed), "delivered" once the citizen's side confirmed it, or
    "pending" (a KakaoTalk answer that goes with the citizen's next message)."""

    status: str
    channel: str
    error: str


class MessageDelivery(TypedDict):
    type: Literal["message.delivery"]
    contact_id: int
    message_id: int
    delivery: DeliveryState


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


# Why a contact left an agent's console: its wrap-up is done, the agent transferred it, a
# supervisor took it over.
RemovalReason = Literal["wrapup_done", "transferred", "taken_over"]


class ContactRemoved(TypedDict):
    type: Literal["contact.removed"]
    contact_id: int
    reason: RemovalReason
    by_name: str | None  # "taken_over": the supervisor who took it, by name; else None


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


class WallboardChanged(TypedDict):
    """A nudge to the wallboards: ``at`` is when it left (epoch seconds), so sockets of one
    process can share a snapshot read after that moment."""

    type: Literal["wallboard.changed"]
    at: float


class QueuePosition(TypedDict):
    type: Literal["queue.position"]
    contact_id: int
    position: int
    eta_seconds: int


def send_after_commit(groups: list[str], payload: dict) -> None:
    """Send ``payload`` to ``groups`` once the current transaction commits (at once when
    there is none); a rollback sends nothing."""
    # robust: the change is committed whatever happens to the broadcast; a failed send is
    # logged, and clients catch up from the database when they resume by last seen id.
    transaction.on_commit(lambda: broadcast(groups, payload), robust=True)
    if payload.get("type") in WALLBOARD_CAUSES:
        wallboard_nudge_after_commit()


def wallboard_nudge_after_commit() -> None:
    """Tell the wallboards once this transaction commits; once per transaction, however
    many events it sends (an answer sends three or four): they read everything again. For
    a change that tells nobody else (a waiting call moved to another queue)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is wallboard_nudge for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(wallboard_nudge, robust=True)


def wallboard_nudge() -> None:
    """Tell the wallboards now that something they show changed."""
    payload: WallboardChanged = {"type": "wallboard.changed", "at": time.time()}
    broadcast([WALLBOARD_GROUP], dict(payload))


def broadcast(groups: list[str], payload: dict) -> None:
    """Send ``payload`` to ``groups`` now, from synchronous code.

    Called from a thread that a consumer or an ASGI view runs through ``sync_to_async``, the
    send is handed to that event loop and the thread returns at once: pool threads are few,
    and one that waited for the loop to send (``async_to_sync``) was a thread no other
    message could use. Elsewhere (Celery, management commands, sync tests) it sends and waits.
    """
    loop = calling_loop()
    if loop is None:
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, payload)
        return
    try:
        loop.call_soon_threadsafe(_schedule, list(groups), payload)
    except RuntimeError:  # the loop closed meanwhile (a server shutting down)
        logger.warning("event %s not sent: the event loop has closed", payload.get("type"))


def calling_loop() -> asyncio.AbstractEventLoop | None:
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


# The last send queued per group, per event loop: a group's events leave in the order they
# were committed, while different groups are sent concurrently. Per loop, because a task
# can only wait for another of its own loop (several loops in one process: tests, threads).
_tails: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _schedule(groups: list[str], payload: dict) -> None:
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    tails: dict[str, asyncio.Task] = _tails.setdefault(loop, {})
    for group in groups:
        previous = tails.get(group)
        task = loop.create_task(_send(layer, group, payload, previous))
        tails[group] = task
        task.add_done_callback(lambda done, group=group: _forget(tails, group, done))


# Sends in flight per event loop: each holds a Redis connection, and the pool refuses more
# than it has; past this many the next send waits its turn instead.
MAX_SENDS_IN_FLIGHT = 64
_in_flight: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _send(layer, group: str, payload: dict, previous: asyncio.Task | None) -> None:
    if previous is not None and not previous.done():
        await asyncio.wait([previous])
    loop = asyncio.get_running_loop()
    slots = _in_flight.get(loop)
    if slots is None:
        slots = _in_flight[loop] = asyncio.Semaphore(MAX_SENDS_IN_FLIGHT)
    try:
        async with slots:
            await layer.group_send(group, payload)
    except Exception:
        logger.exception("event %s to %s not sent", payload.get("type"), group)


def _forget(tails: dict[str, asyncio.Task], group: str, task: asyncio.Task) -> None:
    if tails.get(group) is task:
        del tails[group]


def video_group(contact_id: int, role: str) -> str:
    """One party ("citizen" or "agent") of a video call's signalling: the other party's
    frames, and the end of the call, come here."""
    return f"video.{contact_id}.{role}"
