"""Sending SMS (and later Kakao/WhatsApp) through the configured backend.

- ``outbox`` (default): the OutboundMessage row is the delivery; nothing leaves the machine.
- ``console``: the same, and the message is logged.
- ``twilio``: Twilio's REST client sends it (``Messages.create``) and the SID is kept.
"""

import logging

from django.conf import settings

from channels_app.models import OutboundMessage

logger = logging.getLogger(__name__)


def sms_send(*, to: str, body: str) -> OutboundMessage:
    """Send one SMS to an E.164 number; the row records what happened."""
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
