"""The console's HTTP side: panels, ticket form, uploads, personal data, transfer targets."""

import base64
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from callcenter.models import Message, PersonalDataAccess
from tests.factories import AgentFactory, CitizenFactory, ContactFactory, QueueFactory
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db

# A real 1×1 PNG: the upload check reads the bytes, not the name.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def held_contact(agent_user):
    """Minji's active chat with 홍길동."""
    return ContactFactory(
        channel="webchat",
        queue=QueueFactory(code="chat", channels=["webchat"]),
        citizen=CitizenFactory(name="홍길동", phone="+821012345678"),
        agent=agent_user.agent,
        queued_at=timezone.now() - timedelta(seconds=30),
        answered_at=timezone.now(),
    )


def test_the_agent_holding_a_contact_sees_its_panel_with_a_masked_phone(
    client, agent_user, held_contact
):
    client.force_login(agent_user)
    page = client.get(reverse("contact-panel", args=[held_contact.pk])).content.decode()
    assert "홍길동" in page and "010-****-5678" in page
    assert "1234-5678" not in page


def test_another_agent_gets_403_on_someone_elses_contact(client, other_agent_user, held_contact):
    client.force_login(other_agent_user)
    for name in ("contact-panel", "contact-ticket", "contact-attachment"):
        method = client.get if name == "contact-panel" else client.post
        assert method(reverse(name, args=[held_contact.pk])).status_code == 403


def test_anonymous_and_officers_are_kept_out_of_the_console_endpoints(
    client, officer_user, held_contact
):
    url = reverse("contact-panel", args=[held_contact.pk])
    assert client.get(url).status_code == 302
    client.force_login(officer_user)
    assert client.get(url).status_code == 403


def test_revealing_the_phone_is_logged(client, agent_user, held_contact):
    client.force_login(agent_user)
    response = client.post(reverse("citizen-reveal-phone", args=[held_contact.citizen_id]))
    assert response.json() == {"phone": "010-1234-5678"}
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.citizen, access.field) == (
        agent_user,
        held_contact.citizen,
        "phone",
    )


def test_an_agent_not_serving_the_citizen_cannot_reveal_the_phone(
    client, other_agent_user, held_contact
):
    client.force_login(other_agent_user)
    response = client.post(reverse("citizen-reveal-phone", args=[held_contact.citizen_id]))
    assert response.status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_ticket_form_errors_come_back_with_422_and_nothing_is_saved(
    client, agent_user, held_contact
):
    client.force_login(agent_user)
    category = category_get_or_create_path(path="교통/주정차")
    response = client.post(
        reverse("contact-ticket", args=[held_contact.pk]),
        {"category": category.pk, "subject": "불법주차 신고", "outcome": "transfer"},
    )
    assert response.status_code == 422
    assert {"department", "transfer_note"} <= set(response.context["form"].errors)
    assert not held_contact.tickets.exists()


def test_transferring_from_the_console_tells_the_department_live(
    client, agent_user, officer_user, held_contact, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from channels_app.events import department_group

    department = officer_user.officer.department
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(department_group(department.pk), channel)
    client.force_login(agent_user)
    category = category_get_or_create_path(path="교통/도로시설")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contact-ticket", args=[held_contact.pk]),
            {
                "category": category.pk,
                "subject": "포트홀 신고",
                "outcome": "transfer",
                "department": department.pk,
                "transfer_note": "OO로 12 앞 포트홀, 현장 확인 부탁드립니다.",
            },
        )
    assert response.status_code == 200
    ticket = held_contact.tickets.get()
    assert (ticket.status, ticket.department) == ("transferred", department)
    notice = async_to_sync(layer.receive)(channel)
    assert (notice["type"], notice["kind"]) == ("ticket.notice", "transferred")
    assert notice["ticket"]["number"] == ticket.number


