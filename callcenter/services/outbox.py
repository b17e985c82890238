"""The one way out: every SMS, KakaoTalk message, e-mail and call command is an outbox row.

``outbox_enqueue`` writes the row ``queued`` in the caller's transaction and, once that
commits, hands its id to the worker; ``outbox_deliver`` claims the row with one conditional
UPDATE, sends it through the configured backend outside any transaction, and records what
happened. So a rolled-back change sends nothing, a repeated request (same idempotency key)
is one message, two workers never send one row, and a row once sent is never sent again.
``outbox_sweep`` (beat, every minute) delivers what is due: retries and lost tasks.

Backends (``MESSAGING_BACKEND``):
- ``outbox`` (default): nothing leaves the machine; the row, marked sent, is the delivery.
- ``console``: the same, and the message is logged.
- ``twilio``: SMS through Twilio's REST client, with a status callback that records
  delivery (``channels_app.twilio_webhooks``). KakaoTalk messages need the Kakao channel's
  business-message sender, which arrives with the Kakao channel: until then they fail with
  that reason, never silently.
E-mail goes through Django's mail (``EMAIL_BACKEND``) whatever the messaging backend.
Voice rows are commands to a live call (``callcenter.services.voice_backend``, sent through
``VOICE_BACKEND``): they go out in the order they were queued, one call at a time, and are
retried within seconds, since a caller on hold cannot wait half a minute.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from functools import partial

import requests
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callcenter.models import Citizen, Contact, Message
from callcenter.pii import mask_registration_numbers
from callcenter.services.voice_backend import VoiceCommandError, voice_command_deliver
from channels_app.models import OutboundMessage
from tickets.models import Ticket

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
Channel = OutboundMessage.Channel

MAX_ATTEMPTS = 6
FIRST_RETRY_AFTER = timedelta(seconds=30)
LONGEST_RETRY_AFTER = timedelta(minutes=30)
VOICE_FIRST_RETRY_AFTER = timedelta(seconds=1)
VOICE_LONGEST_RETRY_AFTER = timedelta(seconds=30)
# Retried within seconds by a task of their own: a caller on hold cannot wait for the sweep,
# and a Kakao callbackUrl is good for one minute only.
SOON_RETRIED_CHANNELS = frozenset({Channel.VOICE, Channel.KAKAO_CALLBACK})
# A worker holds a row this long while it sends; longer than any send may take (the HTTP
# timeout below), so an expired claim means the worker died, not that it is slow.
CLAIM_FOR = timedelta(minutes=2)
SEND_TIMEOUT_SECONDS = 20
SWEEP_BATCH = 100
# Twilio answers these when the fault is theirs or the moment's: worth trying again.
TWILIO_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# How far along a delivery is; a status only ever moves to a higher rank.
STATUS_RANK = {
    Status.QUEUED: 0,
    Status.SENT: 1,
    Status.DELIVERED: 2,
    Status.UNDELIVERED: 2,
    Status.FAILED: 2,
}


class DeliveryError(Exception):
    """A send that did not happen; ``retryable`` when trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def outbox_enqueue(
    *,
    channel: str,
    to: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    ticket: Ticket | None = None,
    contact: Contact | None = None,
    message: Message | None = None,
    template: str = "",
) -> OutboundMessage:
    """Queue one outbound message in the caller's transaction; the worker sends it once
    the transaction commits. The same ``idempotency_key`` again returns the first row.

    Registration numbers in the subject and body are masked before the row exists: what is
    stored is what leaves, and neither holds the original.
    """
    if channel not in Channel.values:
        raise ValueError(f"Cannot send messages over {channel!r}.")
    if not to or not idempotency_key:
        raise ValueError("An outbound message needs a recipient and an idempotency key.")
    existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                channel=channel,
                to=to,
                subject=mask_registration_numbers(subject)[:200],
                body=mask_registration_numbers(body),
                idempotency_key=idempotency_key,
                backend=_backend_for(channel),
                ticket=ticket,
                contact=contact,
                message=message,
                template=template,
            )
    except IntegrityError:
        # Another request with this key committed between our look-up and our insert.
        return OutboundMessage.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(partial(_deliver_later, message.pk), robust=True)
    return message


def _deliver_later(message_id: int, countdown: timedelta | None = None) -> None:
    """Hand a committed row to the worker; when that fails (broker down), the sweep sends it."""
    try:
        if countdown is None:
            outbox_deliver_task.delay(message_id)
        else:
            outbox_deliver_task.apply_async((message_id,), countdown=countdown.total_seconds())
    except Exception:
        logger.warning("Outbound message %s left to the sweep", message_id, exc_info=True)


