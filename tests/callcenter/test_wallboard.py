"""The live wallboard's snapshot (queues, agents, alerts) and its page."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from callcenter.metrics import SEOUL, day_bounds
from callcenter.models import Presence
from callcenter.wallboard import wallboard_snapshot
from tests import factories
from tests import factories_wallboard as make
from tickets.models import SlaAlert, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def today_start(now) -> datetime:
    """A moment today (Seoul) to place today's contacts from: ten minutes ago, or just
    after midnight when the test runs in the day's first minutes."""
    midnight, _ = day_bounds(now.astimezone(SEOUL).date(), now.astimezone(SEOUL).date())
    return max(midnight + timedelta(seconds=1), now - timedelta(minutes=10))


@pytest.fixture
def centre(db, now):
    """Two queues: phone (Korean) and chat in English; four agents in different states."""
    korean, english = make.skill("lang-ko"), make.skill("lang-en")
    phone = make.queue("phone", "일반 전화", channels=["voice"], skills=[korean])
    chat = make.queue("chat-en", "영어 채팅", channels=["webchat"], skills=[english])
    return {
        "phone": phone,
        "chat": chat,
        "minji": make.agent(
            "김민지", presence=Presence.AVAILABLE, since=now - timedelta(minutes=3), skills=[korean]
        ),
        "junho": make.agent(
            "이준호", presence=Presence.BUSY, since=now - timedelta(minutes=5), skills=[korean]
        ),
        "sujin": make.agent(
            "최수진",
            presence=Presence.BREAK,
            since=now - timedelta(minutes=7),
            skills=[korean, english],
            reason="점심",
        ),
        "gone": make.agent(
            "정하늘",
            presence=Presence.AVAILABLE,
            since=now - timedelta(hours=1),
            skills=[korean, english],
            console=False,
        ),
    }


def queue_row(snapshot: dict, queue) -> dict:
    return next(row for row in snapshot["queues"] if row["id"] == queue.pk)


def agent_row(snapshot: dict, agent) -> dict:
    return next(row for row in snapshot["agents"] if row["id"] == agent.pk)


def test_each_queue_shows_who_waits_the_longest_wait_and_the_agents_able_to_take_it(centre, now):
    make.waiting(centre["phone"], since=now - timedelta(seconds=90))
    make.waiting(centre["phone"], since=now - timedelta(seconds=30))
    make.waiting(centre["chat"], since=now - timedelta(seconds=12), channel="webchat")

    snapshot = wallboard_snapshot(now=now)

    phone, chat = queue_row(snapshot, centre["phone"]), queue_row(snapshot, centre["chat"])
    assert (phone["name"], phone["channels"], phone["waiting"]) == ("일반 전화", ["voice"], 2)
    assert phone["longest_wait_seconds"] == 90
    # Minji available, Junho busy, Sujin on a break; Haneul's console is closed: not counted.
    assert phone["agents"] == {"available": 1, "busy": 1, "wrapup": 0, "break": 1}
    assert (chat["waiting"], chat["longest_wait_seconds"]) == (1, 12)
    assert chat["agents"] == {"available": 0, "busy": 0, "wrapup": 0, "break": 1}
    assert [row["id"] for row in snapshot["waiting"]][:1] == [
        min(row["id"] for row in snapshot["waiting"] if row["queue_id"] == centre["phone"].pk)
    ]


def test_an_empty_queue_shows_no_wait_and_no_figures(centre, now):
    phone = queue_row(wallboard_snapshot(now=now), centre["phone"])

    assert (phone["waiting"], phone["longest_wait_seconds"], phone["offered"]) == (0, 0, 0)
    assert (phone["service_level"], phone["asa_seconds"], phone["abandonment_rate"]) == (
        None,
        None,
        None,
    )


