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
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors https://www.seoul.go.kr" in policy
    assert "script-src 'self'" in policy
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


def upload_png(client, token, size=0, **extra):
    data = PNG + b"\0" * max(0, size - len(PNG))
    upload = SimpleUploadedFile("사진.png", data, content_type="image/png")
    return client.post(reverse("chat-attachment", args=[token]), {"file": upload}, **extra)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test stores its uploads apart, so it can count them."""
    settings.MEDIA_ROOT = tmp_path


def stored_files() -> list:
    from django.conf import settings

    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_refused_start_says_when_to_come_back(client, chat_queue, settings):
    settings.CHAT_START_LIMIT_PER_HOUR = 1
    start(client)
    response = start(client)
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) == response.json()["retry_after"] <= 3600


def test_a_forged_forwarded_for_does_not_reset_the_start_limit(client, chat_queue, settings):
    settings.CHAT_START_LIMIT_PER_HOUR = 2
    statuses = [start(client, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}").status_code for i in range(5)]
    assert statuses == [201, 201, 429, 429, 429]
    assert Contact.objects.count() == 2


def test_chats_still_start_when_the_cache_is_down(client, chat_queue, cache_down):
    assert start(client).status_code == 201


def test_a_deeply_nested_json_body_is_a_bad_request(client, chat_queue):
    body = "[" * 5000 + "]" * 5000
    response = client.post(reverse("chat-start"), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    assert not Contact.objects.exists()


def test_a_nul_byte_in_the_name_is_a_field_error(client, chat_queue):
    response = start(client, name="홍\x00길동")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert not Contact.objects.exists()


def test_one_chat_holds_a_limited_number_of_files(client, chat_queue, settings):
    settings.CHAT_UPLOAD_MAX_FILES = 2
    token = start(client).json()["token"]
    assert upload_png(client, token).status_code == 201
    assert upload_png(client, token).status_code == 201
    response = upload_png(client, token)
    assert response.status_code == 413
    assert response.json()["error"] == "quota_exceeded"
    assert len(stored_files()) == 2


def test_one_chat_holds_a_limited_number_of_bytes(client, chat_queue, settings):
    settings.CHAT_UPLOAD_MAX_TOTAL_BYTES = 3 * 1024 * 1024
    token = start(client).json()["token"]
    assert upload_png(client, token, size=2 * 1024 * 1024).status_code == 201
    response = upload_png(client, token, size=2 * 1024 * 1024)
    assert response.status_code == 413
    assert "3MB" in response.json()["message"].replace(" ", "")
    assert len(stored_files()) == 1


def test_one_address_uploads_a_limited_number_of_files_an_hour(client, chat_queue, settings):
    settings.CHAT_UPLOADS_PER_HOUR = 2
    tokens = [start(client).json()["token"] for _ in range(2)]
    assert upload_png(client, tokens[0]).status_code == 201
    assert upload_png(client, tokens[1], HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 201
    response = upload_png(client, tokens[1], HTTP_X_FORWARDED_FOR="10.2.2.2")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert len(stored_files()) == 2


def test_an_upload_whose_text_is_refused_leaves_no_file(client, chat_queue):
    token = start(client).json()["token"]
    upload = SimpleUploadedFile("사진.png", PNG, content_type="image/png")
    response = client.post(
        reverse("chat-attachment", args=[token]), {"file": upload, "text": "a\x00b"}
    )
    assert response.status_code == 400
    assert stored_files() == []


def test_downloads_of_attachments_are_never_stored_by_the_browser(client, chat_queue):
    token = start(client).json()["token"]
    url = upload_png(client, token).json()["message"]["attachments"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
