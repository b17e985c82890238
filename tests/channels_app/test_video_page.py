"""The citizen's sign-language video page over HTTP: the page, availability, starting a
call and the video call-back request."""

import json
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callcenter.models import (
    Agent,
    CallbackRequest,
    ChatSession,
    Citizen,
    Contact,
    Presence,
    Skill,
    VideoCall,
)
from tests.factories import AgentFactory, QueueFactory, SkillFactory
from tickets.models import BusinessCalendar
from tickets.sla import SEOUL

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_skill(db) -> Skill:
    return SkillFactory(code="sign-language", name="수어", kind=Skill.Kind.SIGN_LANGUAGE)


@pytest.fixture
def video_queue(sign_skill):
    queue = QueueFactory(code="sign-video", name="수어 영상", channels=["video"], priority=2)
    queue.required_skills.set([sign_skill])
    return queue


@pytest.fixture
def signing_agent(sign_skill) -> Agent:
    """최은영, a signing agent logged in and available."""
    agent = AgentFactory(display_name="최은영", skills=[sign_skill])
    Agent.objects.filter(pk=agent.pk).update(presence=Presence.AVAILABLE)
    return agent


@pytest.fixture
def office_hours(video_queue) -> BusinessCalendar:
    """Mon–Fri 09:00–18:00, no holidays (so that the tests do not depend on the date)."""
    calendar = BusinessCalendar.objects.create(
        name="수어 상담 시간",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
        public_holidays=False,
    )
    video_queue.calendar = calendar
    video_queue.save(update_fields=["calendar"])
    return calendar


@pytest.fixture
def closed_calendar(video_queue) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        name="휴업", hours={str(day): [] for day in range(7)}, public_holidays=False
    )
    video_queue.calendar = calendar
    video_queue.save(update_fields=["calendar"])
    return calendar


def start(client, lang="ko", **data):
    payload = {"name": "김수어", "phone": "010-2345-6789", "consent": True, **data}
    url = f"{reverse('video-start')}?lang={lang}"
    return client.post(url, json.dumps(payload), content_type="application/json")


def book(client, lang="ko", **data):
    payload = {"phone": "010-2345-6789", "name": "김수어", "note": "", **data}
    url = f"{reverse('video-callback')}?lang={lang}"
    return client.post(url, json.dumps(payload), content_type="application/json")


def next_weekday(weekday: int, at: time) -> datetime:
    """The next ``weekday`` (0 = Monday) at least two days ahead, at ``at`` in Seoul."""
    day = timezone.localdate(timezone.now(), SEOUL) + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, at)


# --- the page ------------------------------------------------------------------------------
def test_the_page_explains_the_service_in_korean_with_its_hours(client, video_queue):
    page = client.get(reverse("video")).content.decode()
    assert '<html lang="ko"' in page
    assert "수어 영상 상담" in page
    assert "청각·언어장애인을 위한 수어 통역 상담" in page
    assert "24시간" in page  # no calendar: around the clock


def test_the_page_speaks_english_on_request_and_shows_the_calendar_hours(
    client, video_queue, office_hours
):
    page = client.get(reverse("video"), {"lang": "en"}).content.decode()
    assert '<html lang="en"' in page
    assert "Sign-language video consultation" in page
    assert "Mon–Fri 09:00–18:00" in page


def test_the_page_asks_recording_consent_only_when_recording_is_on(client, video_queue, settings):
    settings.VIDEO_RECORDING = False
    assert 'name="recording_consent"' not in client.get(reverse("video")).content.decode()
    settings.VIDEO_RECORDING = True
    assert 'name="recording_consent"' in client.get(reverse("video")).content.decode()


def test_without_a_signing_agent_the_page_opens_on_the_other_ways_to_reach_us(client, video_queue):
    page = client.get(reverse("video"), {"lang": "en"}).content.decode()
    assert 'data-phase="unavailable"' in page
    assert "No sign-language agent is on duty right now." in page


def test_without_a_video_queue_the_page_offers_only_the_text_chat(client, db):
    page = client.get(reverse("video"), {"lang": "en"}).content.decode()
    assert "Sign-language video calls are not offered." in page
    assert 'id="video-chat-link"' in page
    assert 'id="video-callback-form"' not in page


