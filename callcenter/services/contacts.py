"""Citizens and contacts: who got in touch, on which channel."""

from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from callcenter.models import (
    Citizen,
    Contact,
    PersonalDataAccess,
    Queue,
    User,
)
from callcenter.pii import mask_personal_data

# Rows read (and written) at a time when masking what older versions stored.
MASK_BATCH = 2000


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
    # The one constraint (citizen_kakao_key_unique) is about the Kakao key: without one,
    # checking it is a query that cannot fail (a phone call's caller).
    citizen.full_clean(validate_constraints=bool(kakao_user_key))
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


def personal_data_access_log(
    *, user: User, citizen: Citizen, field: str, reason: str = ""
) -> PersonalDataAccess:
    """Record that ``user`` saw ``citizen``'s unmasked ``field``."""
    return PersonalDataAccess.objects.create(
        user=user, citizen=citizen, field=field, reason=reason[:200]
    )


def personal_data_mask_stored(
    *, model: type[models.Model], fields: list[str], dry_run: bool = False
) -> int:
    """Mask registration numbers in the free-text ``fields`` of rows stored before masking
    happened at write time; returns how many rows changed (or would, with ``dry_run``).
    Safe to run again: a masked row stays as it is. Rows are read in primary-key batches and
    only changed rows are written, one transaction per batch."""
    changed, last_pk = 0, 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[:MASK_BATCH]
        )
        if not rows:
            return changed
        last_pk = rows[-1].pk
        dirty = []
        for row in rows:
            masked = {field: mask_personal_data(getattr(row, field)) for field in fields}
            if any(masked[field] != getattr(row, field) for field in fields):
                for field, value in masked.items():
                    setattr(row, field, value)
                dirty.append(row)
        changed += len(dirty)
        if dirty and not dry_run:
            with transaction.atomic():
                model.objects.bulk_update(dirty, fields)
