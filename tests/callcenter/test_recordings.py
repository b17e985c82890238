"""Call recordings: who may play them, where the audio comes from, and their retention.

The playback proxy and the retention job use the real ``requests`` and Twilio client; only
the HTTP is intercepted (``responses``), so the tests see exactly what would reach Twilio.
"""

import base64
import io
import wave
from datetime import timedelta

import pytest
import responses
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from callcenter.models import CallLeg, ContactEvent, PersonalDataAccess, VoiceCall
from callcenter.services.recordings import recordings_expire
from channels_app.models import OutboundMessage
from tests.factories import CitizenFactory, ContactFactory
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
API_KEY = "SK" + "5" * 32
API_SECRET = "api-secret-for-tests"
RECORDING_SID = "RE" + "7" * 32
MEDIA_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.mp3"
)
DELETE_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.json"
)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 100


@pytest.fixture
def twilio(settings):
    """The Twilio voice backend with a test account; Twilio's HTTP answered by ``responses``."""
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_API_KEY = API_KEY
    settings.TWILIO_API_SECRET = API_SECRET
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def recorded_call(agent_user, *, days_ago=0, seconds=47):
    """A call Minji took, recorded (``seconds`` long) ``days_ago`` days ago."""
    started = timezone.now() - timedelta(days=days_ago)
    contact = ContactFactory(
        channel="voice",
        citizen=CitizenFactory(name="홍길동"),
        agent=agent_user.agent,
        created_at=started,
        queued_at=started,
        answered_at=started + timedelta(seconds=10),
        ended_at=started + timedelta(seconds=10 + seconds),
    )
    VoiceCall.objects.create(
        contact=contact,
        call_sid="CA" + "6" * 32,
        recording_sid=RECORDING_SID,
        recording_url="https://evil.example/stolen.mp3",  # never fetched
        recording_seconds=seconds,
        recording_channels=2,
    )
    return contact


def recording_url(contact) -> str:
    return f"/contacts/{contact.pk}/recording"


def log_in(client, user):
    client.force_login(user)
    return client


# --- Who may play it -----------------------------------------------------------------------
def test_a_supervisor_plays_a_recording_and_the_playback_is_logged(
    client, agent_user, supervisor_user, twilio
):
    contact = recorded_call(agent_user)
    twilio.get(MEDIA_URL, body=MP3, content_type="audio/mpeg")
    response = log_in(client, supervisor_user).get(recording_url(contact))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == MP3
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.citizen, access.field) == (
        supervisor_user,
        contact.citizen,
        "recording",
    )


def test_the_agent_who_took_the_call_may_play_it(client, agent_user, twilio):
    contact = recorded_call(agent_user)
    twilio.get(MEDIA_URL, body=MP3, content_type="audio/mpeg")
    assert log_in(client, agent_user).get(recording_url(contact)).status_code == 200


def test_a_colleague_who_joined_the_call_may_play_it(client, agent_user, other_agent_user, twilio):
    contact = recorded_call(agent_user)
    CallLeg.objects.create(contact=contact, role=CallLeg.Role.CONSULT, agent=other_agent_user.agent)
    twilio.get(MEDIA_URL, body=MP3, content_type="audio/mpeg")
    assert log_in(client, other_agent_user).get(recording_url(contact)).status_code == 200


@pytest.mark.parametrize("persona", ["other_agent_user", "officer_user"])
def test_other_agents_and_officers_are_refused(client, agent_user, persona, request, twilio):
    contact = recorded_call(agent_user)
    user = request.getfixturevalue(persona)
    response = log_in(client, user).get(recording_url(contact))
    assert response.status_code == 403
    assert not twilio.calls
    assert not PersonalDataAccess.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, agent_user, twilio):
    contact = recorded_call(agent_user)
    response = client.get(recording_url(contact))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not twilio.calls


def test_no_recording_or_a_deleted_one_is_not_found(client, agent_user, supervisor_user, twilio):
    contact = recorded_call(agent_user)
    log_in(client, supervisor_user)
    VoiceCall.objects.filter(contact=contact).update(recording_deleted_at=timezone.now())
    assert client.get(recording_url(contact)).status_code == 404
    VoiceCall.objects.filter(contact=contact).update(recording_deleted_at=None, recording_sid="")
    assert client.get(recording_url(contact)).status_code == 404
    chat = ContactFactory(channel="webchat")
    assert client.get(recording_url(chat)).status_code == 404
    assert not twilio.calls


def test_only_get_is_served(client, agent_user, supervisor_user, twilio):
    contact = recorded_call(agent_user)
    assert log_in(client, supervisor_user).post(recording_url(contact)).status_code == 405