def test_saving_the_ticket_links_it_to_the_contact_and_records_a_call_back(
    client, agent_user, held_contact
):
    client.force_login(agent_user)
    category = category_get_or_create_path(path="교통/주정차")
    response = client.post(
        reverse("contact-ticket", args=[held_contact.pk]),
        {
            "category": category.pk,
            "subject": "불법주차 신고",
            "answer": "안전신문고 앱으로 신고하시면 됩니다.",
            "outcome": "resolve",
            "callback": "on",
            "callback_phone": "010-3333-4444",
        },
    )
    assert response.status_code == 200
    ticket = held_contact.tickets.get()
    assert (ticket.subject, ticket.status, ticket.assignee) == (
        "불법주차 신고",
        "resolved",
        agent_user,
    )
    assert held_contact.callbacks.get().phone.as_e164 == "+821033334444"
    again = client.post(
        reverse("contact-ticket", args=[held_contact.pk]),
        {
            "category": category.pk,
            "subject": "불법주차 신고(수정)",
            "answer": "안내함",
            "outcome": "resolve",
        },
    )
    assert again.status_code == 200
    assert held_contact.tickets.count() == 1
    assert held_contact.tickets.get().subject == "불법주차 신고(수정)"


def test_an_image_upload_becomes_a_message_with_a_signed_link(client, agent_user, held_contact):
    client.force_login(agent_user)
    upload = SimpleUploadedFile("지도.png", PNG, content_type="image/png")
    response = client.post(reverse("contact-attachment", args=[held_contact.pk]), {"file": upload})
    assert response.status_code == 201
    attachment = response.json()["message"]["attachments"][0]
    assert attachment["content_type"] == "image/png" and "path" not in attachment
    downloaded = client.get(attachment["url"])
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == PNG
    tampered = attachment["url"][:-3] + "xyz"
    assert client.get(tampered).status_code == 403


def test_a_file_pretending_to_be_an_image_is_refused(client, agent_user, held_contact):
    client.force_login(agent_user)
    fake = SimpleUploadedFile(
        "photo.png", b"MZ\x90\x00 not an image at all", content_type="image/png"
    )
    response = client.post(reverse("contact-attachment", args=[held_contact.pk]), {"file": fake})
    assert response.status_code == 400
    assert "PDF" in response.json()["message"]  # named in Korean and English alike
    assert not Message.objects.exists()


def test_a_file_over_the_limit_is_refused(client, agent_user, held_contact, settings):
    settings.CHAT_MAX_UPLOAD_BYTES = 1024
    client.force_login(agent_user)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 2048, content_type="application/pdf")
    response = client.post(reverse("contact-attachment", args=[held_contact.pk]), {"file": big})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_transfer_targets_list_available_colleagues_and_queues(client, agent_user):
    from callcenter.services.presence import agent_set_presence

    colleague = AgentFactory(display_name="이준호")
    agent_set_presence(agent=colleague, presence="available", dispatch=False)
    QueueFactory(code="foreign", name="외국어", channels=["webchat"])
    client.force_login(agent_user)
    body = client.get(reverse("transfer-targets")).json()
    assert [a["name"] for a in body["agents"]] == ["이준호"]
    assert "외국어" in [q["name"] for q in body["queues"]]


def test_supervisor_follows_a_live_contact_and_agents_cannot(
    client, supervisor_user, agent_user, held_contact
):
    url = reverse("supervisor-contact", args=[held_contact.pk])
    client.force_login(agent_user)
    assert client.get(url).status_code == 403
    client.force_login(supervisor_user)
    assert client.get(url).status_code == 200
    dashboard = client.get(reverse("supervisor-dashboard")).content.decode()
    assert url in dashboard


@pytest.fixture
def wrapup_contact(held_contact):
    """The chat with 홍길동 has ended; Minji is in wrap-up."""
    held_contact.ended_at = timezone.now()
    held_contact.save(update_fields=["ended_at"])
    return held_contact


def _ticket_post(outcome: str, category, **extra) -> dict:
    return {
        "category": category.pk,
        "subject": "여권 재발급 문의",
        "answer": "구비서류를 안내했습니다.",
        "outcome": outcome,
        **extra,
    }


