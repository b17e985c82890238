"""Writes for the contact centre: presence, citizens, contacts, messages, data access."""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    Citizen,
    Contact,
    Message,
    PersonalDataAccess,
    Queue,
    User,
)
from callcenter.pii import mask_registration_numbers
from channels_app import events


def citizen_find_or_create(
    *, phone: str = "", kakao_user_key: str = "", name: str = "", language: str = "ko"
) -> Citizen:
    """The citizen behind a phone number or Kakao key, created on first contact."""
    existing = None
    if kakao_user_key:
        existing = Citizen.objects.by_kakao_key(kakao_user_key).first()
    if existing is None and phone:
        existing = Citizen.objects.by_phone(phone).order_by("id").first()
    if existing is not None:
        return existing
    citizen = Citizen(
        phone=phone, kakao_user_key=kakao_user_key, name=name, preferred_language=language
    )
    citizen.full_clean()
    citizen.save()
    return citizen


def contact_create(
    *,
    channel: str,
    provider_id: str = "",
    citizen: Citizen | None = None,
    queue: Queue | None = None,
    direction: str = Contact.Direction.INBOUND,
    language: str = "ko",
    queued_at: datetime | None = None,
) -> tuple[Contact, bool]:
    """Record a new contact; a provider id seen before returns the existing contact.

    Providers redeliver webhooks, so the same CallSid arriving twice must not make two
    contacts: the (channel, provider_id) constraint decides, not a racy lookup.
    """
    fields = {
        "citizen": citizen,
        "queue": queue,
        "direction": direction,
        "language": language,
        "queued_at": queued_at if queued_at is not None else (timezone.now() if queue else None),
    }
    if not provider_id:
        return Contact.objects.create(channel=channel, **fields), True
    try:
        with transaction.atomic():
            return Contact.objects.create(channel=channel, provider_id=provider_id, **fields), True
    except IntegrityError:
        return Contact.objects.get(channel=channel, provider_id=provider_id), False


MAX_MESSAGE_CHARS = 4000
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def message_create(
    *,
    contact: Contact,
    sender: str,
    text: str,
    sender_user: User | None = None,
    attachments: list | None = None,
    internal: bool = False,
    client_id: str = "",
) -> Message:
    """Store a message of a conversation; it is published only once committed.

    A resend with the same ``client_id`` (a client that lost its socket before the echo)
    returns the stored message instead of storing it twice. Registration numbers are
    masked here, before the row exists, so the original is never stored nor published.
    """
    text = mask_registration_numbers(text.strip())
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(
            _("A message holds at most %(count)s characters.") % {"count": MAX_MESSAGE_CHARS}
        )
    # PostgreSQL refuses NUL in text; the other controls are never typed by a person.
    if CONTROL_CHARACTERS.search(text) or CONTROL_CHARACTERS.search(client_id):
        raise ValidationError(_("A message cannot contain control characters."))
    message = Message(
        contact=contact,
        sender=sender,
        sender_user=sender_user,
        text=text,
        # File names too: "주민등록증_900101-1234567.jpg" is a name citizens give uploads.
        attachments=[
            {**item, "name": mask_registration_numbers(item["name"])}
            if isinstance(item, dict) and isinstance(item.get("name"), str)
            else item
            for item in attachments or []
        ],
        internal=internal,
        client_id=client_id[:64],
    )
    # The client-id constraint is left to the database: one INSERT, no look-up first.
    message.full_clean(exclude=["contact", "sender_user"], validate_constraints=False)
    try:
        with transaction.atomic():
            message.save()
            events.publish_message_created(message)
    except IntegrityError:
        if not client_id:
            raise
        return Message.objects.get(contact=contact, sender=sender, client_id=message.client_id)
    return message


def personal_data_access_log(
    *, user: User, citizen: Citizen, field: str, reason: str = ""
) -> PersonalDataAccess:
    """Record that ``user`` saw ``citizen``'s unmasked ``field``."""
    return PersonalDataAccess.objects.create(
        user=user, citizen=citizen, field=field, reason=reason[:200]
    )
