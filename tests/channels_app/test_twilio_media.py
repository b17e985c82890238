"""Twilio's media callbacks: a call's recording, and its live transcript as messages.

Requests are signed as Twilio signs them (``RequestValidator.compute_signature`` over the
public URL and the POST parameters).
"""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callcenter.models import ContactEvent, Message, VoiceCall
from callcenter.services.recordings import recording_record
from channels_app.models import OutboundMessage
from tests.channels_app.conftest import agent_socket, receive_until
from tests.factories import AgentFactory, CitizenFactory, ContactFactory

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "media-test-token-" + "m" * 15
ACCOUNT_SID = "AC" + "a" * 32
CALL_SID = "CA" + "2" * 32
RECORDING_SID = "RE" + "3" * 32
TRANSCRIPTION_SID = "GT" + "4" * 32
RECORDING_PATH = "/twilio/voice/recording"
TRANSCRIPTION_PATH = "/twilio/voice/transcription"


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID


def answered_call(agent=None, call_sid=CALL_SID):
    """A call Minji's colleague (or ``agent``) has been talking on for half a minute."""
    now = timezone.now()
    contact = ContactFactory(
        channel="voice",
        provider_id=call_sid,
        citizen=CitizenFactory(name="홍길동"),
        agent=agent or AgentFactory(display_name="김민지"),
        queued_at=now - timedelta(minutes=1),
        answered_at=now - timedelta(seconds=30),
    )
    VoiceCall.objects.create(contact=contact, call_sid=call_sid)
    return contact


def signed_post(client, path, params, *, token=AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(
        django_settings.PUBLIC_BASE_URL + path, params
    )
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def recording_params(**extra) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL_SID,
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
        f"/Recordings/{RECORDING_SID}",
        "RecordingStatus": "completed",
        "RecordingDuration": "47",
        "RecordingChannels": "2",
        "RecordingSource": "StartCallRecordingAPI",
        **extra,
    }


def segment(text, *, sequence=1, track="inbound_track", final="true", **extra) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL_SID,
        "TranscriptionSid": TRANSCRIPTION_SID,
        "TranscriptionEvent": "transcription-content",
        "SequenceId": str(sequence),
        "Track": track,
        "TranscriptionData": json.dumps({"transcript": text, "confidence": 0.91}),
        "Final": final,
        "LanguageCode": "ko-KR",
        **extra,
    }


# --- Recording callback -------------------------------------------------------------------
def test_a_completed_recording_is_kept_on_its_call_with_a_recorded_event(client):
    contact = answered_call()
    response = signed_post(client, RECORDING_PATH, recording_params())
    assert response.status_code == 204
    call = VoiceCall.objects.get(contact=contact)
    assert call.recording_sid == RECORDING_SID
    assert call.recording_url == recording_params()["RecordingUrl"]
    assert (call.recording_seconds, call.recording_channels) == (47, 2)
    event = ContactEvent.objects.get(contact=contact, type=ContactEvent.Type.RECORDED)
    assert event.data["recording_sid"] == RECORDING_SID


def test_a_repeated_or_late_recording_callback_leaves_the_first_state(client):
    contact = answered_call()
    signed_post(client, RECORDING_PATH, recording_params())
    signed_post(client, RECORDING_PATH, recording_params(RecordingDuration="99"))
    signed_post(client, RECORDING_PATH, recording_params(RecordingStatus="absent"))
    call = VoiceCall.objects.get(contact=contact)
    assert (call.recording_sid, call.recording_seconds) == (RECORDING_SID, 47)
    assert ContactEvent.objects.filter(type=ContactEvent.Type.RECORDED).count() == 1


def test_an_absent_or_failed_recording_stores_nothing(client):
    contact = answered_call()
    for status in ("absent", "failed"):
        assert signed_post(client, RECORDING_PATH, recording_params(RecordingStatus=status))
    call = VoiceCall.objects.get(contact=contact)
    assert call.recording_sid == "" and call.recording_seconds is None
    assert not ContactEvent.objects.filter(type=ContactEvent.Type.RECORDED).exists()


def test_the_recording_goes_to_the_contact_whose_record_command_twilio_answered(client):
    """A transfer to a queue makes a second leg with the same CallSid: the recording belongs
    to the leg whose ``record`` command got this RecordingSid."""
    first = answered_call()
    later = ContactFactory(channel="voice", transferred_from=first)
    VoiceCall.objects.create(contact=later, call_sid=CALL_SID)
    OutboundMessage.objects.create(
        channel="voice",
        to=CALL_SID,
        subject="record",
        body="{}",
        idempotency_key=f"voice:{later.pk}:record",
        contact=later,
        status="sent",
        provider_id=RECORDING_SID,
    )
    signed_post(client, RECORDING_PATH, recording_params())
    assert VoiceCall.objects.get(contact=later).recording_sid == RECORDING_SID
    assert VoiceCall.objects.get(contact=first).recording_sid == ""


def test_a_recording_of_a_call_we_do_not_know_is_answered_204_and_stores_nothing(client):
    answered_call()
    response = signed_post(client, RECORDING_PATH, recording_params(CallSid="CA" + "9" * 32))
    assert response.status_code == 204
    assert not VoiceCall.objects.exclude(recording_sid="").exists()