def test_a_ticket_kept_in_progress_comes_back_in_progress_and_wrap_up_does_not_resolve_it(
    client, agent_user, wrapup_contact
):
    from tickets.models import Survey

    client.force_login(agent_user)
    category = category_get_or_create_path(path="민원/여권")
    url = reverse("contact-ticket", args=[wrapup_contact.pk])
    saved = client.post(url, _ticket_post("open", category))
    assert saved.status_code == 200
    assert saved.context["form"]["outcome"].value() == "open"
    assert 'value="open" selected' in saved.content.decode()
    # The agent finishes wrap-up from the form as it came back.
    finished = client.post(
        url, _ticket_post(saved.context["form"]["outcome"].value(), category, wrapup="1")
    )
    assert finished.status_code == 200
    wrapup_contact.refresh_from_db()
    assert wrapup_contact.state == "done"
    ticket = wrapup_contact.tickets.get()
    assert ticket.status == "open" and ticket.resolved_at is None
    assert not Survey.objects.exists()


def test_a_ticket_the_agent_resolves_is_resolved_shown_so_and_gets_a_happy_call(
    client, agent_user, wrapup_contact
):
    from tickets.models import Survey

    client.force_login(agent_user)
    category = category_get_or_create_path(path="민원/여권")
    response = client.post(
        reverse("contact-ticket", args=[wrapup_contact.pk]),
        _ticket_post("resolve", category, wrapup="1"),
    )
    assert response.status_code == 200
    assert response.context["form"]["outcome"].value() == "resolve"
    ticket = wrapup_contact.tickets.get()
    assert ticket.status == "resolved"
    assert Survey.objects.get().ticket == ticket


def test_a_new_ticket_form_does_not_offer_to_resolve_by_default(client, agent_user, held_contact):
    client.force_login(agent_user)
    response = client.get(reverse("contact-panel", args=[held_contact.pk]))
    assert response.context["form"]["outcome"].value() == "open"


def test_the_chat_citizen_is_told_the_ticket_number_once_when_the_agent_saves_the_ticket(
    client, agent_user, held_contact, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from channels_app.events import citizen_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(citizen_group(held_contact.pk), channel)
    client.force_login(agent_user)
    category = category_get_or_create_path(path="민원서류/여권")
    for subject in ("여권 재발급 문의", "여권 재발급 문의(수정)"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("contact-ticket", args=[held_contact.pk]),
                _ticket_post("open", category, subject=subject),
            )
        assert response.status_code == 200
    ticket = held_contact.tickets.get()
    told = held_contact.messages.filter(sender=Message.Sender.SYSTEM)
    assert told.count() == 1
    assert ticket.number in told.get().text and "/track/" in told.get().text
    assert not told.get().internal

    async def two_frames() -> list[dict]:
        # One event loop for both: channels-redis re-delivers across loops.
        return [await layer.receive(channel) for _ in range(2)]

    frame, shown = async_to_sync(two_frames)()
    assert frame["type"] == "message.created"
    assert ticket.number in frame["message"]["text"]
    assert frame["message"]["sender"] == "system"
    assert (shown["type"], shown["number"]) == ("chat.ticket", ticket.number)


def test_a_phone_contact_gets_no_ticket_number_chat_line(client, agent_user, held_contact):
    held_contact.channel = "voice"
    held_contact.save(update_fields=["channel"])
    client.force_login(agent_user)
    category = category_get_or_create_path(path="민원서류/여권")
    response = client.post(
        reverse("contact-ticket", args=[held_contact.pk]), _ticket_post("open", category)
    )
    assert response.status_code == 200
    assert not held_contact.messages.filter(sender=Message.Sender.SYSTEM).exists()


def test_the_ticket_form_and_its_save_buttons_come_before_the_citizens_history(
    client, agent_user, held_contact
):
    client.force_login(agent_user)
    page = client.get(reverse("contact-panel", args=[held_contact.pk])).text
    citizen = page.index(f'id="citizen-heading-{held_contact.pk}"')
    form = page.index(f'id="ticket-form-{held_contact.pk}"')
    history = page.index(f'id="history-heading-{held_contact.pk}"')
    assert citizen < form < history
    assert 'class="d-flex gap-2 ticket-actions"' in page
    assert page.index('name="save"') < history


def test_the_supervisors_live_view_labels_senders_as_the_console_does(
    client, supervisor_user, held_contact
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    client.force_login(supervisor_user)
    page = client.get(reverse("supervisor-contact", args=[held_contact.pk])).text
    assert 'data-sender-system="시스템"' in page and 'data-sender-bot="챗봇"' in page
    assert 'data-sender-citizen="시민"' in page and 'data-sender-agent="상담사"' in page
