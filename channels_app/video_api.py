"""The agent console's video call API: the call's room and ICE servers, recordings.

- ``GET /api/video/calls/<contact_id>``: the call as the console shows it. Its agent gets
  the room, the signalling URL and the ICE servers; supervisors and administrators the
  same summary without them (they cannot join the media).
- ``POST /api/video/calls/<contact_id>/recording`` (the call's agent, multipart ``file``
  and optional ``seconds``): the recording the browser made, WebM or MP4 by its content.
  409 when recording is off or the citizen did not consent; 413 over
  VIDEO_RECORDING_MAX_BYTES; 415 neither WebM nor MP4.
- ``GET /api/video/recordings/<recording_id>``: the file (single byte ranges served), for
  the call's agent, supervisors and administrators; every access is logged as an access to
  the citizen's personal data.

Errors are ``{"error", "message"}``: 401 signed out, 403 not allowed, 404 no such call.
"""

import re

from django.conf import settings
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.models import Agent, VideoCall, VideoRecording
from callcenter.roles import (
    ADMINISTRATOR,
    AGENT,
    SUPERVISOR,
    api_signed_in,
    json_error,
    user_roles,
)
from callcenter.selectors import recording_playable
from callcenter.services import video as video_service
from callcenter.services.contacts import personal_data_access_log
from callcenter.services.notify import citizen_summary
from callcenter.services.video_recordings import (
    video_recording_path,
    video_recording_store,
    video_recording_type,
)

CHUNK_BYTES = 64 * 1024
MULTIPART_SLACK_BYTES = 64 * 1024  # the form's boundaries and fields around the file
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _video(contact_id: int) -> VideoCall | None:
    return (
        VideoCall.objects.select_related("contact", "contact__agent", "contact__citizen")
        .filter(contact_id=contact_id)
        .first()
    )


def _is_agent_of(video: VideoCall, user) -> bool:
    agent = video.contact.agent
    return AGENT in user_roles(user) and agent is not None and agent.user_id == user.pk


def _not_found() -> JsonResponse:
    return json_error(404, "not_found", _("No such video call."))


@api_signed_in
@require_GET
def video_call(request: HttpRequest, contact_id: int) -> JsonResponse:
    """The call's summary; with the room and ICE servers for its own agent only."""
    video = _video(contact_id)
    if video is None:
        return _not_found()
    own = _is_agent_of(video, request.user)
    if not own and not user_roles(request.user) & {SUPERVISOR, ADMINISTRATOR}:
        return json_error(403, "forbidden", _("This video call is another agent's."))
    contact = video.contact
    body = video_service.video_summary(video)
    body.update(
        state=contact.state,
        answered_at=contact.answered_at.isoformat() if contact.answered_at else None,
        ended_at=contact.ended_at.isoformat() if contact.ended_at else None,
        citizen=citizen_summary(contact.citizen),
        recording_enabled=bool(settings.VIDEO_RECORDING and video.recording_consent),
        recording_max_bytes=settings.VIDEO_RECORDING_MAX_BYTES,
    )
    if own:
        body["ice_servers"] = video_service.ice_servers()
    else:
        for media_only in ("room", "ws_url"):
            body.pop(media_only, None)
    return JsonResponse(body)


def _seconds(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(_("seconds must be a whole number."))
    return int(value)


@api_signed_in
@require_POST
def video_recording_upload(request: HttpRequest, contact_id: int) -> JsonResponse:
    """Keep the recording the agent's browser made of the call."""
    video = _video(contact_id)
    if video is None:
        return _not_found()
    if not _is_agent_of(video, request.user):
        return json_error(403, "forbidden", _("Only the call's agent uploads its recording."))
    if not settings.VIDEO_RECORDING:
        return json_error(409, "recording_off", _("Video calls are not recorded here."))
    if not video.recording_consent:
        return json_error(409, "no_consent", _("The citizen did not agree to a recording."))
    if video.contact.answered_at is None:
        return json_error(409, "not_answered", _("The call was never answered."))
    limit = settings.VIDEO_RECORDING_MAX_BYTES
    too_large = json_error(
        413,
        "too_large",
        _("Recordings are limited to %(size)s MB.") % {"size": limit // (1024 * 1024)},
    )
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK_BYTES:
        return too_large  # refused before the body is read
    upload = request.FILES.get("file")
    if upload is None:
        return json_error(400, "no_file", _("Send the recording as the file field."))
    if upload.size > limit:
        return too_large
    try:
        seconds = _seconds(request.POST.get("seconds"))
    except ValueError as error:
        return json_error(400, "bad_seconds", str(error))
    head = upload.read(16)
    upload.seek(0)
    content_type = video_recording_type(head)
    if content_type is None:
        return json_error(415, "bad_type", _("Only WebM and MP4 video recordings are kept."))
    agent = Agent.objects.get(user=request.user)
    recording = video_recording_store(
        video=video, agent=agent, upload=upload, content_type=content_type, seconds=seconds
    )
    return JsonResponse(
        {
            "id": recording.pk,
            "contact_id": recording.contact_id,
            "content_type": recording.content_type,
            "size": recording.size,
            "seconds": recording.seconds,
        },
        status=201,
    )


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single ``bytes=`` range; None for a header we do not serve as a
    range (several ranges: the whole file); ValueError for one outside the file."""
    match = RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    else:  # the last N bytes
        first, last = max(0, size - int(match[2])), size - 1
    if first >= size or first > last:
        raise ValueError("Range not satisfiable.")
    return first, last


def _file_part(path, first: int, last: int):
    with path.open("rb") as source:
        source.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = source.read(min(CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _serve(request: HttpRequest, recording: VideoRecording, path) -> HttpResponse:
    size = path.stat().st_size
    header = request.META.get("HTTP_RANGE", "")
    try:
        part = _byte_range(header, size) if header else None
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if part is None:
        response = FileResponse(path.open("rb"), content_type=recording.content_type)
    else:
        first, last = part
        response = StreamingHttpResponse(
            _file_part(path, first, last), status=206, content_type=recording.content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    return response


@api_signed_in
@require_GET
def video_recording_download(request: HttpRequest, recording_id: int) -> HttpResponse:
    """One access to a video call's recording (logged as an access to the citizen's data)."""
    recording = (
        VideoRecording.objects.select_related("contact", "contact__agent", "contact__citizen")
        .filter(pk=recording_id, deleted_at__isnull=True)
        .first()
    )
    if recording is None:
        return json_error(404, "not_found", _("No such recording."))
    contact = recording.contact
    if not recording_playable(user=request.user, contact=contact):
        return json_error(403, "forbidden", _("Only supervisors and the call's agent see it."))
    try:
        path = video_recording_path(recording)
    except ValueError:
        return json_error(404, "not_found", _("No such recording."))
    if not path.is_file():
        return json_error(404, "not_found", _("No such recording."))
    response = _serve(request, recording, path)
    if response.status_code in (200, 206) and contact.citizen_id is not None:
        personal_data_access_log(
            user=request.user,
            citizen=contact.citizen,
            field="video_recording",
            reason=f"contact #{contact.pk} recording #{recording.pk}",
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
