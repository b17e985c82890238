"""Twilio's requests to us: signature checked, parameters read, then a service call.

Twilio signs each webhook over the URL it called and the POST parameters with the account's
auth token (``X-Twilio-Signature``). The URL it called is the public one, so the signature
is checked against ``PUBLIC_BASE_URL`` + path and query, never the Host header a proxy
passed on; it is checked in DEBUG too.
"""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from callcenter.services.outbox import outbox_status_record
from channels_app.models import OutboundMessage

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status

# Twilio's MessageStatus in our terms. Twilio's own queue means the message has left us.
# Statuses not listed (receiving, received: inbound; partially_delivered) change nothing.
TWILIO_MESSAGE_STATUSES = {
    "accepted": Status.SENT,
    "scheduled": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}


def twilio_signature_valid(request: HttpRequest) -> bool:
    """Whether Twilio signed this request; never true without an auth token."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


def twilio_webhook(view: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """A view Twilio calls: POST only, no CSRF token (Twilio has none), and 403 before the
    view runs unless Twilio signed the request."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if not twilio_signature_valid(request):
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request)

    return checked


def message_status_record(request: HttpRequest) -> HttpResponse:
    """Record Twilio's status callback for a text we sent: delivery only ever moves forward,
    so callbacks that come twice or out of order change nothing they should not.

    An unknown MessageSid answers 204 with nothing changed: the request is genuine (signed),
    Twilio has nothing to retry, and an error status would only fill Twilio's debugger with
    errors for messages other software sent from the same account.
    """
    sid = request.POST.get("MessageSid", "")
    status = TWILIO_MESSAGE_STATUSES.get(request.POST.get("MessageStatus", ""))
    if status is None:
        return HttpResponse(status=204)
    error_code = request.POST.get("ErrorCode", "")
    message = outbox_status_record(
        provider_id=sid,
        status=status,
        error=f"Twilio error {error_code}" if error_code else "",
    )
    if message is None:
        logger.info("Status callback for a message we do not know: %s", sid[:64])
    return HttpResponse(status=204)


@twilio_webhook
def sms_status_callback(request: HttpRequest) -> HttpResponse:
    """The status callback of texts sent before /twilio/messaging/status took over; Twilio
    keeps calling the URL a message was sent with."""
    return message_status_record(request)
