"""Sign-language video call-backs: the signing agent texts the citizen a link, the citizen
opens it and the call rings straight through to that agent (or waits in the video queue when
the agent is busy); forged, expired and stale links are refused and store nothing."""

import json
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callcenter.models import (
    Agent,
    CallbackEvent,
    CallbackRequest,
    ChatSession,
    Contact,
    ContactEvent,
    Presence,
    Skill,
    VideoCall,
)
from callcenter.services import callbacks, video_callbacks
from channels_app.models import OutboundMessage
from tests.channels_app.conftest import agent_socket, receive_until
from tests.channels_app.test_video_signalling import agent_video, citizen_video
from tests.factories import AgentFactory, ContactFactory, QueueFactory, SkillFactory

LINK = re.compile(r"(https?://\S+/video/\?\S*callback=(\S+))")


@pytest.fixture
def centre(db):
    """The sign-language video queue; Suji signs and is at her console, Eunyoung signs too,
    Minji (the agent persona's kind) does not."""
    sign = SkillFactory(code="sign-language", name="수어", kind=Skill.Kind.SIGN_LANGUAGE)
    queue = QueueFactory(code="sign-video", name="수어 영상", channels=["video"], priority=2)
    queue.required_skills.set([sign])
    suji = AgentFactory(user__username="suji", display_name="박수지", skills=[sign])
    eunyoung = AgentFactory(user__username="eunyoung", display_name="최은영", skills=[sign])
    minji = AgentFactory(user__username="minji", display_name="김민지")
    Agent.objects.filter(pk__in=[suji.pk, eunyoung.pk]).update(presence=Presence.AVAILABLE)
    return {"queue": queue, "suji": suji, "eunyoung": eunyoung, "minji": minji}


def booked(centre, *, agent=None, source=CallbackRequest.Source.VIDEO, phone="010-2345-6789"):
    """A video call-back booked on /video/ for an hour from now, taken by ``agent``."""
    callback = callbacks.callback_request_create(
        phone=phone,
        name="김수어",
        source=source,
        queue=centre["queue"],
        preferred_at=timezone.now() + timedelta(hours=1),
    )
    if agent is not None:
        callback = callbacks.callback_take(callback=callback, agent=agent)
    return callback


