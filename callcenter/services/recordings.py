"""What Twilio tells about a call's media: its recording, and the live transcript.

Twilio's media callbacks (``channels_app.twilio_media``) are parsed there and land here
as plain values:

- A *recording* is stored once on the call it was made on: its SID, Twilio's URL, its
  length and channels. A callback that comes twice, or a later "absent"/"failed" about the
  same call, leaves it as it is. Recordings are deleted at Twilio (a ``recording_delete``
  voice command through the outbox) once older than VOICE_RECORDING_RETENTION_DAYS.
- A *transcript segment* (Twilio Real-Time Transcription) that Twilio marks final becomes a
  message of the call's current contact, as if the caller (their track) or the agent (the
  other track) had typed it: masked, stored once per segment, published, and read by the
  console's knowledge suggestions like any citizen message.
"""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from callcenter.models import CallLeg, Channel, Contact, ContactEvent, Message, VoiceCall
from callcenter.services import voice
from callcenter.services.messages import CONTROL_CHARACTERS, MAX_MESSAGE_CHARS, message_create
from callcenter.services.voice_backend import API_HOST
from channels_app.models import OutboundMessage

logger = logging.getLogger(__name__)

RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")

# Recordings deleted per batch (one transaction each) by the retention job.
EXPIRE_BATCH = 200
# The caller's own audio in a transcription callback's Track (Twilio's name, or the label
# the conference's <Transcription> gives it); the other track is what the caller hears: the
# agent, an interpreter, a colleague.
CALLER_TRACKS = frozenset({"inbound_track", "caller"})


def _recorded_call(*, call_sid: str, recording_sid: str) -> VoiceCall | None:
    """The call a recording belongs to: the one whose ``record`` command Twilio answered
    with this RecordingSid, else the first leg of the call (by CallSid) still without one."""
    command = (
        OutboundMessage.objects.filter(
            channel=OutboundMessage.Channel.VOICE, subject="record", provider_id=recording_sid
        )
        .exclude(contact=None)
        .values_list("contact_id", flat=True)
        .first()
    )
    if command is not None:
        call = VoiceCall.objects.filter(contact_id=command).first()
        if call is not None:
            return call
    calls = VoiceCall.objects.filter(call_sid=call_sid).order_by("contact_id") if call_sid else []
    return next(
        (call for call in calls if call.recording_sid in ("", recording_sid)),
        None,
    )


def recording_record(
    *,
    call_sid: str,
    recording_sid: str,
    status: str,
    url: str = "",
    seconds: int | None = None,
    channels: int | None = None,
) -> VoiceCall | None:
    """Twilio's recording status callback: a completed recording is kept on its call,
    once. None when the call is not ours (nothing stored)."""
    if not RECORDING_SID.fullmatch(recording_sid):
        # The SID becomes part of the URL playback fetches: only Twilio's shape is kept.
        logger.warning("Recording callback with a malformed SID: %r", recording_sid[:64])
        return None
    call = _recorded_call(call_sid=call_sid, recording_sid=recording_sid)
    if call is None:
        logger.info("Recording %s: no call of ours to keep it on", recording_sid[:64])
        return None
    if status != "completed":
        logger.warning("Recording %s of contact %s: %s", recording_sid, call.contact_id, status)
        return call
    with transaction.atomic():
        stored = VoiceCall.objects.filter(pk=call.pk, recording_sid="").update(
            recording_sid=recording_sid,
            # Kept for the record only: playback builds Twilio's URL from the SID.
            recording_url=url[:300] if url.startswith(API_HOST + "/") else "",
            recording_seconds=seconds,
            recording_channels=channels,
        )
        if stored:
            ContactEvent.objects.create(
                contact_id=call.contact_id,
                type=ContactEvent.Type.RECORDED,
                data={"recording_sid": recording_sid, "seconds": seconds, "channels": channels},
            )
            voice.publish_call(call.contact)
    call.refresh_from_db()
    return call


def recordings_expire(*, now: datetime | None = None) -> int:
    """Delete the recordings of calls older than VOICE_RECORDING_RETENTION_DAYS: each is
    marked deleted here and its DELETE queued to Twilio in one transaction, once. Returns
    how many were deleted; safe to run again (and beside another run)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VOICE_RECORDING_RETENTION_DAYS)
    deleted = 0
    while True:
        due = list(
            VoiceCall.objects.filter(
                recording_deleted_at__isnull=True, contact__created_at__lt=cutoff
            )
            .exclude(recording_sid="")
            .select_related("contact")
            .order_by("contact_id")[:EXPIRE_BATCH]
        )
        if not due:
            return deleted
        with transaction.atomic():
            for call in due:
                claimed = VoiceCall.objects.filter(
                    pk=call.pk, recording_deleted_at__isnull=True
                ).update(recording_deleted_at=now, recording_url="")
                if not claimed:
                    continue  # another run took it
                voice.command(
                    call.contact,
                    "recording_delete",
                    {"recording_sid": call.recording_sid, "call_sid": call.call_sid},
                    key=f"voice:{call.contact_id}:recording:{call.recording_sid}:delete",
                )
                deleted += 1


def _current_contact(call_sid: str) -> Contact | None:
    """The contact a call is on now: the newest leg with this CallSid (a transfer to a
    queue makes a new one), found by the caller's call or by any party's."""
    if not call_sid:
        return None
    contact = (
        Contact.objects.filter(channel=Channel.VOICE, call__call_sid=call_sid)
        .select_related("agent__user")
        .order_by("-id")
        .first()
    )
    if contact is None:
        leg = (
            CallLeg.objects.filter(call_sid=call_sid)
            .select_related("contact__agent__user")
            .order_by("-contact_id")
            .first()
        )
        contact = leg.contact if leg else None
    return contact


def transcription_started(*, call_sid: str) -> VoiceCall | None:
    contact = _current_contact(call_sid)
    if contact is None:
        return None
    VoiceCall.objects.filter(contact=contact, transcribed=False).update(transcribed=True)
    return VoiceCall.objects.filter(contact=contact).first()


def transcript_segment_record(
    *,
    call_sid: str,
    transcription_sid: str,
    sequence_id: str,
    track: str,
    text: str,
    final: bool,
) -> Message | None:
    """A final segment of the live transcript as a message of the call's current contact;
    the same segment again (a retried callback) is the same message. Partial segments,
    empty ones and calls we do not know store nothing."""
    text = CONTROL_CHARACTERS.sub(" ", text).strip()
    if not final or not text or not transcription_sid:
        return None
    contact = _current_contact(call_sid)
    if contact is None:
        return None
    if track in CALLER_TRACKS:
        sender, user = Message.Sender.CITIZEN, None
    else:
        sender = Message.Sender.AGENT
        user = contact.agent.user if contact.agent_id else None
    return message_create(
        contact=contact,
        sender=sender,
        sender_user=user,
        text=text[:MAX_MESSAGE_CHARS],
        client_id=f"tr:{transcription_sid[:40]}:{sequence_id[:16]}",
    )
