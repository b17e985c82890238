"""The console's video call API: who gets the room, and recordings (upload and playback).

Personas: Minji (agent) holds the video call of 홍길동; Junho is another agent; Sora a
supervisor; an administrator; a department officer.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from callcenter.models import ContactEvent, PersonalDataAccess, VideoCall, VideoRecording
from tests.factories import ContactFactory, QueueFactory

pytestmark = pytest.mark.django_db

WEBM = b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + b"\x00" * 2000
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
ICE = [{"urls": "stun:stun.example.org:3478"}]


def video_call(agent_user, citizen, *, consent=True, ended=False) -> VideoCall:
    """Minji's sign-language video contact with 홍길동, answered 30 s after it queued."""
    queued = timezone.now() - timedelta(minutes=3)
    contact = ContactFactory(
        channel="video",
        language="ksl",
        queue=QueueFactory(code="sign-video", channels=["video"]),
        citizen=citizen,
        agent=agent_user.agent,
        queued_at=queued,
        answered_at=queued + timedelta(seconds=30),
        ended_at=queued + timedelta(minutes=2) if ended else None,
    )
    return VideoCall.objects.create(contact=contact, room="room-abc", recording_consent=consent)


def upload(client, video, content=WEBM, name="call.webm", **extra):
    return client.post(
        reverse("video-recording-upload", args=[video.contact_id]),
        {"file": SimpleUploadedFile(name, content, content_type="video/webm"), **extra},
    )


def stored(tmp_media, video) -> VideoRecording:
    recording = VideoRecording.objects.get(contact=video.contact)
    assert (Path(tmp_media) / "video_recordings" / recording.path).is_file()
    return recording


@pytest.fixture
def tmp_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- GET /api/video/calls/<id> ---------------------------------------------------------------
@override_settings(VIDEO_ICE_SERVERS=ICE)
def test_the_calls_agent_gets_the_room_and_ice_servers(client, agent_user, citizen):
    video = video_call(agent_user, citizen)
    client.force_login(agent_user)

    response = client.get(reverse("video-call", args=[video.contact_id]))

    assert response.status_code == 200
    body = response.json()
    assert body["room"] == "room-abc"
    assert body["ws_url"] == "/ws/video/room-abc/"
    assert body["ice_servers"] == ICE
    assert body["state"] == "active"
    assert body["citizen"]["name"] == "홍길동"
    assert "12345678" not in str(body["citizen"]), "the phone is masked"


@override_settings(VIDEO_RECORDING=True)
def test_recording_is_enabled_only_with_the_setting_and_the_citizens_consent(
    client, agent_user, citizen
):
    video = video_call(agent_user, citizen, consent=True)
    client.force_login(agent_user)
    url = reverse("video-call", args=[video.contact_id])

    assert client.get(url).json()["recording_enabled"] is True
    with override_settings(VIDEO_RECORDING=False):
        assert client.get(url).json()["recording_enabled"] is False
    VideoCall.objects.filter(pk=video.pk).update(recording_consent=False)
    assert client.get(url).json()["recording_enabled"] is False


def test_another_agent_is_refused_the_call(client, agent_user, other_agent_user, citizen):
    video = video_call(agent_user, citizen)
    client.force_login(other_agent_user)

    response = client.get(reverse("video-call", args=[video.contact_id]))

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_a_supervisor_sees_the_summary_without_the_room(
    client, agent_user, supervisor_user, citizen
):
    video = video_call(agent_user, citizen)
    VideoCall.objects.filter(pk=video.pk).update(
        connected_at=timezone.now(), outcome="connected", setup_ms=850
    )
    client.force_login(supervisor_user)

    response = client.get(reverse("video-call", args=[video.contact_id]))

    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "connected"
    assert body["setup_ms"] == 850
    assert "room" not in body and "ws_url" not in body and "ice_servers" not in body


def test_signed_out_and_officers_get_no_call(client, agent_user, officer_user, citizen):
    video = video_call(agent_user, citizen)
    url = reverse("video-call", args=[video.contact_id])

    assert client.get(url).status_code == 401
    client.force_login(officer_user)
    assert client.get(url).status_code == 403


def test_an_unknown_or_non_video_contact_is_not_found(client, agent_user):
    now = timezone.now()
    chat = ContactFactory(channel="webchat", agent=agent_user.agent, queued_at=now, answered_at=now)
    client.force_login(agent_user)

    assert client.get(reverse("video-call", args=[chat.pk])).status_code == 404
    assert client.get(reverse("video-call", args=[999999])).status_code == 404


# --- POST /api/video/calls/<id>/recording ------------------------------------------------------
@override_settings(VIDEO_RECORDING=True)
def test_the_agent_uploads_the_recording_it_is_kept_privately_with_an_event(
    client, agent_user, citizen, tmp_media
):
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)

    response = upload(client, video, seconds="95")

    assert response.status_code == 201, response.content
    recording = stored(tmp_media, video)
    assert response.json()["id"] == recording.pk
    assert (recording.content_type, recording.size, recording.seconds) == (
        "video/webm",
        len(WEBM),
        95,
    )
    assert recording.agent == agent_user.agent
    assert not recording.path.startswith("/"), "a path inside private storage, not a URL"
    event = video.contact.events.get(type=ContactEvent.Type.RECORDED)
    assert event.data["video"] is True
    assert event.data["recording_id"] == recording.pk


