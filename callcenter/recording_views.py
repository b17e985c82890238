"""Playing a call's recording: a proxy, so the audio never has a public URL.

The browser asks us; we fetch the audio from Twilio's API by the recording's SID (the URL
built by ``recording_media_url``, never one a request or a callback carried) with the
account's API key, and stream it back uncached. Each playback is logged as an access to
the caller's personal data. With VOICE_BACKEND=simulated there is no Twilio: the player
gets silence as long as the recording (at most SIMULATED_MAX_SECONDS), so it works on a
laptop.
"""

import io
import logging
import wave

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from callcenter.models import Contact, VoiceCall
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, role_required
from callcenter.selectors import recording_playable
from callcenter.services.contacts import personal_data_access_log
from callcenter.services.voice_backend import recording_media_url

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = (5, 30)  # connect, read
CHUNK_BYTES = 64 * 1024
SIMULATED_MAX_SECONDS = 30
SIMULATED_RATE = 8000  # Hz, mono, 16-bit: a phone line's


def _recorded_call(request: HttpRequest, contact_id: int) -> VoiceCall:
    """The contact's call with a recording ``request.user`` may hear: 403 for anyone else,
    404 when there is none (or it was deleted)."""
    contact = get_object_or_404(Contact.objects.select_related("agent", "citizen"), pk=contact_id)
    if not recording_playable(user=request.user, contact=contact):
        raise PermissionDenied("Only supervisors and the call's agents hear its recording.")
    call = VoiceCall.objects.filter(contact=contact).first()
    if call is None or not call.recording_sid or call.recording_deleted_at is not None:
        raise Http404("No recording.")
    call.contact = contact
    return call


def _silence(seconds: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(SIMULATED_RATE)
        audio.writeframes(b"\x00\x00" * SIMULATED_RATE * seconds)
    return buffer.getvalue()


def _simulated(call: VoiceCall) -> HttpResponse:
    seconds = max(1, min(call.recording_seconds or 1, SIMULATED_MAX_SECONDS))
    response = HttpResponse(_silence(seconds), content_type="audio/wav")
    response["X-Open120-Simulated"] = "silence"  # no Twilio account: nothing was recorded
    return response


def _from_twilio(call: VoiceCall) -> StreamingHttpResponse:
    try:
        upstream = requests.get(
            recording_media_url(call.recording_sid),
            auth=(settings.TWILIO_API_KEY, settings.TWILIO_API_SECRET),
            stream=True,
            timeout=FETCH_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        logger.warning("Recording %s: Twilio unreachable: %s", call.recording_sid, error)
        return HttpResponse("Twilio is unreachable.", status=502)
    if upstream.status_code == 404:
        upstream.close()
        raise Http404("Twilio no longer has this recording.")
    if upstream.status_code != 200:
        upstream.close()
        logger.warning("Recording %s: Twilio answered %s", call.recording_sid, upstream.status_code)
        return HttpResponse("Twilio did not give the recording.", status=502)

    def chunks():
        try:
            yield from upstream.iter_content(CHUNK_BYTES)
        finally:
            upstream.close()

    response = StreamingHttpResponse(chunks(), content_type="audio/mpeg")
    if upstream.headers.get("Content-Length", "").isdigit():
        response["Content-Length"] = upstream.headers["Content-Length"]
    return response


@role_required(AGENT, SUPERVISOR, ADMINISTRATOR)
@require_GET
def contact_recording(request: HttpRequest, contact_id: int) -> HttpResponse:
    """One playback of a call's recording (logged as an access to the caller's data)."""
    call = _recorded_call(request, contact_id)
    response = _simulated(call) if settings.VOICE_BACKEND == "simulated" else _from_twilio(call)
    if response.status_code == 200 and call.contact.citizen_id is not None:
        personal_data_access_log(
            user=request.user,
            citizen=call.contact.citizen,
            field="recording",
            reason=f"contact #{call.contact_id}",
        )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
