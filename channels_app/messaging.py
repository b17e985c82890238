"""Sending SMS and KakaoTalk messages through the configured backend.

- ``outbox`` (default): the OutboundMessage row is the delivery; nothing leaves the machine.
- ``console``: the same, and the message is logged.
- ``twilio``: Twilio's REST client sends SMS (``Messages.create``) and the SID is kept.
  KakaoTalk messages to a user key need the Kakao channel's business-message sender, which
  arrives with the KakaoTalk channel; until then they are recorded as failed, never lost.
"""

import logging

from django.conf import settings

from callcenter.pii import mask_registration_numbers
from channels_app.models import OutboundMessage

logger = logging.getLogger(__name__)


def sms_send(*, to: str, body: str) -> OutboundMessage:
    """Send one SMS to an E.164 number; the row records what happened.

    Registration numbers in ``body`` are masked before the row is written: what is stored
    is what leaves, and neither holds the original.
    """
    body = mask_registration_numbers(body)
    backend = settings.MESSAGING_BACKEND
    message = OutboundMessage.objects.create(channel="sms", to=to, body=body, backend=backend)
    if backend in ("outbox", "console"):
        if backend == "console":
            logger.info("SMS to %s: %s", to, body)
        message.status = OutboundMessage.Status.SENT
        message.save(update_fields=["status"])
        return message
    from twilio.base.exceptions import TwilioException
    from twilio.rest import Client

    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    try:
        sent = client.messages.create(to=to, from_=settings.TWILIO_CALLER_ID, body=body)
    except TwilioException as error:
        message.status = OutboundMessage.Status.FAILED
        message.error = str(error)[:300]
        message.save(update_fields=["status", "error"])
        logger.warning("SMS to %s failed: %s", to, error)
        return message
    message.status = OutboundMessage.Status.SENT
    message.provider_id = sent.sid
    message.save(update_fields=["status", "provider_id"])
    return message


def kakao_send(*, user_key: str, body: str) -> OutboundMessage:
    """Send one KakaoTalk message to a channel user (by the user key Kakao gave us)."""
    body = mask_registration_numbers(body)
    backend = settings.MESSAGING_BACKEND
    message = OutboundMessage.objects.create(
        channel="kakao", to=user_key, body=body, backend=backend
    )
    if backend in ("outbox", "console"):
        if backend == "console":
            logger.info("KakaoTalk to %s: %s", user_key, body)
        message.status = OutboundMessage.Status.SENT
    else:
        message.status = OutboundMessage.Status.FAILED
        message.error = "No KakaoTalk business-message sender is configured."
    message.save(update_fields=["status", "error"])
    return message


def message_send(*, channel: str, to: str, body: str) -> OutboundMessage:
    """Send ``body`` over ``channel`` ("sms" to an E.164 number, "kakao" to a user key)."""
    if channel == "sms":
        return sms_send(to=to, body=body)
    if channel == "kakao":
        return kakao_send(user_key=to, body=body)
    raise ValueError(f"Cannot send messages over {channel!r}.")
