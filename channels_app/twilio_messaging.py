"""Twilio Messaging webhooks: texts citizens send by SMS or WhatsApp, and our texts' delivery.

Both are checked against ``X-Twilio-Signature`` (``channels_app.twilio_webhooks``) before
anything is read: a missing or wrong signature gets 403 and nothing is stored.

- ``POST /twilio/messaging/incoming``: a citizen's text. WhatsApp addresses arrive as
  ``whatsapp:+8210…``: the channel is WhatsApp and the citizen is the number behind the
  prefix. ``NumMedia`` / ``MediaUrlN`` / ``MediaContentTypeN`` are kept on the message as
  links to Twilio, never fetched here. The answer is TwiML: empty, or a ``<Message>`` for a
  keyword (STOP, HELP, …; ``callcenter.services.messaging``). A retried webhook (same
  ``MessageSid``) stores nothing new.
- ``POST /twilio/messaging/status``: the status callback of texts we sent (queued, sent,
  delivered, read, undelivered, failed); 204.
"""

import logging
import mimetypes
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from phonenumber_field.phonenumber import to_python
from twilio.twiml.messaging_response import MessagingResponse

from callcenter.models import Channel
from callcenter.services import messaging
from channels_app.twilio_webhooks import message_status_record, twilio_webhook

logger = logging.getLogger(__name__)

# Twilio's message ids: "SM" (or "MM" for MMS) and 32 hex digits; a little leeway for others.
MESSAGE_SID = re.compile(r"[A-Za-z0-9]{2,64}")
WHATSAPP_PREFIX = "whatsapp:"
# Twilio sends at most 10 media per message (WhatsApp: 1).
MAX_MEDIA = 10


def twiml(answer: str = "") -> HttpResponse:
    response = MessagingResponse()
    if answer:
        response.message(answer)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _sender(address: str) -> tuple[str, str] | None:
    """(channel, E.164 number) of Twilio's ``From``; None when it is no phone we can answer."""
    channel = Channel.SMS
    if address.startswith(WHATSAPP_PREFIX):
        channel, address = Channel.WHATSAPP, address.removeprefix(WHATSAPP_PREFIX)
    number = to_python(address, region="KR")
    if number is None or not number.is_valid():
        return None
    return channel, number.as_e164


def _media(params, sid: str) -> list[dict] | None:
    """The message's media as attachments (links to Twilio, with their types); None when
    NumMedia or a MediaUrlN is not what Twilio sends."""
    count = params.get("NumMedia", "0") or "0"
    if not count.isdigit() or int(count) > MAX_MEDIA:
        return None
    items = []
    for index in range(int(count)):
        url = params.get(f"MediaUrl{index}", "")
        content_type = (
            params.get(f"MediaContentType{index}", "")[:100] or "application/octet-stream"
        )
        if urlsplit(url).scheme not in ("https", "http") or len(url) > 1000:
            return None
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
        items.append(
            {
                "id": f"{sid}-{index}",
                "name": f"media-{index + 1}{extension}",
                "content_type": content_type,
                "url": url,
                "source": "twilio",
            }
        )
    return items


@twilio_webhook
def messaging_incoming(request: HttpRequest) -> HttpResponse:
    """A citizen's SMS or WhatsApp message: stored in their conversation (opened if none is),
    or a keyword answered."""
    sid = request.POST.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        return HttpResponseBadRequest("MessageSid is missing or malformed.")
    sender = _sender(request.POST.get("From", ""))
    if sender is None:
        return HttpResponseBadRequest("From is not a phone number this service can answer.")
    channel, phone = sender
    media = _media(request.POST, sid)
    if media is None:
        return HttpResponseBadRequest("NumMedia or a MediaUrlN is malformed.")
    body = request.POST.get("Body", "")
    if not body.strip() and not media:
        logger.info("Text %s has neither text nor media: nothing to store", sid)
        return twiml()
    try:
        received = messaging.text_receive(
            message_sid=sid,
            channel=channel,
            phone=phone,
            body=body,
            media=media,
            profile_name=request.POST.get("ProfileName", ""),
        )
    except messaging.MessagingUnavailable as unavailable:
        return twiml(str(unavailable))
    except ValidationError as error:
        return HttpResponseBadRequest("; ".join(error.messages))
    return twiml(received.answer)


@twilio_webhook
def messaging_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for an SMS or WhatsApp message we sent."""
    return message_status_record(request)
