"""Open311: API keys of civic apps, and service requests filed through them.

Only a key's SHA-256 is stored; the key itself is shown once, when it is made. The Open311
adapter (``channels_app.open311``) parses and checks the standard's parameters, then files
the request here with plain values.
"""

import hashlib
import hmac
import re
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import Channel, Citizen
from callcenter.pii import mask_personal_data, mask_registration_numbers
from callcenter.services.contacts import citizen_find_or_create
from tickets.models import Category, Open311Key, Ticket
from tickets.services.core import ticket_create

KEY_PREFIX_LENGTH = 8
SUBJECT_LENGTH = 200
HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")


def _key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def open311_key_create(*, name: str) -> tuple[Open311Key, str]:
    """A new key for the civic app ``name``: the row and the key, which is never stored."""
    name = name.strip()
    if not name:
        raise ValueError(_("An Open311 key needs the name of the app that uses it."))
    raw_key = secrets.token_urlsafe(32)
    while raw_key.startswith("-"):  # a prefix read as an option could not be typed to revoke
        raw_key = secrets.token_urlsafe(32)
    key = Open311Key.objects.create(
        name=name, prefix=raw_key[:KEY_PREFIX_LENGTH], key_hash=_key_digest(raw_key)
    )
    return key, raw_key


def open311_key_verify(raw_key: str) -> Open311Key | None:
    """The active key matching ``raw_key`` (its use recorded), or None.

    Candidates are found by their public prefix and compared by hash in constant time, so
    the response time says nothing about how much of a guessed key was right.
    """
    if not raw_key or len(raw_key) > 200:
        return None
    digest = _key_digest(raw_key)
    match = None
    for candidate in Open311Key.objects.filter(prefix=raw_key[:KEY_PREFIX_LENGTH]):
        if hmac.compare_digest(candidate.key_hash, digest):
            match = candidate
    if match is None or not match.is_active:
        return None
    match.last_used_at = timezone.now()
    Open311Key.objects.filter(pk=match.pk).update(last_used_at=match.last_used_at)
    return match


def open311_key_revoke(*, key: Open311Key) -> Open311Key:
    """Stop accepting ``key``; revoking a revoked key keeps its first revocation time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def _submitter_name(first_name: str, last_name: str) -> str:
    """'홍' + '길동' → '홍길동' (Korean order); 'John' + 'Smith' → 'John Smith'."""
    if first_name and last_name and HANGUL.match(first_name) and HANGUL.match(last_name):
        return f"{last_name}{first_name}"
    return " ".join(part for part in (first_name, last_name) if part)


def _submitter(*, phone: str, email: str, name: str) -> Citizen | None:
    """The citizen behind the request: found by phone (else by email), created when new.

    An app may only fill gaps in what the city knows (a missing email or name); it never
    overwrites a citizen's existing details.
    """
    if phone:
        citizen = citizen_find_or_create(phone=phone, name=name)
    elif email:
        citizen = Citizen.objects.filter(email__iexact=email).order_by("id").first()
        if citizen is None:
            return Citizen.objects.create(email=email, name=name)
    else:
        return None
    gaps = {}
    if email and not citizen.email:
        gaps["email"] = email
    if name and not citizen.name:
        gaps["name"] = name
    if gaps:
        for field, value in gaps.items():
            setattr(citizen, field, value)
        citizen.save(update_fields=list(gaps))
    return citizen


def _subject(description: str, category: Category) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    subject = first_line or category.name
    if len(subject) > SUBJECT_LENGTH:
        subject = subject[: SUBJECT_LENGTH - 1] + "…"
    return subject


def open311_request_create(
    *,
    category: Category,
    description: str = "",
    address: str = "",
    address_id: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    media_url: str = "",
    attributes: dict | None = None,
    phone: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Ticket:
    """File a service request from an Open311 app as a new ticket of channel open311.

    Values arrive checked by the adapter; this needs a location and keeps the ticket and
    its submitter in one transaction.
    """
    if (latitude is None) != (longitude is None):
        raise ValueError(_("A location by coordinates needs both latitude and longitude."))
    if latitude is None and not address and not address_id:
        raise ValueError(_("A service request needs a location."))
    # Masked before the subject is cut from it, so no number is cut in half and kept.
    description = mask_registration_numbers(description)
    address = mask_registration_numbers(address)
    attributes = mask_personal_data(attributes or {})
    with transaction.atomic():
        citizen = _submitter(phone=phone, email=email, name=_submitter_name(first_name, last_name))
        ticket = ticket_create(
            subject=_subject(description, category),
            channel=Channel.OPEN311,
            citizen=citizen,
            category=category,
            description=description,
        )
        ticket.address = address
        ticket.address_id = address_id
        ticket.latitude = latitude
        ticket.longitude = longitude
        ticket.media_url = media_url
        ticket.attributes = attributes
        ticket.save(
            update_fields=[
                "address",
                "address_id",
                "latitude",
                "longitude",
                "media_url",
                "attributes",
                "updated_at",
            ]
        )
    return ticket