@override_settings(VIDEO_RECORDING=True)
def test_an_mp4_recording_is_recognised_by_its_content(client, agent_user, citizen, tmp_media):
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)

    response = upload(client, video, content=MP4, name="call.webm")

    assert response.status_code == 201
    assert stored(tmp_media, video).content_type == "video/mp4"


@override_settings(VIDEO_RECORDING=True)
def test_a_file_that_is_no_video_is_refused_whatever_its_name(
    client, agent_user, citizen, tmp_media
):
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)

    response = upload(client, video, content=PNG, name="call.webm")

    assert response.status_code == 415
    assert response.json()["error"] == "bad_type"
    assert not VideoRecording.objects.exists()


@override_settings(VIDEO_RECORDING=False)
def test_no_recording_is_kept_while_recording_is_off(client, agent_user, citizen, tmp_media):
    video = video_call(agent_user, citizen, consent=True, ended=True)
    client.force_login(agent_user)

    response = upload(client, video)

    assert response.status_code == 409
    assert response.json()["error"] == "recording_off"
    assert not VideoRecording.objects.exists()


@override_settings(VIDEO_RECORDING=True)
def test_no_recording_is_kept_without_the_citizens_consent(client, agent_user, citizen, tmp_media):
    video = video_call(agent_user, citizen, consent=False, ended=True)
    client.force_login(agent_user)

    response = upload(client, video)

    assert response.status_code == 409
    assert response.json()["error"] == "no_consent"
    assert not VideoRecording.objects.exists()


@override_settings(VIDEO_RECORDING=True, VIDEO_RECORDING_MAX_BYTES=1024)
def test_a_recording_over_the_limit_is_refused(client, agent_user, citizen, tmp_media):
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)

    response = upload(client, video)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not VideoRecording.objects.exists()
    assert not (Path(tmp_media) / "video_recordings").exists()


@override_settings(VIDEO_RECORDING=True)
def test_only_the_calls_agent_uploads(
    client, agent_user, other_agent_user, supervisor_user, citizen, tmp_media
):
    video = video_call(agent_user, citizen, ended=True)

    assert upload(client, video).status_code == 401
    for user in (other_agent_user, supervisor_user):
        client.force_login(user)
        assert upload(client, video).status_code == 403
    assert not VideoRecording.objects.exists()


@override_settings(VIDEO_RECORDING=True)
def test_an_upload_without_a_file_is_a_bad_request(client, agent_user, citizen, tmp_media):
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)

    response = client.post(reverse("video-recording-upload", args=[video.contact_id]), {})

    assert response.status_code == 400
    assert response.json()["error"] == "no_file"


# --- GET /api/video/recordings/<id> -------------------------------------------------------------
@pytest.fixture
def recording(client, agent_user, citizen, tmp_media, settings):
    settings.VIDEO_RECORDING = True
    video = video_call(agent_user, citizen, ended=True)
    client.force_login(agent_user)
    assert upload(client, video, seconds="95").status_code == 201
    client.logout()
    return VideoRecording.objects.get(contact=video.contact)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_agent_supervisor_and_administrator_see_the_recording_each_access_logged(
    client, recording, agent_user, supervisor_user, administrator_user, citizen
):
    url = reverse("video-recording", args=[recording.pk])
    for user in (agent_user, supervisor_user, administrator_user):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "video/webm"
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert body_of(response) == WEBM
        access = PersonalDataAccess.objects.filter(user=user).get()
        assert access.citizen == citizen
        assert access.field == "video_recording"
        assert f"#{recording.contact_id}" in access.reason


def test_other_agents_and_officers_do_not_see_the_recording(
    client, recording, other_agent_user, officer_user
):
    url = reverse("video-recording", args=[recording.pk])

    assert client.get(url).status_code == 401
    for user in (other_agent_user, officer_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_a_byte_range_is_served_for_seeking(client, recording, supervisor_user):
    client.force_login(supervisor_user)
    url = reverse("video-recording", args=[recording.pk])

    response = client.get(url, HTTP_RANGE="bytes=4-13")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 4-13/{len(WEBM)}"
    assert body_of(response) == WEBM[4:14]
    assert client.get(url, HTTP_RANGE=f"bytes={len(WEBM) + 5}-").status_code == 416


def test_a_deleted_recording_is_gone(client, recording, supervisor_user):
    VideoRecording.objects.filter(pk=recording.pk).update(deleted_at=timezone.now())
    client.force_login(supervisor_user)

    response = client.get(reverse("video-recording", args=[recording.pk]))

    assert response.status_code == 404
    assert not PersonalDataAccess.objects.exists()