def _backend_for(channel: str) -> str:
    return settings.VOICE_BACKEND if channel == Channel.VOICE else settings.MESSAGING_BACKEND


def _retry_after(attempts: int, channel: str = "") -> timedelta:
    """Exponential backoff: 30 s after the first failure, doubling, at most 30 minutes
    (call commands and Kakao callbacks: 1 s, at most 30 s)."""
    first, longest = (
        (VOICE_FIRST_RETRY_AFTER, VOICE_LONGEST_RETRY_AFTER)
        if channel in SOON_RETRIED_CHANNELS
        else (FIRST_RETRY_AFTER, LONGEST_RETRY_AFTER)
    )
    return min(first * 2 ** max(attempts - 1, 0), longest)


def _earlier_command_pending(message_id: int) -> bool:
    """Whether a call command queued before this one for the same call is still unsent:
    commands to one call go out in order (a hold before its release)."""
    row = OutboundMessage.objects.filter(pk=message_id).values("channel", "contact_id").first()
    if row is None or row["channel"] != Channel.VOICE or row["contact_id"] is None:
        return False
    return OutboundMessage.objects.filter(
        channel=Channel.VOICE, contact_id=row["contact_id"], status=Status.QUEUED, pk__lt=message_id
    ).exists()


def _next_command(message: OutboundMessage) -> int | None:
    """The call's next queued command, sent as soon as the one before it is done."""
    if message.channel != Channel.VOICE or message.contact_id is None:
        return None
    return (
        OutboundMessage.objects.filter(
            channel=Channel.VOICE, contact_id=message.contact_id, status=Status.QUEUED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def outbox_deliver(message_id: int, *, now: datetime | None = None) -> OutboundMessage | None:
    """Send one queued, due row; None when there is nothing to do (already sent, not due,
    or another worker holds it).

    The claim is one conditional UPDATE, so of two workers only one sends; the result is
    written only while the row is still queued, so nothing moves a sent row back.
    """
    now = now or timezone.now()
    if _earlier_command_pending(message_id):
        return None  # the earlier command's delivery sends this one after it
    claimed = OutboundMessage.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=message_id,
        status=Status.QUEUED,
        next_attempt_at__lte=now,
    ).update(claimed_until=now + CLAIM_FOR, attempts=F("attempts") + 1)
    if not claimed:
        return None
    message = OutboundMessage.objects.get(pk=message_id)
    backend = _backend_for(message.channel)
    message.backend = backend
    fields: dict = {"claimed_until": None, "backend": backend}
    failure = None
    try:
        _refuse_opted_out(message)
        provider_id = _send(message, backend=backend)
        fields["request"] = getattr(message, "sent_requests", [])
    except DeliveryError as error:
        failure = error
    except Exception as error:  # a bug must not keep the row claimed: retried, then failed
        logger.exception("Outbound message %s: unexpected error", message.pk)
        failure = DeliveryError(f"Unexpected error: {error}", retryable=True)
    if failure is None:
        fields.update(status=Status.SENT, provider_id=provider_id, sent_at=timezone.now())
        fields["error"] = ""
    else:
        fields["error"] = str(failure)[:300]
        fields["request"] = getattr(message, "sent_requests", [])
        if failure.retryable and message.attempts < MAX_ATTEMPTS:
            fields["next_attempt_at"] = now + _retry_after(message.attempts, message.channel)
            if message.channel in SOON_RETRIED_CHANNELS:  # the minute's sweep is too late
                _deliver_later(
                    message.pk, countdown=_retry_after(message.attempts, message.channel)
                )
        else:
            fields["status"] = Status.FAILED
        logger.warning(
            "Outbound %s message %s, attempt %s: %s",
            message.channel,
            message.pk,
            message.attempts,
            failure,
        )
    recorded = OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(**fields)
    message.refresh_from_db()
    if recorded:
        _delivery_publish(message)
    if message.status != Status.QUEUED:
        following = _next_command(message)
        if following is not None:
            outbox_deliver(following)
    return message


def outbox_sweep(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Deliver the queued rows that are due (retries, and rows whose task was lost);
    returns how many were sent. Safe beside the tasks and other sweeps: each row is claimed."""
    now = now or timezone.now()
    due = list(
        OutboundMessage.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=Status.QUEUED,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in due:
        message = outbox_deliver(message_id, now=now)
        sent += message is not None and message.status == Status.SENT
    return sent


def outbox_status_record(
    *, provider_id: str, status: str, error: str = ""
) -> OutboundMessage | None:
    """The provider's word on a message it took: delivered, undelivered or failed.

    Providers call back more than once and out of order, so the status only moves forward
    (a late "sent" after "delivered" changes nothing). None when no row has this id.
    """
    if not provider_id:
        return None
    message = OutboundMessage.objects.filter(provider_id=provider_id).first()
    if message is None:
        return None
    earlier = [state for state, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
    fields: dict = {"status": status}
    if status == Status.DELIVERED:
        fields["delivered_at"] = timezone.now()
    if error:
        fields["error"] = error[:300]
    moved = OutboundMessage.objects.filter(pk=message.pk, status__in=earlier).update(**fields)
    message.refresh_from_db()
    if moved:
        _delivery_publish(message)
    return message


def _delivery_publish(row: OutboundMessage) -> None:
    """A conversation reply's delivery moved on: the agents following it see the new state."""
    if row.message_id is None:
        return
    # Imported here: replies queues its rows through this module.
    from callcenter.services.replies import delivery_publish  # noqa: PLC0415

    delivery_publish(Message.objects.select_related("contact").get(pk=row.message_id))


def _refuse_opted_out(message: OutboundMessage) -> None:
    """No texts to a citizen who texted STOP (수신거부), whatever queued them: a survey, a
    transcript, a reply written a moment before the STOP arrived."""
    if message.channel not in (Channel.SMS, Channel.WHATSAPP):
        return
    if Citizen.objects.by_phone(message.to).filter(sms_opted_out_at__isnull=False).exists():
        raise DeliveryError(
            "The citizen texted STOP (수신거부): no texts until they text START.",
            retryable=False,
        )


@shared_task(name="callcenter.services.outbox.outbox_deliver_task")
def outbox_deliver_task(message_id: int) -> None:
    """The worker's side of ``outbox_enqueue``: deliver one row after its commit."""
    outbox_deliver(message_id)


# --- Backends ---------------------------------------------------------------------------------
def _send(message: OutboundMessage, *, backend: str) -> str:
    """Send ``message``; the provider's id for it ("" when none). DeliveryError otherwise."""
    if message.channel == Channel.EMAIL:
        return _email_send(message)
    if message.channel == Channel.VOICE:
        return _voice_command_send(message)
    if backend in ("outbox", "console"):
        if backend == "console":
            logger.info("%s to %s: %s", message.channel, message.masked_to, message.body)
        return ""
    if message.channel in (Channel.KAKAO, Channel.KAKAO_CALLBACK):
        # Imported here: the Kakao senders raise this module's DeliveryError.
        from callcenter.services.kakao_outbound import kakao_send  # noqa: PLC0415

        return kakao_send(message)
    return _twilio_sms_send(message)


def _voice_command_send(message: OutboundMessage) -> str:
    """A command to a live call (``callcenter.services.voice_backend``)."""
    try:
        sid, sent = voice_command_deliver(message)
    except VoiceCommandError as error:
        message.sent_requests = error.requests
        raise DeliveryError(str(error), retryable=error.retryable) from error
    message.sent_requests = sent
    return sid


def _email_send(message: OutboundMessage) -> str:
    try:
        EmailMessage(message.subject, message.body, None, [message.to]).send()
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(
            f"The mail server refused the address: {error}", retryable=False
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"Mail server: {error}", retryable=True) from error
    return ""


def _twilio_sms_send(message: OutboundMessage) -> str:
    """An SMS or WhatsApp message through Twilio's REST API, with a status callback that
    records its delivery (``channels_app.twilio_messaging``). WhatsApp is the same request
    with ``whatsapp:`` addresses, from the approved WhatsApp sender."""
    if message.channel == Channel.WHATSAPP:
        if not settings.TWILIO_WHATSAPP_FROM:
            raise DeliveryError(
                "No WhatsApp sender is configured (TWILIO_WHATSAPP_FROM).", retryable=False
            )
        to = _whatsapp_address(message.to)
        sender = _whatsapp_address(settings.TWILIO_WHATSAPP_FROM)
    else:
        to, sender = message.to, settings.TWILIO_MESSAGING_FROM or settings.TWILIO_CALLER_ID
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS),
    )
    try:
        sent = client.messages.create(
            to=to,
            from_=sender,
            body=message.body,
            status_callback=settings.PUBLIC_BASE_URL + reverse("twilio-messaging-status"),
        )
    except TwilioRestException as error:
        retryable = error.status in TWILIO_RETRYABLE_STATUSES
        raise DeliveryError(
            f"Twilio {error.status} (code {error.code}): {error.msg}", retryable=retryable
        ) from error
    except (requests.RequestException, TwilioException) as error:
        raise DeliveryError(f"Twilio unreachable: {error}", retryable=True) from error
    return sent.sid


def _whatsapp_address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"
