"""Attachments of chat messages: type-checked by content, stored privately, served signed.

Files never sit under a public URL. A message's payload carries URLs signed for a day, so a
browser can show an image inline while a guessed or expired link gets 403.
"""

import uuid
from pathlib import Path

import filetype
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.translation import gettext as _

ALLOWED_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
SIGNING_SALT = "open120.attachment"
LINK_MAX_AGE_SECONDS = 24 * 3600


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "attachments"


def attachment_type(upload: UploadedFile) -> str:
    """The upload's MIME type, checked: within the size limit and an allowed type by its
    content (never the file name or the browser's claim). Chat and ticket files alike."""
    if upload.size > settings.CHAT_MAX_UPLOAD_BYTES:
        limit_mb = settings.CHAT_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationError(_("Files are limited to %(size)s MB.") % {"size": limit_mb})
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError(_("Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."))
    return kind.mime


def attachment_store(*, contact_id: int, upload: UploadedFile) -> dict:
    """Check and store one upload; returns the item kept in ``Message.attachments``."""
    mime = attachment_type(upload)
    item_id = uuid.uuid4().hex
    relative = Path(str(contact_id)) / f"{item_id}.{ALLOWED_TYPES[mime]}"
    path = _root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    name = Path(upload.name or f"file.{ALLOWED_TYPES[mime]}").name[:120]
    return {
        "id": item_id,
        "name": name,
        "content_type": mime,
        "size": upload.size,
        "path": str(relative),
    }


def attachment_path(item: dict) -> Path:
    path = (_root() / item["path"]).resolve()
    if _root().resolve() not in path.parents:
        raise ValidationError("Bad attachment path.")
    return path


def attachment_public(message, item: dict) -> dict:
    """What clients see of an attachment: no storage path, a signed link instead. Media a
    citizen texted (MMS, WhatsApp) stays at the provider and is linked there, never fetched."""
    if item.get("url"):
        return {
            "id": item["id"],
            "name": item["name"],
            "content_type": item["content_type"],
            "size": None,
            "url": item["url"],
        }
    token = signing.TimestampSigner(salt=SIGNING_SALT).sign(f"{message.pk}:{item['id']}")
    return {
        "id": item["id"],
        "name": item["name"],
        "content_type": item["content_type"],
        "size": item["size"],
        "url": reverse("attachment", args=[token]),
    }


def attachment_from_token(token: str) -> tuple[int, str]:
    """(message id, attachment id) of a valid link; raises BadSignature otherwise."""
    value = signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=LINK_MAX_AGE_SECONDS)
    message_id, item_id = value.split(":", 1)
    return int(message_id), item_id
