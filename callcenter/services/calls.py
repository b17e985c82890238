"""Phone calls: what the Twilio voice adapter (channels_app/twilio_voice.py) asks of the
conversation services. The adapter verifies and parses Twilio's webhooks; this module decides.

An inbound call is a Contact of channel ``voice`` whose ``provider_id`` is Twilio's CallSid,
so a retried webhook finds the contact it made before. The caller is the Citizen with the
calling number; anonymous or unparseable numbers make a contact without a citizen. Its
:class:`VoiceCall` keeps the CallSid too, and so does each later leg of the same call (a
transfer to another queue makes a new contact): ``call_for_sid`` finds the newest.

Once an agent takes the call it is a conference (``callcenter.services.voice``): the
controls here (hold, mute, transfers, the interpreter, hang-up) check who asks and what
state the call is in, record it on the contact, and queue the REST commands.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python

from callcenter.models import (
    CallbackRequest,
    CallLeg,
    Channel,
    Citizen,
    Contact,
    Queue,
    VoiceCall,
)
from callcenter.selectors import queue_for_language
from callcenter.services import voice
from callcenter.services.callbacks import callback_request_create
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.locking import row_locked
from callcenter.services.routing import (
    contact_end,
    contact_enqueue,
)
from callcenter.services.voice_backend import call_placed

Role = CallLeg.Role


class CallError(Exception):
    """The call cannot be served now; the message is what staff logs show."""


def _caller(number: str) -> Citizen | None:
    parsed = to_python(number or "", region="KR")
    if parsed is None or not parsed.is_valid():
        return None  # "anonymous", "+266696687" (withheld), or no number at all
    return citizen_find_or_create(phone=parsed.as_e164)


def call_answer(*, call_sid: str, from_number: str) -> tuple[Contact, bool]:
    """The contact of an inbound call (created on its first webhook), and whether it is new.

    The insert comes first: a retried webhook (the rare case) hits the (channel, provider_id)
    constraint and finds the contact the first one made, so a new call costs one transaction:
    the caller found (or made) and three inserts, with one commit (each commit waits for the
    disk: bench/voice.py saw two per call double the stalls of a slow fsync).
    """
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                channel=Channel.VOICE, provider_id=call_sid, citizen=_caller(from_number)
            )
            VoiceCall.objects.create(contact=contact, call_sid=call_sid)
            CallLeg.objects.create(
                contact=contact,
                role=Role.CALLER,
                call_sid=call_sid,
                state=CallLeg.State.JOINED,
                joined_at=contact.created_at,
            )
    except IntegrityError:
        contact = Contact.objects.filter(channel=Channel.VOICE, provider_id=call_sid).first()
        if contact is None:
            raise  # not the retry's constraint: a real fault
        return contact, False
    return contact, True


def call_for_sid(call_sid: str) -> Contact | None:
    """The contact a CallSid is on now: the newest leg of that call."""
    if not call_sid:
        return None
    # The newest leg by the CallSid's own index (a few rows at most), then that contact:
    # ordering contacts by id with the join lets the planner walk every contact instead.
    newest = (
        VoiceCall.objects.filter(call_sid=call_sid).order_by("-contact_id").values("contact_id")[:1]
    )
    return (
        Contact.objects.filter(pk__in=Subquery(newest), channel=Channel.VOICE)
        .select_related("citizen", "queue", "call")
        .first()
    )


def contact_of_call(contact_id: int) -> Contact | None:
    return (
        Contact.objects.filter(pk=contact_id, channel=Channel.VOICE, call__isnull=False)
        .select_related("call", "citizen", "queue")
        .first()
    )


def call_ivr_step(contact: Contact, step: str) -> None:
    """Note a menu choice on the call's path (shown with the call on the ticket)."""
    call = voice.voice_call(contact)
    call.ivr_path = [*call.ivr_path, step][-20:]
    call.save(update_fields=["ivr_path"])


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
        callback_contact_queue(request, language=contact.language)
    return request


def callback_contact_queue(request: CallbackRequest, *, language: str) -> Contact | None:
    """The router offers a call-back like a call: an outbound phone contact waiting in the
    request's queue (behind every caller, see routing), named ``callback-<id>`` until Twilio
    places the call. None when one already waits for this request, or it has no queue."""
    if request.queue_id is None:
        return None
    contact, created = contact_create(
        channel=Channel.VOICE,
        provider_id=f"callback-{request.pk}",
        citizen=request.citizen,
        direction=Contact.Direction.OUTBOUND,
        language=language,
    )
    if not created:
        return None
    VoiceCall.objects.create(contact=contact, ivr_path=[f"callback:{request.pk}"])
    CallLeg.objects.create(contact=contact, role=Role.CALLER)
    contact_enqueue(contact=contact, queue=request.queue, announce=False)
    return contact


# --- What Twilio tells about the conference -----------------------------------------------
def call_conference_event(
    *, conference_name: str, conference_sid: str, event: str, call_sid: str = "", label: str = ""
) -> Contact | None:
    """Twilio's conference status callback. ``conference-start`` tells the conference's SID
    (commands that name it wait for it); ``participant-join``/``-leave`` move a party. Hold
    and mute are ours already (we asked for them). Repeats and late events change nothing
    more: a party that left never rejoins by a late join."""
    _prefix, _sep, contact_id = conference_name.rpartition("-")
    if not contact_id.isdigit():
        return None
    contact = Contact.objects.filter(pk=int(contact_id), channel=Channel.VOICE).first()
    if contact is None:
        return None
    with transaction.atomic():
        call = VoiceCall.objects.select_for_update().filter(contact=contact).first()
        if call is None:
            return None
        if conference_sid and not call.conference_sid:
            call.conference_sid = conference_sid
            call.save(update_fields=["conference_sid"])
        if voice.conference_party_event(contact, event=event, call_sid=call_sid, label=label):
            voice.publish_call(contact)
    return contact


def call_party_status(*, leg_id: int, call_sid: str, status: str) -> CallLeg | None:
    """The status callback of a party we dialled (an agent's softphone, the interpreter
    line): answered joins it; busy, no answer or a failure means it never will, and the
    agent sees so."""
    with transaction.atomic():
        leg = CallLeg.objects.select_for_update().filter(pk=leg_id).first()
        if leg is None:
            return None
        if call_sid and not leg.call_sid:
            leg.call_sid = call_sid
        now = timezone.now()
        if status in ("answered", "in-progress") and leg.state == CallLeg.State.DIALLING:
            leg.state, leg.joined_at = CallLeg.State.JOINED, now
        elif status in FINAL_CALL_STATUSES and leg.state != CallLeg.State.LEFT:
            leg.state, leg.left_at = CallLeg.State.LEFT, now
        leg.save()
        voice.publish_call(leg.contact)
    return leg


def call_joins_conference(*, contact_id: int, call_sid: str) -> Contact | None:
    """Twilio asks what the caller's call does now that it is bridged (or, for a call-back,
    answered): the contact, when this CallSid is its caller."""
    contact = (
        Contact.objects.filter(pk=contact_id, channel=Channel.VOICE).select_related("call").first()
    )
    if contact is None:
        return None
    caller = CallLeg.objects.filter(contact=contact, role=Role.CALLER).order_by("-id").first()
    if caller is None or (caller.call_sid and caller.call_sid != call_sid):
        return None
    if not caller.call_sid:  # a call-back answered before its dial's answer was stored
        call_placed(contact.pk, call_sid)
    if caller.state != CallLeg.State.JOINED:
        CallLeg.objects.filter(pk=caller.pk).update(
            state=CallLeg.State.JOINED, joined_at=timezone.now()
        )
    return contact
