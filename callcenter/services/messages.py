"""Messages of a conversation: stored masked, once, and published after commit."""

import re

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from callcenter.attachments import attachment_path, attachment_store
from callcenter.models import (
    Contact,
    Message,
    User,
)
from callcenter.pii import mask_registration_numbers
from callcenter.services import notify

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
            notify.publish_message_created(message)
    except IntegrityError:
        if not client_id:
            raise
        return Message.objects.get(contact=contact, sender=sender, client_id=message.client_id)
    return message


def attachment_message_create(
    *, contact, upload: UploadedFile, sender: str, sender_user=None, text=""
):
    """Store an upload and send it as a message of ``contact``; ValidationError if refused."""
    item = attachment_store(contact_id=contact.pk, upload=upload)
    try:
        return message_create(
            contact=contact, sender=sender, sender_user=sender_user, text=text, attachments=[item]
        )
    except Exception:
        attachment_path(item).unlink(missing_ok=True)  # a refused message leaves no file
        raise