# --- availability --------------------------------------------------------------------------
def test_availability_counts_signing_agents_and_names_no_one(client, video_queue, signing_agent):
    body = client.get(reverse("video-availability")).json()
    assert body == {
        "available": True,
        "reason": "",
        "open_now": True,
        "signing_agents": 1,
        "hours": "24시간 연중무휴",
        "queue": "수어 영상",
    }


def test_availability_says_closed_outside_the_calendar(
    client, video_queue, signing_agent, closed_calendar
):
    body = client.get(reverse("video-availability"), {"lang": "en"}).json()
    assert (body["available"], body["reason"], body["open_now"]) == (False, "closed", False)


def test_availability_without_a_video_queue(client, db):
    body = client.get(reverse("video-availability")).json()
    assert (body["available"], body["reason"], body["queue"]) == (False, "no_queue", "")


# --- starting a call -----------------------------------------------------------------------
def test_starting_a_call_queues_a_video_contact_and_returns_both_sockets(
    client, video_queue, signing_agent
):
    response = start(client)
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    video = VideoCall.objects.get(contact_id=body["contact_id"])
    assert body == {
        "token": token,
        "contact_id": video.contact_id,
        "ws_url": "/ws/chat/",
        "ws_protocols": ["open120.chat", token],
        "video_ws_url": f"/ws/video/{video.room}/",
        "video_ws_protocols": ["open120.video", token],
    }
    assert token not in body["video_ws_url"]  # the token never goes into a URL
    contact = video.contact
    assert (contact.channel, contact.language, contact.queue) == ("video", "ksl", video_queue)
    assert contact.state == Contact.State.WAITING
    assert str(contact.citizen.phone) == "+821023456789" and contact.citizen.consent_privacy
    assert not video.recording_consent


def test_recording_consent_is_kept_only_when_recording_is_on(
    client, video_queue, signing_agent, settings
):
    settings.VIDEO_RECORDING = False
    first = start(client, recording_consent=True).json()
    settings.VIDEO_RECORDING = True
    second = start(client, phone="010-3456-7890", recording_consent=True).json()
    assert not VideoCall.objects.get(contact_id=first["contact_id"]).recording_consent
    assert VideoCall.objects.get(contact_id=second["contact_id"]).recording_consent


def test_a_start_without_consent_or_with_a_bad_phone_names_the_fields(
    client, video_queue, signing_agent
):
    response = start(client, consent=False, phone="12")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"consent", "phone"}
    assert not Contact.objects.exists()


def test_no_signing_agent_logged_in_refuses_the_start_and_stores_nothing(client, video_queue):
    response = start(client, lang="en")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert response.json()["reason"] == "no_agents"
    assert response.json()["message"]
    assert not Contact.objects.exists() and not Citizen.objects.exists()
    assert not ChatSession.objects.exists()


def test_a_closed_calendar_refuses_the_start(client, video_queue, signing_agent, closed_calendar):
    response = start(client)
    assert response.status_code == 503
    assert response.json()["reason"] == "closed"
    assert not Contact.objects.exists()


def test_too_many_starts_from_one_address_are_refused(client, video_queue, signing_agent, settings):
    settings.VIDEO_START_LIMIT_PER_HOUR = 2
    assert start(client).status_code == 201
    assert start(client, phone="").status_code == 201
    response = start(client, phone="")
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited" and int(response["Retry-After"]) > 0
    assert Contact.objects.count() == 2


