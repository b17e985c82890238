"""Recordings of sign-language video calls: checked by content, kept in private storage.

The agent's browser records the call (with the citizen's consent, ``VIDEO_RECORDING`` on)
and uploads it once the call ends. The file sits under MEDIA_ROOT like chat attachments,
never under a public URL: ``/api/video/recordings/<id>`` serves it to the people who may
see it, and logs each access.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from callcenter.models import Agent, ContactEvent, VideoCall, VideoRecording

EXTENSIONS = {"video/webm": "webm", "video/mp4": "mp4"}
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # the EBML header every WebM (and Matroska) file opens with
MAX_SECONDS = 24 * 3600


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "video_recordings"


def video_recording_type(head: bytes) -> str | None:
    """The recording's MIME type read off its first bytes (never the browser's claim):
    WebM opens with the EBML magic, MP4 has an ``ftyp`` box at offset 4; None otherwise."""
    if head.startswith(WEBM_MAGIC):
        return "video/webm"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def video_recording_store(
    *, video: VideoCall, agent: Agent, upload: UploadedFile, content_type: str, seconds: int | None
) -> VideoRecording:
    """Keep one checked upload of ``video``'s call: the file, its row and the contact's
    RECORDED event (``{"video": true}``). The caller has checked who, consent and type."""
    relative = Path(str(video.contact_id)) / f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"
    path = _root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    if seconds is not None:
        seconds = max(0, min(seconds, MAX_SECONDS))
    try:
        with transaction.atomic():
            recording = VideoRecording.objects.create(
                contact_id=video.contact_id,
                agent=agent,
                path=str(relative),
                content_type=content_type,
                size=upload.size,
                seconds=seconds,
            )
            ContactEvent.objects.create(
                contact_id=video.contact_id,
                type=ContactEvent.Type.RECORDED,
                agent=agent,
                data={
                    "video": True,
                    "recording_id": recording.pk,
                    "seconds": seconds,
                    "size": upload.size,
                },
            )
    except Exception:
        path.unlink(missing_ok=True)  # no file without its row
        raise
    return recording


def video_recording_path(recording: VideoRecording) -> Path:
    """The stored file, refused if a stored path would lead outside the recordings' folder."""
    root = _root().resolve()
    path = (root / recording.path).resolve()
    if root not in path.parents:
        raise ValueError("Bad recording path.")
    return path