@pytest.mark.parametrize("path", [RECORDING_PATH, TRANSCRIPTION_PATH])
def test_unsigned_or_wrongly_signed_media_callbacks_are_refused_and_change_nothing(client, path):
    answered_call()
    params = recording_params() if path == RECORDING_PATH else segment("등본 떼려고요")
    assert client.post(path, params).status_code == 403
    assert signed_post(client, path, params, token="another-token").status_code == 403
    assert client.get(path).status_code == 405
    assert not VoiceCall.objects.exclude(recording_sid="").exists()
    assert not Message.objects.exists()


# --- Live transcription -------------------------------------------------------------------
def test_transcription_started_marks_the_call_transcribed(client):
    contact = answered_call()
    params = {**segment(""), "TranscriptionEvent": "transcription-started"}
    for key in ("TranscriptionData", "Final", "SequenceId", "Track"):
        params.pop(key)
    assert signed_post(client, TRANSCRIPTION_PATH, params).status_code == 204
    assert VoiceCall.objects.get(contact=contact).transcribed


def test_a_final_segment_of_the_caller_is_one_citizen_message_even_when_retried(client):
    contact = answered_call()
    for _ in range(2):
        response = signed_post(client, TRANSCRIPTION_PATH, segment("주민등록등본 떼려고요"))
        assert response.status_code == 204
    message = Message.objects.get()
    assert (message.contact, message.sender, message.text) == (
        contact,
        "citizen",
        "주민등록등본 떼려고요",
    )
    assert message.client_id == f"tr:{TRANSCRIPTION_SID}:1"


def test_what_the_caller_hears_is_the_agents_message_with_the_agents_user(client):
    agent = AgentFactory(display_name="김민지")
    answered_call(agent=agent)
    signed_post(
        client,
        TRANSCRIPTION_PATH,
        segment("정부24에서 발급됩니다.", sequence=2, track="outbound_track"),
    )
    message = Message.objects.get()
    assert (message.sender, message.sender_user) == ("agent", agent.user)


def test_partial_and_empty_segments_are_ignored(client):
    answered_call()
    signed_post(client, TRANSCRIPTION_PATH, segment("주민등록", final="false"))
    signed_post(client, TRANSCRIPTION_PATH, segment("   ", sequence=3))
    signed_post(client, TRANSCRIPTION_PATH, segment("x", sequence=4, TranscriptionData="not json"))
    assert not Message.objects.exists()


def test_a_registration_number_said_on_the_phone_is_masked_before_it_is_stored(client):
    answered_call()
    signed_post(client, TRANSCRIPTION_PATH, segment("제 주민번호는 900101-1234567 입니다"))
    text = Message.objects.get().text
    assert "1234567" not in text and "900101-1" in text


def test_a_segment_after_a_transfer_goes_to_the_calls_current_leg(client):
    first = answered_call()
    later = ContactFactory(channel="voice", transferred_from=first, citizen=first.citizen)
    VoiceCall.objects.create(contact=later, call_sid=CALL_SID)
    signed_post(client, TRANSCRIPTION_PATH, segment("외국어 상담 부탁해요"))
    assert Message.objects.get().contact == later


def test_a_segment_of_a_call_we_do_not_know_stores_nothing(client):
    answered_call()
    response = signed_post(client, TRANSCRIPTION_PATH, segment("등본", CallSid="CA" + "8" * 32))
    assert response.status_code == 204
    assert not Message.objects.exists()


def test_a_segment_without_a_sequence_id_is_a_bad_request(client):
    answered_call()
    response = signed_post(client, TRANSCRIPTION_PATH, segment("등본", SequenceId="x"))
    assert response.status_code == 400
    assert not Message.objects.exists()


# --- The transcript drives the console's knowledge suggestions, as chat text does ---------
@pytest.mark.django_db(transaction=True)
async def test_what_the_caller_says_brings_knowledge_suggestions_to_the_agents_console(
    settings,
):
    from knowledge.services import article_save

    settings.KNOWLEDGE_SUGGEST_DELAY_SECONDS = 0.1
    await sync_to_async(article_save)(
        title="주민등록등본 발급 방법",
        question="등본 떼려면 어디로 가야 하나요?",
        answer="정부24에서 무료로 발급받을 수 있습니다.",
        synonyms=["등본"],
        status="published",
        author=None,
    )
    agent = await sync_to_async(AgentFactory)(display_name="김민지")
    contact = await sync_to_async(answered_call)(agent=agent)
    console = await agent_socket(agent.user)
    hello = await console.receive_json_from(timeout=5)
    assert contact.pk in [item["id"] for item in hello["contacts"]]
    await console.send_json_to({"type": "console.view", "contact_id": contact.pk})

    response = await sync_to_async(signed_post)(
        Client(), TRANSCRIPTION_PATH, segment("등본 떼려면 어떻게 해요?")
    )
    assert response.status_code == 204
    created, _ = await receive_until(console, "message.created")
    assert created["message"]["sender"] == "citizen"
    suggestions, _ = await receive_until(console, "knowledge.suggestions")
    assert suggestions["contact_id"] == contact.pk
    assert suggestions["results"][0]["title"] == "주민등록등본 발급 방법"
    await console.disconnect()


def test_a_recording_sid_not_shaped_as_twilios_is_never_kept(db):
    """The SID becomes part of the URL the playback proxy fetches: only Twilio's shape."""
    for sid in ("RE" + "1" * 31 + "/", "../Calls/CA" + "1" * 32, "https://evil.example/a.mp3"):
        assert (
            recording_record(call_sid="CA" + "1" * 32, recording_sid=sid, status="completed")
            is None
        )
