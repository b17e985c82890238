"""Voicemail: a call that comes while its queue is closed (the queue's business calendar).

Such a caller does not wait for nobody: the IVR (``channels_app.twilio_voice``) plays the
after-hours message in their language, and they may leave a message after the tone. The
contact ends as the message starts, by "voicemail": there was no agent to wait for, so it
is not an abandonment, message or not. A message left is a new ticket of channel voice for
the next shift, linked to the call and the caller; it is made when Twilio ends the
recording (the ``<Record>``'s action), so it exists even if the recording callback never
comes. The recording itself is stored on the call like any call recording
(``callcenter.services.recordings``), for supervisors to play.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from callcenter.models import Channel, Contact, ContactEvent, Language, Queue
from callcenter.services.calls import call_queue_for
from callcenter.services.locking import row_locked
from callcenter.services.routing import contact_end
from callcenter.services.voice import voice_call
from tickets.models import Ticket
from tickets.services import ticket_create


def call_after_hours(
    *, contact: Contact, language: str, at: datetime | None = None
) -> Queue | None:
    """The queue a caller in ``language`` chose, when its calendar has it closed at ``at``
    (now): the call goes to voicemail instead of the queue (its contact ends, kept in that
    queue and language). None: the queue is open, or the call already waits in a queue (a
    retried menu choice keeps its place), so it is queued as usual. CallError: no queue."""
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.queued_at is not None:
            return None
        queue = call_queue_for(language)
        if queue.calendar is None or queue.calendar.working_time().is_open(at or timezone.now()):
            return None
        contact.language = language
        contact.queue = queue
        contact.save(update_fields=["language", "queue"])
        contact_end(contact=contact, by="voicemail")
    return queue


def voicemail_leave(*, contact: Contact, seconds: int | None) -> Ticket:
    """The caller left a message of ``seconds`` (Twilio's RecordingDuration): the call is a
    voicemail, and a new ticket waits for the next shift. Once per call: a retried webhook
    gets the ticket made the first time."""
    with transaction.atomic():
        contact = row_locked(contact, related=("citizen", "queue"))
        call = voice_call(contact)
        ticket = contact.tickets.order_by("pk").first()
        if call.voicemail and ticket is not None:
            return ticket
        call.voicemail = True
        call.save(update_fields=["voicemail"])
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.VOICEMAIL,
            data={"seconds": seconds, "queue": contact.queue.code if contact.queue else ""},
        )
        # Staff read the ticket: in the centre's language, whatever the caller spoke.
        with translation.override(settings.LANGUAGE_CODE):
            subject, description = _ticket_text(contact, seconds)
        return ticket_create(
            subject=subject,
            channel=Channel.VOICE,
            citizen=contact.citizen,
            description=description,
            contacts=[contact],
        )


def _ticket_text(contact: Contact, seconds: int | None) -> tuple[str, str]:
    queue = contact.queue.name if contact.queue else "-"
    length = (
        ngettext("%(seconds)s second", "%(seconds)s seconds", seconds) % {"seconds": seconds}
        if seconds is not None
        else _("length unknown")
    )
    lines = [
        _(
            "A voicemail (%(length)s) was left after hours at %(when)s in the %(queue)s queue. "
            "Listen to it with the call and contact the caller."
        )
        % {
            "length": length,
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "queue": queue,
        },
        _("Caller's language: %(language)s") % {"language": Language(contact.language).label},
    ]
    if contact.citizen_id is None:
        lines.append(_("The number was withheld: the message may say how to reach the caller."))
    return _("Voicemail (after hours): %(queue)s") % {"queue": queue}, "\n".join(lines)