# --- Where the audio comes from -------------------------------------------------------------
def test_the_audio_comes_from_twilios_api_by_sid_with_the_api_key(
    client, agent_user, supervisor_user, twilio
):
    """Not from the stored RecordingUrl, nor from anything the request carries."""
    contact = recorded_call(agent_user)
    twilio.get(MEDIA_URL, body=MP3, content_type="audio/mpeg")
    response = log_in(client, supervisor_user).get(
        recording_url(contact), {"url": "https://evil.example/x.mp3"}
    )
    b"".join(response.streaming_content)
    assert [call.request.url for call in twilio.calls] == [MEDIA_URL]
    sent = twilio.calls[0].request
    assert sent.method == "GET"
    expected = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"


def test_twilio_failing_is_a_bad_gateway_and_no_playback_is_logged(
    client, agent_user, supervisor_user, twilio
):
    contact = recorded_call(agent_user)
    twilio.get(MEDIA_URL, status=500, body=b"")
    assert log_in(client, supervisor_user).get(recording_url(contact)).status_code == 502
    assert not PersonalDataAccess.objects.exists()


def test_without_twilio_the_player_gets_silence_as_long_as_the_recording(
    client, agent_user, supervisor_user, settings
):
    settings.VOICE_BACKEND = "simulated"
    contact = recorded_call(agent_user, seconds=4)
    response = log_in(client, supervisor_user).get(recording_url(contact))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["X-Open120-Simulated"] == "silence"
    with wave.open(io.BytesIO(response.content)) as audio:
        assert audio.getnframes() / audio.getframerate() == 4


def test_simulated_silence_is_capped_at_thirty_seconds(
    client, agent_user, supervisor_user, settings
):
    settings.VOICE_BACKEND = "simulated"
    contact = recorded_call(agent_user, seconds=3600)
    response = log_in(client, supervisor_user).get(recording_url(contact))
    with wave.open(io.BytesIO(response.content)) as audio:
        assert audio.getnframes() / audio.getframerate() == 30


# --- Where it shows ----------------------------------------------------------------------
def test_the_ticket_shows_the_call_summary_and_the_player_to_the_calls_agent(
    client, agent_user, other_agent_user, settings
):
    settings.VOICE_BACKEND = "simulated"
    contact = recorded_call(agent_user)
    VoiceCall.objects.filter(contact=contact).update(ivr_path=["menu:2", "language:en"])
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.TRANSFERRED,
        actor=agent_user,
        data={"from_agent": agent_user.agent.pk, "to_agent": other_agent_user.agent.pk},
    )
    ticket = ticket_create(
        citizen=contact.citizen, subject="등본 발급", channel="voice", contacts=[contact]
    )
    page = log_in(client, agent_user).get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'src="{recording_url(contact)}"' in page
    assert "메뉴 2 (외국어 상담)" in page and "언어: 영어" in page  # the path, in words
    assert "통화 요약" in page and "ARS 경로" in page  # Korean first
    assert other_agent_user.agent.display_name in page

    page = log_in(client, other_agent_user).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "메뉴 2 (외국어 상담)" in page
    assert recording_url(contact) not in page


def test_the_supervisors_contact_page_has_the_player(client, agent_user, supervisor_user, settings):
    settings.VOICE_BACKEND = "simulated"
    contact = recorded_call(agent_user)
    page = log_in(client, supervisor_user).get(f"/supervisor/contacts/{contact.pk}/")
    assert f'src="{recording_url(contact)}"'.encode() in page.content


# --- Retention -----------------------------------------------------------------------------
def test_expired_recordings_are_deleted_at_twilio_once(
    agent_user, twilio, settings, django_capture_on_commit_callbacks
):
    settings.VOICE_RECORDING_RETENTION_DAYS = 90
    old = recorded_call(agent_user, days_ago=91)
    recent = recorded_call(agent_user, days_ago=89)
    VoiceCall.objects.filter(contact=recent).update(recording_sid="RE" + "8" * 32)
    twilio.delete(DELETE_URL, status=204)

    with django_capture_on_commit_callbacks(execute=True):
        assert recordings_expire() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert recordings_expire() == 0

    assert [(c.request.method, c.request.url) for c in twilio.calls] == [("DELETE", DELETE_URL)]
    call = VoiceCall.objects.get(contact=old)
    assert call.recording_deleted_at is not None and call.recording_url == ""
    command = OutboundMessage.objects.get(subject="recording_delete")
    assert command.status == OutboundMessage.Status.SENT
    assert command.request == [{"method": "DELETE", "url": DELETE_URL, "data": {}}]
    assert VoiceCall.objects.get(contact=recent).recording_deleted_at is None


def test_the_command_says_how_many_recordings_it_deleted(agent_user, settings, capsys):
    settings.VOICE_RECORDING_RETENTION_DAYS = 30
    recorded_call(agent_user, days_ago=31)
    call_command("recordings_expire")
    assert capsys.readouterr().out.strip() == "1 recordings deleted"
    call_command("recordings_expire")
    assert capsys.readouterr().out.strip() == "0 recordings deleted"


def test_beat_expires_recordings_every_day():
    entry = django_settings.CELERY_BEAT_SCHEDULE["recordings-expire"]
    assert entry["task"] == "callcenter.tasks.recordings_expire_task"
    assert entry["schedule"] == 24 * 60 * 60
