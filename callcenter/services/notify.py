"""What services tell the sockets: domain objects turned into event payloads, sent after
commit through ``channels_app.events`` (see there for the groups)."""

from collections.abc import Iterable

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.attachments import attachment_public
from callcenter.korean import josa_resolve
from callcenter.models import Agent, Channel, Contact
from callcenter.privacy import mask_rrn
from callcenter.services.replies import delivery_state
from channels_app.events import (
    AGENTS_GROUP,
    SUPERVISORS_GROUP,
    ChatState,
    ContactChanged,
    ContactRemoved,
    MessageCreated,
    MessagePayload,
    OfferCancelled,
    OfferCreated,
    PresenceChanged,
    QueuePosition,
    RemovalReason,
    TicketNotice,
    TicketSummary,
    agent_group,
    citizen_group,
    contact_group,
    department_group,
    send_after_commit,
    video_group,
)


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


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
        # Only agents' replies on SMS, WhatsApp and KakaoTalk have one (read from their
        # outbox rows); for web chat it is None without a query.
        "delivery": delivery_state(message),
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


def channel_label(contact) -> str:
    """The channel as staff read it; a call the centre makes is a call-back."""
    if contact.direction == Contact.Direction.OUTBOUND and contact.channel == Channel.VOICE:
        return str(_("Call-back call"))
    return str(contact.get_channel_display())


def contact_summary(contact) -> dict:
    ticket = contact.tickets.order_by("id").first()
    return {
        "id": contact.pk,
        "channel": contact.channel,
        "channel_label": channel_label(contact),
        "direction": contact.direction,
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
        "channel_label": channel_label(contact),
        "direction": contact.direction,
        "queue_name": contact.queue.name if contact.queue_id else "",
        "waited_seconds": round((offer.created_at - contact.queued_at).total_seconds()),
        "expires_at": _iso(offer.expires_at),
        "timeout_seconds": round((offer.expires_at - offer.created_at).total_seconds()),
        "citizen": citizen_summary(contact.citizen),
        "language": contact.language,
    }


# --- publishers ----------------------------------------------------------------------------
def staff_name(user) -> str:
    """The name colleagues know a staff member by: their agent profile's, else their own."""
    agent = getattr(user, "agent", None)
    return agent.display_name if agent else user.display_name


def publish_presence_changed(agent, *, changed_by=None) -> None:
    """``changed_by``: the supervisor who chose the presence for the agent (None when the
    agent or the system did); their console names them."""
    payload: PresenceChanged = {
        "type": "presence.changed",
        "agent_id": agent.pk,
        "presence": agent.presence,
        "reason": agent.presence_reason_label,
        "reason_code": agent.presence_reason,
        "changed_at": _iso(agent.presence_changed_at),
        "changed_by": staff_name(changed_by) if changed_by else None,
    }
    send_after_commit([agent_group(agent.pk), SUPERVISORS_GROUP], dict(payload))


def publish_message_created(message) -> None:
    payload: MessageCreated = {"type": "message.created", "message": message_payload(message)}
    groups = [contact_group(message.contact_id)]
    if not message.internal:
        groups.append(citizen_group(message.contact_id))
    send_after_commit(groups, dict(payload))


def publish_messages_delivered(*, contact_id: int, up_to_id: int, audience: str, at) -> None:
    """Tell the other side its messages arrived (``audience`` is who sent them)."""
    group = contact_group(contact_id) if audience == "staff" else citizen_group(contact_id)
    send_after_commit(
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
    send_after_commit([agent_group(offer.agent_id)], dict(payload))


def publish_offer_cancelled(offer, *, reason: str) -> None:
    payload: OfferCancelled = {
        "type": "offer.cancelled",
        "offer_id": offer.pk,
        "contact_id": offer.contact_id,
        "reason": reason,
    }
    send_after_commit([agent_group(offer.agent_id)], dict(payload))


def publish_contact_assigned(contact) -> None:
    payload: ContactChanged = {"type": "contact.assigned", "contact": contact_summary(contact)}
    send_after_commit([agent_group(contact.agent_id)], dict(payload))


def publish_contact_updated(contact) -> None:
    payload: ContactChanged = {"type": "contact.updated", "contact": contact_summary(contact)}
    groups = [contact_group(contact.pk)]
    if contact.agent_id:
        groups.append(agent_group(contact.agent_id))
    send_after_commit(groups, dict(payload))


def publish_call_updated(contact, call: dict | None, *, left: Iterable[int] = ()) -> None:
    """A call's parties changed (joined, on hold, muted, interpreter, transfer): the agents
    on it, those who just ``left`` it (a colleague whose consultation was called off), each
    once through their own group, and the supervisors' live view hear it."""
    groups = [SUPERVISORS_GROUP]
    agent_ids = {contact.agent_id, *left} | {
        leg["agent_id"] for leg in (call or {}).get("legs", []) if leg.get("agent_id")
    }
    groups += [agent_group(agent_id) for agent_id in sorted(filter(None, agent_ids))]
    send_after_commit(
        groups,
        {"type": "call.updated", "contact_id": contact.pk, "state": contact.state, "call": call},
    )


def publish_contact_removed(
    contact, *, reason: RemovalReason, agent_id: int | None = None, by_name: str | None = None
) -> None:
    """Take ``contact`` off an agent's console (``agent_id``, else its agent's): its
    wrap-up is done, it was transferred, or a supervisor took it over (``by_name``, whom the
    console names)."""
    payload: ContactRemoved = {
        "type": "contact.removed",
        "contact_id": contact.pk,
        "reason": reason,
        "by_name": by_name,
    }
    send_after_commit([agent_group(agent_id or contact.agent_id)], dict(payload))


def publish_chat_state(contact) -> None:
    payload: ChatState = {
        "type": "chat.state",
        "contact_id": contact.pk,
        "state": contact.state,
        "agent_name": contact.agent.display_name if contact.agent_id else None,
    }
    send_after_commit([citizen_group(contact.pk)], dict(payload))


def publish_chat_ended(contact, *, by: str) -> None:
    groups = [citizen_group(contact.pk), contact_group(contact.pk)]
    if contact.channel == "video":  # both parties' signalling sockets hang up too
        groups += [video_group(contact.pk, "citizen"), video_group(contact.pk, "agent")]
    send_after_commit(groups, {"type": "chat.ended", "contact_id": contact.pk, "by": by})


def publish_chat_ticket(contact, *, number: str) -> None:
    """The citizen's inquiry was filed as ticket ``number`` (shown on the end screen too)."""
    send_after_commit(
        [citizen_group(contact.pk)],
        {"type": "chat.ticket", "contact_id": contact.pk, "number": number},
    )


def publish_chat_moved(old, new) -> None:
    """A transfer to another queue: the citizen's chat follows the new leg."""
    send_after_commit(
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
    send_after_commit([citizen_group(contact.pk)], dict(payload))


def publish_no_agents(contact) -> None:
    send_after_commit(
        [citizen_group(contact.pk)],
        {"type": "queue.no_agents", "contact_id": contact.pk, "callback_available": True},
    )


def publish_queue_counts(counts: dict[int, int]) -> None:
    """Waiting contacts per queue, for the consoles' headers."""
    send_after_commit(
        [AGENTS_GROUP],
        {"type": "queues.updated", "queues": [{"id": q, "waiting": n} for q, n in counts.items()]},
    )


def ticket_summary(ticket) -> TicketSummary:
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
    send_after_commit(groups, dict(payload))
