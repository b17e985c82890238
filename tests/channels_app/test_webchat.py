"""The citizen chat's HTTP side: the page, starting, uploads and the embed headers."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from callcenter.models import Contact, Skill
from tests.factories import QueueFactory, SkillFactory

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def chat_queue(db):
    queue = QueueFactory(code="chat", name="채팅", channels=["webchat"])
    queue.required_skills.set([SkillFactory(code="lang-ko", kind=Skill.Kind.LANGUAGE)])
    return queue


def start(client, **data):
    payload = {
        "name": "홍길동",
        "phone": "010-1234-5678",
        "language": "ko",
        "consent": "on",
        **data,
    }
    return client.post(reverse("chat-start"), payload)


def test_the_chat_page_can_be_embedded_only_where_configured(client, settings):
    settings.CHAT_EMBED_ORIGINS = ["https://www.seoul.go.kr"]
    response = client.get(reverse("chat"), {"embed": "1"})
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "frame-ancestors https://www.seoul.go.kr"
    assert "X-Frame-Options" not in response


def test_other_pages_still_refuse_frames(client):
    assert client.get(reverse("login"))["X-Frame-Options"] == "DENY"


def test_the_chat_page_speaks_english_on_request(client):
    page = client.get(reverse("chat"), {"lang": "en"}).content.decode()
    assert '<html lang="en"' in page


def test_starting_a_chat_queues_a_contact_and_returns_a_token(client, chat_queue):
    response = start(client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "contact_id", "ws_url", "ws_protocols"}
    assert len(body["token"]) >= 40 and body["ws_protocols"] == ["open120.chat", body["token"]]
    assert body["token"] not in body["ws_url"]  # the token never goes into a URL
    contact = Contact.objects.get(pk=body["contact_id"])
    assert (contact.channel, contact.queue, contact.state) == ("webchat", chat_queue, "waiting")
    assert contact.citizen.consent_privacy
    assert str(contact.citizen.phone) == "+821012345678"


def test_json_bodies_work_too(client, chat_queue):
    response = client.post(
        reverse("chat-start"),
        json.dumps({"name": "Jane", "language": "en", "consent": True}),
        content_type="application/json",
    )
    assert response.status_code == 201


def test_a_bad_phone_is_a_field_error(client, chat_queue):
    response = start(client, phone="12")
    assert response.status_code == 400
    assert "phone" in response.json()["fields"]
    assert not Contact.objects.exists()


def test_too_many_starts_from_one_address_are_refused(client, chat_queue, settings):
    settings.CHAT_START_LIMIT_PER_HOUR = 2
    assert start(client).status_code == 201
    assert start(client).status_code == 201
    response = start(client)
    assert response.status_code == 429
    assert Contact.objects.count() == 2


def test_a_citizen_sends_an_image_with_the_token(client, chat_queue):
    token = start(client).json()["token"]
    upload = SimpleUploadedFile("민원사진.png", PNG, content_type="image/png")
    response = client.post(reverse("chat-attachment", args=[token]), {"file": upload})
    assert response.status_code == 201
    message = response.json()["message"]
    assert message["sender"] == "citizen" and message["attachments"][0]["name"] == "민원사진.png"


def test_an_unknown_token_cannot_upload(client, chat_queue):
    upload = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    response = client.post(reverse("chat-attachment", args=["guess"]), {"file": upload})
    assert response.status_code == 404


def test_the_embed_script_is_served_locally(client):
    response = client.get("/static/chat/widget.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "/chat/?embed=1" in body or "chat/?embed=1" in body