def test_each_signed_in_agent_shows_state_time_in_state_and_contacts_in_hand(centre, now):
    citizen = factories.CitizenFactory(name="홍길동")
    held = make.in_hand(
        centre["junho"],
        centre["phone"],
        queued=now - timedelta(minutes=5, seconds=20),
        answered=now - timedelta(minutes=5),
        citizen=citizen,
    )

    # Labels are in the language of whoever asks (an earlier request may have left English on).
    with translation.override("ko"):
        snapshot = wallboard_snapshot(now=now)

    names = [row["name"] for row in snapshot["agents"]]
    assert names == ["김민지", "이준호", "최수진"]  # Haneul signed out with her console
    junho = agent_row(snapshot, centre["junho"])
    assert (junho["state"], junho["state_label"]) == ("busy", "상담 중")
    assert datetime.fromisoformat(junho["state_since"]) == centre["junho"].presence_changed_at
    assert junho["contacts"] == [
        {
            "id": held.pk,
            "channel": "voice",
            "channel_label": "전화",
            "state": "active",
            "since": timezone.localtime(held.answered_at).isoformat(),
            "queue_id": centre["phone"].pk,
            "citizen_masked": "홍*동",
        }
    ]
    sujin = agent_row(snapshot, centre["sujin"])
    assert (sujin["state"], sujin["state_reason"], sujin["contacts"]) == ("break", "점심", [])


def test_todays_service_figures_come_per_queue_and_per_agent(centre, now, today_start):
    minji, phone = centre["minji"], centre["phone"]
    start = today_start
    # Answered in 10 s and 30 s (one of two within the 20 s threshold), one abandoned after
    # 40 s; talk 60 s + wrap-up 20 s and talk 100 s + wrap-up 0 s.
    make.in_hand(
        minji,
        phone,
        queued=start,
        answered=start + timedelta(seconds=10),
        ended=start + timedelta(seconds=70),
        wrapped=start + timedelta(seconds=90),
    )
    make.in_hand(
        minji,
        phone,
        queued=start,
        answered=start + timedelta(seconds=30),
        ended=start + timedelta(seconds=130),
        wrapped=start + timedelta(seconds=130),
    )
    factories.ContactFactory(
        queue=phone,
        queued_at=start,
        ended_at=start + timedelta(seconds=40),
        abandoned=True,
    )
    # Yesterday's contact counts for nothing today.
    make.in_hand(
        minji,
        phone,
        queued=start - timedelta(days=1),
        answered=start - timedelta(days=1) + timedelta(seconds=5),
        ended=start - timedelta(days=1) + timedelta(seconds=50),
        wrapped=start - timedelta(days=1) + timedelta(seconds=50),
    )

    snapshot = wallboard_snapshot(now=max(now, start + timedelta(seconds=131)))

    row = queue_row(snapshot, phone)
    assert (row["offered"], row["answered"]) == (3, 2)
    assert row["service_level"] == round(1 / 3, 4)
    assert row["asa_seconds"] == 20
    assert row["abandonment_rate"] == round(1 / 3, 4)
    minji_row = agent_row(snapshot, minji)
    assert (minji_row["handled_today"], minji_row["aht_seconds"]) == (2, 90)


def test_a_queue_below_target_with_enough_contacts_raises_an_alert(centre, now, today_start):
    phone = centre["phone"]
    for wait in (5, 50, 50, 50, 50):  # one of five within 20 s: 20 %
        factories.ContactFactory(
            queue=phone,
            queued_at=today_start,
            answered_at=today_start + timedelta(seconds=wait),
            agent=centre["minji"],
        )

    alerts = wallboard_snapshot(now=max(now, today_start + timedelta(seconds=51)))["alerts"]

    assert [(a["kind"], a["level"], a["queue_id"]) for a in alerts] == [
        ("service_level", "danger", phone.pk)
    ]
    assert "일반 전화" in alerts[0]["text"] and "20" in alerts[0]["text"]


def test_a_queue_with_fewer_than_five_contacts_raises_no_service_level_alert(
    centre, now, today_start
):
    for _n in range(4):
        factories.ContactFactory(
            queue=centre["phone"],
            queued_at=today_start,
            answered_at=today_start + timedelta(seconds=50),
            agent=centre["minji"],
        )

    alerts = wallboard_snapshot(now=max(now, today_start + timedelta(seconds=51)))["alerts"]

    assert [a for a in alerts if a["kind"] == "service_level"] == []