def logged_in(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def send_link(client, callback, lang="en"):
    return client.post(f"{reverse('callback-video-link', args=[callback.pk])}?lang={lang}")


def token_of(message: OutboundMessage) -> str:
    return LINK.search(message.body).group(2)


def start(client, link, lang="ko", **data):
    payload = {"name": "김수어", "consent": True, "callback": link, **data}
    return client.post(
        f"{reverse('video-start')}?lang={lang}",
        json.dumps(payload),
        content_type="application/json",
    )


# --- the agent sends the link ----------------------------------------------------------------
@pytest.mark.django_db
def test_the_video_call_back_page_offers_the_link_instead_of_the_phone(centre):
    callback = booked(centre, agent=centre["suji"])
    page = logged_in(centre["suji"]).get(reverse("callback-detail", args=[callback.pk]))
    html = page.content.decode()
    assert reverse("callback-video-link", args=[callback.pk]) in html
    assert "js-callback-dial" not in html  # a deaf citizen is not phoned

    phone = booked(centre, agent=centre["suji"], source="console", phone="010-3456-7890")
    html = logged_in(centre["suji"]).get(reverse("callback-detail", args=[phone.pk])).content
    assert b"js-callback-dial" in html
    assert reverse("callback-video-link", args=[phone.pk]).encode() not in html


@pytest.mark.django_db
def test_the_signing_agent_texts_the_link_to_the_citizens_mobile(centre):
    callback = booked(centre, agent=centre["suji"])
    response = send_link(logged_in(centre["suji"]), callback)
    assert response.status_code == 302
    assert response["Location"] == reverse("callback-detail", args=[callback.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["The link has been sent."]

    sms = OutboundMessage.objects.get()
    assert (sms.channel, sms.to) == ("sms", "+821023456789")
    url, token = LINK.search(sms.body).groups()
    assert url.startswith(f"{settings.PUBLIC_BASE_URL}/video/?callback=")
    assert "lang=en" not in url  # the citizen reads Korean
    claim = video_callbacks.video_callback_link_read(token)
    assert (claim.callback_id, claim.agent_id) == (callback.pk, centre["suji"].pk)
    event = callback.events.get(type=CallbackEvent.Type.VIDEO_LINK_SENT)
    assert event.data["video_link"] is True and event.actor == centre["suji"].user
    callback.refresh_from_db()
    assert callback.status == CallbackRequest.Status.TAKEN  # the outcome comes after the call


@pytest.mark.django_db
def test_a_resend_is_a_new_message_with_a_new_link(centre):
    callback = booked(centre, agent=centre["suji"])
    client = logged_in(centre["suji"])
    assert send_link(client, callback).status_code == 302
    assert send_link(client, callback).status_code == 302
    first, second = OutboundMessage.objects.order_by("id")
    assert first.idempotency_key == f"video-callback-link:{callback.pk}:0"
    assert second.idempotency_key == f"video-callback-link:{callback.pk}:1"
    assert callback.events.filter(data__video_link=True).count() == 2


@pytest.mark.django_db
def test_a_citizen_who_reads_english_gets_the_link_in_english(centre):
    callback = booked(centre, agent=centre["suji"])
    callback.citizen.preferred_language = "en"
    callback.citizen.save(update_fields=["preferred_language"])
    send_link(logged_in(centre["suji"]), callback, lang="ko")
    body = OutboundMessage.objects.get().body
    assert body.startswith("[120 sign-language video]")
    assert "/video/?lang=en&callback=" in body


@pytest.mark.django_db
def test_a_call_back_nobody_has_taken_gets_no_link(centre):
    callback = booked(centre)
    response = send_link(logged_in(centre["suji"]), callback)
    assert response.status_code == 409
    assert "Take the call-back before sending the video link." in response.content.decode()
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_another_agents_call_back_is_forbidden(centre):
    callback = booked(centre, agent=centre["suji"])
    assert send_link(logged_in(centre["eunyoung"]), callback).status_code == 403
    assert not OutboundMessage.objects.exists()
    assert not callback.events.filter(type=CallbackEvent.Type.VIDEO_LINK_SENT).exists()


@pytest.mark.django_db
def test_a_phone_call_back_is_not_called_by_video_link(centre):
    callback = booked(centre, agent=centre["suji"], source=CallbackRequest.Source.CONSOLE)
    response = send_link(logged_in(centre["suji"]), callback)
    assert response.status_code == 409
    assert "Only a sign-language video call-back" in response.content.decode()
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_an_agent_who_does_not_sign_may_not_send_the_link(centre, supervisor_user):
    callback = booked(centre)
    callbacks.callback_reassign(callback=callback, agent=centre["minji"], user=supervisor_user)
    assert send_link(logged_in(centre["minji"]), callback).status_code == 403
    with pytest.raises(callbacks.CallbackForbidden):
        video_callbacks.video_callback_link_send(callback=callback, agent=centre["minji"])
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_link_is_sent_only_by_a_logged_in_agent_with_a_post(centre, client, supervisor_user):
    callback = booked(centre, agent=centre["suji"])
    url = reverse("callback-video-link", args=[callback.pk])
    assert client.post(url).status_code == 302  # anonymous: to the login page
    assert logged_in(centre["suji"]).get(url).status_code == 405
    client.force_login(supervisor_user)
    assert client.post(url).status_code == 403
    assert (
        logged_in(centre["suji"]).post(reverse("callback-video-link", args=[9999])).status_code
        == 404
    )
    assert not OutboundMessage.objects.exists()


# --- the citizen opens it ------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_page_opened_from_the_link_says_it_is_the_booked_call(centre):
    callback = booked(centre, agent=centre["suji"])
    video_callbacks.video_callback_link_send(callback=callback, agent=centre["suji"])
    token = token_of(OutboundMessage.objects.get())
    Agent.objects.update(presence=Presence.OFFLINE)  # nobody else on duty: still the start form
    page = Client().get(reverse("video"), {"callback": token, "lang": "en"}).content.decode()
    assert "This is the sign-language video consultation you booked." in page
    assert 'data-callback-link="1"' in page and 'data-phase="intro"' in page
    assert 'id="video-intro">' in page  # not hidden

    forged = Client().get(reverse("video"), {"callback": token[:-2] + "xx", "lang": "en"})
    html = forged.content.decode()
    assert "This video call link is not valid." in html
    assert 'data-callback-link="1"' not in html


@pytest.mark.django_db
def test_an_expired_or_tampered_link_is_refused_and_stores_nothing(centre):
    callback = booked(centre, agent=centre["suji"])
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 7201):
        old = video_callbacks.video_callback_token(callback=callback, agent=centre["suji"])
    fresh = video_callbacks.video_callback_token(callback=callback, agent=centre["suji"])
    contacts = Contact.objects.count()
    for link, words in ((old, "expired"), (fresh[:-3] + "abc", "not valid")):
        response = start(Client(), link, lang="en")
        assert response.status_code == 400
        assert response.json()["error"] == "bad_link"
        assert words in response.json()["message"]
    assert Contact.objects.count() == contacts
    assert not ChatSession.objects.exists() and not VideoCall.objects.exists()


@pytest.mark.django_db
def test_a_link_to_a_call_back_already_closed_no_longer_starts_a_call(centre):
    callback = booked(centre, agent=centre["suji"])
    link = video_callbacks.video_callback_token(callback=callback, agent=centre["suji"])
    callbacks.callback_attempt_record(
        callback=callback, user=centre["suji"].user, result=CallbackRequest.Result.REACHED
    )
    response = start(Client(), link)
    assert response.status_code == 400 and response.json()["error"] == "bad_link"
    assert not VideoCall.objects.exists()


@pytest.mark.django_db
def test_a_busy_agent_leaves_the_citizen_waiting_in_the_video_queue(centre):
    suji = centre["suji"]
    callback = booked(centre, agent=suji)
    link = video_callbacks.video_callback_token(callback=callback, agent=suji)
    now = timezone.now()
    ContactFactory(channel="voice", agent=suji, queued_at=now, answered_at=now)  # on a call
    response = start(Client(), link)
    assert response.status_code == 201
    contact = Contact.objects.get(pk=response.json()["contact_id"])
    assert contact.state == Contact.State.WAITING and contact.agent is None
    assert (contact.channel, contact.language, contact.queue) == ("video", "ksl", centre["queue"])
    assert contact.citizen == callback.citizen
    queued = contact.events.get(type=ContactEvent.Type.QUEUED)
    assert queued.data == {"queue": "sign-video", "callback": callback.pk}
    assert VideoCall.objects.filter(contact=contact).exists()


@pytest.mark.django_db
def test_an_agent_whose_console_is_closed_leaves_the_citizen_waiting_too(centre):
    suji = centre["suji"]
    callback = booked(centre, agent=suji)
    link = video_callbacks.video_callback_token(callback=callback, agent=suji)
    Agent.objects.filter(pk=suji.pk).update(console_seen_at=None)
    response = start(Client(), link)
    assert response.status_code == 201
    assert Contact.objects.get(pk=response.json()["contact_id"]).state == Contact.State.WAITING


@sync_to_async
def link_for(centre) -> tuple[CallbackRequest, str]:
    callback = booked(centre, agent=centre["suji"])
    video_callbacks.video_callback_link_send(callback=callback, agent=centre["suji"])
    return callback, token_of(OutboundMessage.objects.get())


@sync_to_async
def start_async(link: str):
    return start(Client(), link)


@sync_to_async
def contact_row(contact_id: int):
    contact = Contact.objects.select_related("agent", "citizen").get(pk=contact_id)
    return contact, list(contact.events.values_list("type", "data")), contact.state


@pytest.mark.django_db(transaction=True)
async def test_the_link_rings_straight_through_to_the_agent_who_sent_it(centre):
    suji = centre["suji"]
    callback, link = await link_for(centre)
    console = await agent_socket(suji.user)
    await receive_until(console, "hello")

    response = await start_async(link)
    assert response.status_code == 201
    body = response.json()
    assigned, _ = await receive_until(console, "contact.assigned")
    assert assigned["contact"]["id"] == body["contact_id"]
    assert assigned["contact"]["state"] == "active"

    contact, events, state = await contact_row(body["contact_id"])
    assert state == Contact.State.ACTIVE and contact.agent_id == suji.pk
    assert (contact.channel, contact.direction, contact.language) == ("video", "outbound", "ksl")
    assert contact.citizen_id == callback.citizen_id and contact.queue_id == centre["queue"].pk
    assert (ContactEvent.Type.ACCEPTED, {"callback": callback.pk}) in events
    assert ContactEvent.Type.QUEUED not in [type_ for type_, _data in events]
    room = body["video_ws_url"].split("/")[3]

    citizen, protocol = await citizen_video(room, body["token"])
    assert protocol == "open120.video"
    hello, _ = await receive_until(citizen, "hello")
    assert (hello["role"], hello["contact_id"]) == ("citizen", body["contact_id"])
    agent = await agent_video(room, suji.user)
    hello, _ = await receive_until(agent, "hello")
    assert hello["role"] == "agent"
    joined, _ = await receive_until(citizen, "peer.joined")
    assert joined["role"] == "agent"
    for socket in (citizen, agent, console):
        await socket.disconnect()
