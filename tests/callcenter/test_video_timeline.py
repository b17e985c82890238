"""A sign-language video call on the record: the ticket's contacts and the supervisor's
contact page show how it went, the wallboard shows one in progress, and the service
metrics count video contacts with voice's 20-second threshold.

Personas: Minji (agent) took 홍길동's video call; Junho is another agent; Sora a supervisor.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callcenter.models import Contact, ContactEvent, VideoCall, VideoRecording
from callcenter.selectors import contact_metrics
from tests.factories import ContactFactory, QueueFactory
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def finished_video_call(agent_user, citizen, *, recorded=False) -> Contact:
    """홍길동's video call: queued, answered 12 s later, connected 1.5 s after the accept,
    one ICE restart, ended by the citizen after 4 minutes; linked to a ticket."""
    queued = timezone.now() - timedelta(hours=1)
    answered = queued + timedelta(seconds=12)
    ended = answered + timedelta(minutes=4)
    contact = ContactFactory(
        channel="video",
        language="ksl",
        queue=QueueFactory(code="sign-video", channels=["video"]),
        citizen=citizen,
        agent=agent_user.agent,
        queued_at=queued,
        answered_at=answered,
        ended_at=ended,
    )
    VideoCall.objects.create(
        contact=contact,
        room="room-timeline",
        recording_consent=recorded,
        connected_at=answered + timedelta(milliseconds=1500),
        setup_ms=1500,
        ice_restarts=1,
        ice_failures=1,
        outcome=VideoCall.Outcome.CONNECTED,
        ended_by="citizen",
    )
    steps = [
        (ContactEvent.Type.VIDEO_CONNECTED, {"recovered": False, "setup_ms": 1500}, 2),
        (ContactEvent.Type.VIDEO_FAILED, {"by": "citizen", "gave_up": False}, 60),
        (ContactEvent.Type.VIDEO_RESTARTED, {"by": "agent"}, 61),
        (ContactEvent.Type.VIDEO_CONNECTED, {"recovered": True, "setup_ms": 1500}, 63),
        (ContactEvent.Type.ENDED, {"by": "citizen"}, 240),
    ]
    for kind, data, seconds in steps:
        ContactEvent.objects.create(
            contact=contact,
            type=kind,
            data=data,
            agent=agent_user.agent,
            created_at=answered + timedelta(seconds=seconds),
        )
    if recorded:
        recording = VideoRecording.objects.create(
            contact=contact, agent=agent_user.agent, path="x/y.webm", size=10, seconds=238
        )
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.RECORDED,
            data={"video": True, "recording_id": recording.pk, "seconds": 238},
        )
    contact.messages.create(sender="citizen", text="주소는 서울시 중구 세종대로 110입니다")
    ticket_create(subject="수어 상담", channel="video", citizen=citizen, contacts=[contact])
    return contact


def ticket_page(client, contact) -> str:
    response = client.get(reverse("ticket-detail", args=[contact.tickets.get().pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_ticket_shows_the_video_calls_summary_and_steps(client, agent_user, citizen):
    contact = finished_video_call(agent_user, citizen)
    client.force_login(agent_user)

    page = ticket_page(client, contact)

    assert "Video call summary" in page
    assert "1.5 s after the accept" in page
    assert "by the citizen" in page
    assert "4:00" in page  # the talk time
    assert "1 restart," in page and "1 failure" in page
    assert "Video connection restarted" in page
    assert "connection recovered" in page
    assert "Not recorded (no consent)" in page
    # The side chat shows as any chat's transcript does.
    assert "세종대로 110" in page


def test_a_recording_is_playable_by_the_calls_agent_and_supervisors_only(
    client, agent_user, other_agent_user, supervisor_user, citizen
):
    contact = finished_video_call(agent_user, citizen, recorded=True)
    recording = contact.video_recordings.get()
    link = reverse("video-recording", args=[recording.pk])

    for user in (agent_user, supervisor_user):
        client.force_login(user)
        page = ticket_page(client, contact)
        assert link in page
        assert "238 seconds" in page
    client.force_login(other_agent_user)
    page = ticket_page(client, contact)
    assert link not in page
    assert "Recorded; only supervisors and the call's agent can see it." in page


def test_the_supervisors_contact_page_shows_the_video_call(
    client, agent_user, supervisor_user, citizen
):
    contact = finished_video_call(agent_user, citizen)
    client.force_login(supervisor_user)

    response = client.get(reverse("supervisor-contact", args=[contact.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Video call summary" in page
    assert "Video connected" in page
    assert "1.5 s after the accept" in page


def test_a_failed_video_call_says_so_and_that_the_citizen_gave_up(
    client, agent_user, supervisor_user, citizen
):
    contact = finished_video_call(agent_user, citizen)
    VideoCall.objects.filter(pk=contact.pk).update(
        outcome=VideoCall.Outcome.FAILED, connected_at=None, setup_ms=None
    )
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.VIDEO_FAILED,
        data={"by": "citizen", "gave_up": True},
    )
    client.force_login(supervisor_user)

    page = client.get(reverse("supervisor-contact", args=[contact.pk])).content.decode()

    assert "Connection failed" in page
    assert "the citizen gave up" in page


def test_the_dashboard_shows_a_video_call_in_progress_and_whether_it_connected(
    client, agent_user, supervisor_user, citizen
):
    answered = timezone.now() - timedelta(minutes=2)
    queue = QueueFactory(code="sign-video", channels=["video"])
    connected = ContactFactory(
        channel="video",
        queue=queue,
        citizen=citizen,
        agent=agent_user.agent,
        queued_at=answered - timedelta(seconds=5),
        answered_at=answered,
    )
    VideoCall.objects.create(
        contact=connected, room="room-1", connected_at=answered, outcome="connected"
    )
    connecting = ContactFactory(
        channel="video", queue=queue, queued_at=answered, answered_at=answered
    )
    VideoCall.objects.create(contact=connecting, room="room-2")
    client.force_login(supervisor_user)

    page = client.get(reverse("supervisor-dashboard")).content.decode()

    assert f'data-video-row="{connected.pk}"' in page
    assert f'data-video-row="{connecting.pk}"' in page
    row = page.split(f'data-video-row="{connected.pk}"')[1].split("</tr>")[0]
    assert 'js-video-connected">' in row, "the connected badge shows"
    assert 'js-video-connecting" hidden' in row
    since = timezone.localtime(answered).strftime("%Y-%m-%dT%H:%M:%S")
    assert f'js-video-timer" data-since="{since}' in row, "the duration ticks from the answer"
    other = page.split(f'data-video-row="{connecting.pk}"')[1].split("</tr>")[0]
    assert 'js-video-connected" hidden' in other
    assert 'js-video-connecting">' in other


# --- Service level and handle time count video like voice (T = 20 s) ----------------------
def test_video_contacts_are_answered_in_time_within_20_seconds_like_calls(agent_user):
    """Four video contacts: answered after 10 s and 20 s (in time), 25 s (late; it would be
    in time for a chat) and one abandoned after 30 s. Handled: the first two, 2 and 4
    minutes of talk plus 1 minute of wrap-up each."""
    start = timezone.now() - timedelta(hours=2)
    queue = QueueFactory(code="sign-video", channels=["video"])

    def video(wait, talk=None, wrapup=None, abandoned=False):
        answered = None if abandoned else start + timedelta(seconds=wait)
        ended = (
            start + timedelta(seconds=wait)
            if abandoned
            else (answered + talk if talk is not None else None)
        )
        return ContactFactory(
            channel="video",
            queue=queue,
            agent=None if abandoned else agent_user.agent,
            queued_at=start,
            answered_at=answered,
            ended_at=ended,
            wrapup_ended_at=ended + wrapup if wrapup is not None else None,
            abandoned=abandoned,
        )

    video(10, talk=timedelta(minutes=2), wrapup=timedelta(minutes=1))
    video(20, talk=timedelta(minutes=4), wrapup=timedelta(minutes=1))
    video(25)
    video(30, abandoned=True)

    metrics = contact_metrics(Contact.objects.filter(channel="video"))

    assert metrics.offered == 4
    assert metrics.answered == 3
    assert metrics.answered_in_threshold == 2
    assert metrics.service_level == pytest.approx(2 / 4)
    assert metrics.abandonment_rate == pytest.approx(1 / 4)
    assert metrics.asa == timedelta(seconds=(10 + 20 + 25) / 3)
    assert metrics.handled == 2
    assert metrics.aht == timedelta(minutes=4)  # (2 + 1 + 4 + 1) ÷ 2
