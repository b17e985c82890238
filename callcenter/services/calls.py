"""Phone calls: what the Twilio voice adapter (channels_app/twilio_voice.py) asks of the
conversation services. The adapter verifies and parses Twilio's webhooks; this module decides.

An inbound call is a Contact of channel ``voice`` whose ``provider_id`` is Twilio's CallSid,
so a retried webhook finds the contact it made before. The caller is the Citizen with the
calling number; anonymous or unparseable numbers make a contact without a citizen.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python

from callcenter.models import CallbackRequest, Channel, Citizen, Contact, Queue
from callcenter.selectors import queue_for_language
from callcenter.services.callbacks import callback_request_create
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.locking import row_locked
from callcenter.services.routing import contact_end, contact_enqueue


class CallError(Exception):
    """The call cannot be served now; the message is what staff logs show."""


def _caller(number: str) -> Citizen | None:
    parsed = to_python(number or "", region="KR")
    if parsed is None or not parsed.is_valid():
        return None  # "anonymous", "+266696687" (withheld), or no number at all
    return citizen_find_or_create(phone=parsed.as_e164)


def call_answer(*, call_sid: str, from_number: str) -> tuple[Contact, bool]:
    """The contact of an inbound call (created on its first webhook), and whether it is new."""
    with transaction.atomic():
        contact = Contact.objects.filter(channel=Channel.VOICE, provider_id=call_sid).first()
        if contact is not None:
            return contact, False
        return contact_create(
            channel=Channel.VOICE, provider_id=call_sid, citizen=_caller(from_number)
        )


def call_for_sid(call_sid: str) -> Contact | None:
    return (
        Contact.objects.filter(channel=Channel.VOICE, provider_id=call_sid)
        .select_related("citizen", "queue")
        .first()
    )


def call_queue_for(language: str) -> Queue:
    """Korean callers wait in the general queue, the others in the foreign-language queue."""
    queue = queue_for_language(language=language, channel=Channel.VOICE)
    if queue is None:
        raise CallError(_("No queue takes calls."))
    return queue


def call_enqueue(*, contact: Contact, language: str) -> Queue:
    """The caller chose to talk to an agent in ``language``: queue the call (once; a repeated
    menu choice keeps its place). Its place is told by the wait music, not by an event."""
    with transaction.atomic():
        if contact.language != language:
            contact.language = language
            contact.save(update_fields=["language"])
        if contact.queue_id is not None and contact.queued_at is not None:
            return contact.queue
        queue = call_queue_for(language)
        contact_enqueue(contact=contact, queue=queue, announce=False)
    return queue


# Twilio's CallStatus values that mean the call is over.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def call_status_record(*, call_sid: str, status: str) -> Contact | None:
    """Twilio's status callback: a call that is over ends its contact (a caller who hangs up
    while waiting has abandoned the queue; one who was talking goes to wrap-up). Statuses
    before the end change nothing, and callbacks that come twice or late leave the contact
    as the first final one left it (contact_end only ends an open contact). None: a call we
    never answered."""
    contact = call_for_sid(call_sid)
    if contact is None or status not in FINAL_CALL_STATUSES:
        return contact
    return contact_end(contact=contact, by="citizen")


def call_callback_offered(contact: Contact) -> bool:
    """Whether the wait music offers this caller a call-back: still waiting, long enough
    (VOICE_CALLBACK_OFFER_SECONDS), and with a number to call back."""
    if contact.state != Contact.State.WAITING or contact.queued_at is None:
        return False
    if contact.citizen_id is None or not contact.citizen.phone:
        return False
    waited = timezone.now() - contact.queued_at
    return waited >= timedelta(seconds=settings.VOICE_CALLBACK_OFFER_SECONDS)


def call_callback_request(*, contact: Contact) -> CallbackRequest:
    """The waiting caller pressed 1: a call-back to the number they call from, in the queue
    they waited in; the call leaves the queue (ended, not abandoned)."""
    with transaction.atomic():
        row_locked(contact, related=("citizen",))
        if contact.state != Contact.State.WAITING:
            raise CallError(_("The call is no longer waiting."))
        if contact.citizen_id is None or not contact.citizen.phone:
            raise CallError(_("The caller's number is withheld."))
        request = callback_request_create(
            phone=contact.citizen.phone,
            source=CallbackRequest.Source.PHONE_QUEUE,
            citizen=contact.citizen,
            contact=contact,
        )
        contact_end(contact=contact, by="callback")
    return request
