"""Phone calls: what the Twilio voice adapter (channels_app/twilio_voice.py) asks of the
conversation services. The adapter verifies and parses Twilio's webhooks; this module decides.

An inbound call is a Contact of channel ``voice`` whose ``provider_id`` is Twilio's CallSid,
so a retried webhook finds the contact it made before. The caller is the Citizen with the
calling number; anonymous or unparseable numbers make a contact without a citizen.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python

from callcenter.models import Channel, Citizen, Contact, Queue
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.routing import contact_end, contact_enqueue

# The queue a call waits in, by the language the caller chose (the demo's codes).
KOREAN_QUEUE = "general"
FOREIGN_QUEUE = "foreign"


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
    """Korean callers wait in the general queue, the others in the foreign-language queue;
    without those, any active queue that takes calls."""
    code = KOREAN_QUEUE if language == "ko" else FOREIGN_QUEUE
    queue = Queue.objects.filter(code=code, is_active=True).first()
    if queue is None:
        queue = next(
            (q for q in Queue.objects.filter(is_active=True) if Channel.VOICE in q.channels),
            None,
        )
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