def test_contacts_waiting_past_the_threshold_raise_alerts_longest_first(centre, now, settings):
    settings.WALLBOARD_WAIT_ALERT_SECONDS = 60
    long = make.waiting(centre["phone"], since=now - timedelta(seconds=150))
    over = make.waiting(centre["phone"], since=now - timedelta(seconds=70))
    make.waiting(centre["phone"], since=now - timedelta(seconds=50))

    alerts = [a for a in wallboard_snapshot(now=now)["alerts"] if a["kind"] == "wait"]

    assert [(a["contact_id"], a["level"]) for a in alerts] == [
        (long.pk, "danger"),  # past twice the threshold
        (over.pk, "warning"),
    ]
    assert "2:30" in alerts[0]["text"]


def test_tickets_about_to_miss_their_sla_raise_alerts_and_others_do_not(centre, now):
    due_soon = make.ticket(
        created=now - timedelta(hours=3), resolution_due=now + timedelta(minutes=20)
    )
    warned = make.ticket(created=now - timedelta(hours=8), resolution_due=now + timedelta(hours=2))
    SlaAlert.objects.create(
        ticket=warned, clock="resolution", level="warning", due_at=warned.resolution_due
    )
    answered_in_time = make.ticket(
        created=now - timedelta(minutes=30),
        first_response_due=now + timedelta(minutes=10),
        first_responded_at=now - timedelta(minutes=5),
    )
    already_missed = make.ticket(
        created=now - timedelta(hours=5), resolution_due=now - timedelta(minutes=1)
    )
    later = make.ticket(created=now, resolution_due=now + timedelta(hours=5))
    paused = make.ticket(
        created=now - timedelta(hours=2),
        resolution_due=now + timedelta(minutes=10),
        sla_paused_at=now - timedelta(minutes=30),
    )
    resolved = make.ticket(
        created=now - timedelta(hours=2),
        resolution_due=now + timedelta(minutes=10),
        status=Ticket.Status.RESOLVED,
        resolved_at=now,
    )

    alerts = [a for a in wallboard_snapshot(now=now)["alerts"] if a["kind"] == "ticket_sla"]

    assert [(a["ticket_id"], a["level"]) for a in alerts] == [
        (due_soon.pk, "danger"),
        (warned.pk, "warning"),
    ]
    assert due_soon.number in alerts[0]["text"]
    quiet = {answered_in_time.pk, already_missed.pk, later.pk, paused.pk, resolved.pk}
    assert quiet.isdisjoint(a["ticket_id"] for a in alerts)


def test_a_frames_numbers_and_times_are_plain_json(centre, now):
    import json

    make.waiting(centre["phone"], since=now - timedelta(seconds=30))

    snapshot = wallboard_snapshot(now=now)

    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["type"] == "wallboard.snapshot"
    assert datetime.fromisoformat(snapshot["at"]) == now


# --- the page -------------------------------------------------------------------------------
def test_a_supervisor_sees_the_wallboard_with_its_first_snapshot(client, supervisor_user, centre):
    client.force_login(supervisor_user)

    response = client.get("/supervisor/wallboard/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "일반 전화" in page and "김민지" in page
    assert 'id="wallboard-snapshot"' in page
    assert "wallboard-tv" not in page
    assert 'id="wb-presence-form"' in page


def test_tv_mode_is_the_same_board_without_actions(client, supervisor_user, centre):
    client.force_login(supervisor_user)

    page = client.get("/supervisor/wallboard/?tv=1").content.decode()

    assert "wallboard-tv" in page and 'data-bs-theme="dark"' in page
    assert 'id="wb-pause"' in page and 'id="wb-fullscreen"' in page
    assert 'id="wb-presence-form"' not in page and "js-take-over" not in page


def test_an_administrator_sees_the_wallboard(client, administrator_user, centre):
    client.force_login(administrator_user)

    assert client.get("/supervisor/wallboard/").status_code == 200


def test_an_agent_may_not_see_the_wallboard(client, agent_user):
    client.force_login(agent_user)

    assert client.get("/supervisor/wallboard/").status_code == 403


def test_an_officer_may_not_see_the_wallboard(client, officer_user):
    client.force_login(officer_user)

    assert client.get("/supervisor/wallboard/").status_code == 403


def test_the_wallboard_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/supervisor/wallboard/")

    assert response.status_code == 302
    assert "/login" in response["Location"]
