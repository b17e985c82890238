"""Outbound real-time events, all in one place.

Services call ``publish_…`` inside their transaction; the event leaves through the channel
layer only after the transaction commits, so no client hears of a change that rolled back.
Each payload's ``type`` names the consumer handler that relays it ("presence.changed" →
``presence_changed``).
"""

import logging
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def contact_group(contact_id: int) -> str:
    return f"contact.{contact_id}"


class PresenceChanged(TypedDict):
    type: Literal["presence.changed"]
    agent_id: int
    presence: str
    reason: str
    changed_at: str


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    id: int
    contact_id: int
    sender: str
    text: str
    attachments: list
    created_at: str


def _send_after_commit(groups: list[str], payload: dict) -> None:
    def send() -> None:
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, payload)

    # robust: the change is committed whatever happens to the broadcast; a failed send is
    # logged, and clients catch up from the database when they resume by last seen id.
    transaction.on_commit(send, robust=True)


def publish_presence_changed(agent) -> None:
    payload: PresenceChanged = {
        "type": "presence.changed",
        "agent_id": agent.pk,
        "presence": agent.presence,
        "reason": agent.presence_reason,
        "changed_at": agent.presence_changed_at.isoformat(),
    }
    _send_after_commit([agent_group(agent.pk), SUPERVISORS_GROUP], dict(payload))


def publish_message_created(message) -> None:
    payload: MessageCreated = {
        "type": "message.created",
        "id": message.pk,
        "contact_id": message.contact_id,
        "sender": message.sender,
        "text": message.text,
        "attachments": message.attachments,
        "created_at": message.created_at.isoformat(),
    }
    _send_after_commit([contact_group(message.contact_id)], dict(payload))