def test_a_body_that_is_not_a_json_object_is_a_bad_request(client, video_queue, signing_agent):
    response = client.post(reverse("video-start"), "[1]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_the_start_takes_only_posts(client, video_queue):
    assert client.get(reverse("video-start")).status_code == 405


# --- the video call-back -------------------------------------------------------------------
def test_a_call_back_at_a_chosen_time_is_stored_for_the_video_queue(client, video_queue):
    when = (timezone.localtime(timezone.now(), SEOUL) + timedelta(days=2)).replace(
        hour=10, minute=30, second=0, microsecond=0, tzinfo=None
    )
    response = book(
        client, preferred_at=when.isoformat(timespec="minutes"), note="주민번호 900101-1234567 문의"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "saved"
    assert response.json()["preferred_at"] == when.replace(tzinfo=SEOUL).isoformat()
    callback = CallbackRequest.objects.get()
    assert callback.source == CallbackRequest.Source.VIDEO
    assert callback.queue == video_queue
    assert callback.preferred_at == when.replace(tzinfo=SEOUL)
    assert str(callback.phone) == "+821023456789"
    assert "1234567" not in callback.note  # masked by the service
    assert callback.citizen.name == "김수어"


def test_a_call_back_in_the_past_is_refused(client, video_queue):
    past = timezone.localtime(timezone.now(), SEOUL) - timedelta(hours=1)
    response = book(client, preferred_at=past.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 400
    assert "preferred_at" in response.json()["fields"]
    assert not CallbackRequest.objects.exists()


def test_a_call_back_more_than_two_weeks_ahead_is_refused(client, video_queue):
    later = timezone.localtime(timezone.now(), SEOUL) + timedelta(days=15)
    response = book(client, preferred_at=later.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 400
    assert "preferred_at" in response.json()["fields"]
    assert not CallbackRequest.objects.exists()


def test_a_call_back_outside_the_opening_hours_is_refused(client, video_queue, office_hours):
    sunday = next_weekday(6, time(10, 0))
    response = book(client, preferred_at=sunday.isoformat(timespec="minutes"), lang="en")
    assert response.status_code == 400
    assert "closed" in response.json()["fields"]["preferred_at"][0]
    monday = next_weekday(0, time(10, 0))
    assert book(client, preferred_at=monday.isoformat(timespec="minutes")).status_code == 201
    assert CallbackRequest.objects.get().preferred_at == monday.replace(tzinfo=SEOUL)


def test_a_call_back_needs_a_korean_mobile_number(client, video_queue):
    when = (timezone.localtime(timezone.now(), SEOUL) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    for phone in ("", "12", "02-120-1000"):
        response = book(client, phone=phone, preferred_at=when)
        assert response.status_code == 400, phone
        assert "phone" in response.json()["fields"]
    assert not CallbackRequest.objects.exists()


def test_a_garbled_time_is_a_field_error(client, video_queue):
    response = book(client, preferred_at="next tuesday")
    assert response.status_code == 400
    assert "preferred_at" in response.json()["fields"]


def test_too_many_call_back_requests_are_refused(client, video_queue, settings):
    settings.VIDEO_CALLBACK_LIMIT_PER_HOUR = 1
    when = (timezone.localtime(timezone.now(), SEOUL) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    assert book(client, preferred_at=when).status_code == 201
    assert book(client, preferred_at=when, phone="010-9999-8888").status_code == 429
    assert CallbackRequest.objects.count() == 1


def test_a_call_back_without_a_video_queue_is_unavailable(client, db):
    when = (timezone.localtime(timezone.now(), SEOUL) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    response = book(client, preferred_at=when)
    assert response.status_code == 503
    assert response.json()["reason"] == "no_queue"
    assert not CallbackRequest.objects.exists()


def test_the_call_back_list_shows_the_video_request_and_the_chosen_time(
    client, video_queue, supervisor_user
):
    when = next_weekday(2, time(15, 30))  # a Wednesday
    assert book(client, preferred_at=when.isoformat(timespec="minutes")).status_code == 201
    client.force_login(supervisor_user)
    callback = CallbackRequest.objects.get()
    listing = client.get(reverse("callback-list"), {"lang": "en"}).content.decode()
    assert "Sign-language video call request" in listing
    assert f'Preferred time: <time datetime="{when.replace(tzinfo=SEOUL).isoformat()}">' in listing
    assert when.strftime("%m-%d (Wed) 15:30") in listing
    detail = client.get(reverse("callback-detail", args=[callback.pk])).content.decode()
    assert when.strftime("%Y-%m-%d (Wed) 15:30") in detail
