"""Agents' replies on messenger channels: how each reaches the citizen, and how far it got.

A web chat reply reaches the citizen through their socket; on SMS, WhatsApp and KakaoTalk the
citizen has none, so ``reply_deliver`` hands the reply to the channel's way out (an outbox row,
sent after commit) in the transaction that stores it: a reply is stored and queued together,
or neither. ``delivery_state`` reads what the console shows beside each reply, and
``delivery_publish`` tells the staff following the contact when that changes.

Long texts: one SMS or WhatsApp row holds at most SMS_MAX_CHARS characters (Twilio's limit,
1,600: Twilio cuts the body into segments the phone joins again) and, when SMS_MAX_BYTES is
set (a Korean gateway's LMS, 2,000 EUC-KR bytes), at most that many bytes. A longer reply goes
as several rows, cut between sentences or words and numbered "(1/2)", sent in order.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _

from callcenter.models import Channel, Contact, Message
from callcenter.services import outbox
from channels_app.events import DeliveryState, MessageDelivery, contact_group, send_after_commit
from channels_app.models import OutboundMessage

# Contacts whose replies leave through the outbox, and the outbox channel of each.
MESSENGER_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.KAKAO})
TEXT_CHANNELS = {
    Channel.SMS: OutboundMessage.Channel.SMS,
    Channel.WHATSAPP: OutboundMessage.Channel.WHATSAPP,
}
# Where a long text may be cut, best first: after a sentence, at a line break, at a space.
CUT_AFTER = (re.compile(r"[.!?。다요][\s\n]+"), re.compile(r"\n+"), re.compile(r"\s+"))
# Room kept in each part for its "(12/12) " number.
PART_LABEL_ROOM = 8


def reply_refusal(contact: Contact) -> str:
    """Why an agent's reply cannot go to this contact's citizen ("" when it can): a citizen
    who texted STOP (수신거부) gets no texts until they text START."""
    citizen = contact.citizen if contact.citizen_id else None
    if contact.channel in TEXT_CHANNELS and citizen is not None and citizen.sms_opted_out_at:
        return _(
            "The citizen texted STOP (수신거부): no text can be sent to them until they "
            "text START (수신동의). Offer a call-back or another channel."
        )
    return ""


def reply_deliver(message: Message) -> list[OutboundMessage]:
    """Send an agent's reply on the contact's channel; call it in the transaction that stores
    the message. Web chat and internal notes need nothing: the sockets carry them.

    SMS and WhatsApp: outbox rows to the citizen's phone (several for a long text), keyed by
    the message so a retried call queues nothing twice. KakaoTalk: its own seam
    (``callcenter.services.kakao``), which sends through the callback window or keeps the
    answer for the citizen's next message.
    """
    contact = message.contact
    if message.internal or message.sender != Message.Sender.AGENT:
        return []
    if contact.channel == Channel.KAKAO:
        # Imported here: the Kakao seam imports this module (delivery_publish).
        from callcenter.services.kakao import kakao_reply_deliver  # noqa: PLC0415

        kakao_reply_deliver(message)
        delivery_publish(message)  # sent at once, or kept for the citizen's next message
        return []
    channel = TEXT_CHANNELS.get(contact.channel)
    if channel is None:
        return []
    citizen = contact.citizen if contact.citizen_id else None
    if citizen is None or not citizen.phone:
        raise ValueError(_("This conversation has no phone number to reply to."))
    parts = text_parts(message.text)
    rows = [
        outbox.outbox_enqueue(
            channel=channel,
            to=citizen.phone.as_e164,
            body=part,
            message=message,
            contact=contact,
            idempotency_key=_reply_key(message, number),
        )
        for number, part in enumerate(parts, start=1)
    ]
    # No frame here: the message's own frame says it waits, and the outbox tells each step
    # (a frame queued now would reach consoles after the worker's "sent").
    return rows


def _reply_key(message: Message, part: int) -> str:
    """One row per part of one reply: a repeated call queues nothing twice."""
    return f"reply-{message.pk}" if part == 1 else f"reply-{message.pk}-{part}"


def _fits(text: str, max_chars: int, max_bytes: int) -> bool:
    if len(text) > max_chars:
        return False
    return not max_bytes or len(text.encode("cp949", errors="replace")) <= max_bytes


def text_parts(text: str) -> list[str]:
    """``text`` cut into parts that each fit one outbound text (SMS_MAX_CHARS characters and,
    when set, SMS_MAX_BYTES EUC-KR bytes); numbered "(1/3) " when there are several."""
    max_chars, max_bytes = settings.SMS_MAX_CHARS, settings.SMS_MAX_BYTES
    if _fits(text, max_chars, max_bytes):
        return [text]
    room_chars = max_chars - PART_LABEL_ROOM
    room_bytes = max_bytes - PART_LABEL_ROOM if max_bytes else 0
    parts, rest = [], text.strip()
    while rest:
        if _fits(rest, room_chars, room_bytes):
            parts.append(rest)
            break
        # The longest prefix that fits, then the last good place to cut inside it.
        end = min(len(rest), room_chars)
        while end > 1 and not _fits(rest[:end], room_chars, room_bytes):
            end -= 1
        cut = end
        for pattern in CUT_AFTER:
            places = [m.end() for m in pattern.finditer(rest, 0, end) if m.end() > end // 2]
            if places:
                cut = places[-1]
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [f"({number}/{len(parts)}) {part}" for number, part in enumerate(parts, start=1)]


# Failures before successes: one failed part is a failed reply.
_WORST_FIRST = (
    OutboundMessage.Status.FAILED,
    OutboundMessage.Status.UNDELIVERED,
    OutboundMessage.Status.QUEUED,
    OutboundMessage.Status.SENT,
    OutboundMessage.Status.DELIVERED,
)


def delivery_state(message: Message) -> DeliveryState | None:
    """How far an agent's reply on SMS, WhatsApp or KakaoTalk got; None for anything else
    (web chat, internal notes, the citizen's own messages), read without a query.

    The newest outbox row for the message speaks (a KakaoTalk answer that missed its callback
    window may go again another way); a reply sent in parts is as far as its least advanced
    part. Once the citizen's side confirmed it (``delivered_at``) it is "delivered" whatever
    the rows say; without a row it is "pending" (a KakaoTalk answer waiting for the citizen's
    next message).
    """
    contact = message.contact
    if (
        message.internal
        or message.sender != Message.Sender.AGENT
        or contact.channel not in MESSENGER_CHANNELS
    ):
        return None
    if message.delivered_at:
        # The citizen's side has it (a KakaoTalk answer brought with their next message,
        # even after its callback failed): nothing a provider says changes that.
        return {"status": "delivered", "channel": contact.channel, "error": ""}
    if "deliveries" in getattr(message, "_prefetched_objects_cache", {}):  # a history
        rows = [
            {"channel": row.channel, "status": row.status, "error": row.error}
            for row in sorted(message.deliveries.all(), key=lambda row: -row.pk)
        ]
    else:
        rows = list(
            OutboundMessage.objects.filter(message=message)
            .order_by("-id")
            .values("channel", "status", "error")
        )
    if rows:
        newest = [row for row in rows if row["channel"] == rows[0]["channel"]]
        row = min(newest, key=lambda r: _WORST_FIRST.index(r["status"]))
        return {"status": row["status"], "channel": row["channel"], "error": row["error"]}
    return {"status": "pending", "channel": contact.channel, "error": ""}


def delivery_publish(message: Message) -> None:
    """Tell the staff following the contact where the reply now is ("message.delivery")."""
    delivery = delivery_state(message)
    if delivery is None:
        return
    payload: MessageDelivery = {
        "type": "message.delivery",
        "contact_id": message.contact_id,
        "message_id": message.pk,
        "delivery": delivery,
    }
    send_after_commit([contact_group(message.contact_id)], dict(payload))
