"""/track/: a citizen with the ticket number and their phone sees status and public answers."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from callcenter.models import Channel
from tests import factories
from tickets.models import TicketAttachment
from tickets.services import (
    ticket_comment,
    ticket_create,
    ticket_department_answer,
    ticket_merge,
    ticket_resolve,
    ticket_transfer,
    ticket_update,
)

NOT_FOUND = "We could not find an inquiry with this number and phone number."
RATE_LIMITED = "Too many lookups from your connection."


@pytest.fixture
def english(client):
    """UI strings in English (the msgids), so assertions hold before and after translation."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ticket(citizen, agent_user):
    category = factories.CategoryFactory(name="가로등")
    ticket = ticket_create(
        subject="골목 가로등 고장",
        channel=Channel.VOICE,
        citizen=citizen,
        category=category,
        created_by=agent_user,
    )
    ticket_update(ticket=ticket, actor=agent_user, assignee=agent_user)
    ticket_comment(ticket=ticket, actor=agent_user, text="민원인이 매우 화가 나 있음 (내부 메모)")
    return ticket


def look_up(client, number, phone="010-1234-5678", **extra):
    return client.post(reverse("track"), {"number": number, "phone": phone}, **extra)


def without_inputs(html: str) -> str:
    """The page minus what the visitor typed and the per-response CSRF token."""
    return re.sub(r'value="[^"]*"', "", html)


def test_the_tracking_page_shows_the_form_to_anyone(client):
    response = client.get(reverse("track"))
    assert response.status_code == 200
    assert 'name="number"' in response.text and 'name="phone"' in response.text
    assert 'method="post"' in response.text


@pytest.mark.django_db
def test_the_tracking_form_keeps_its_origin_so_the_browser_can_post_it(client):
    # Under "no-referrer" Chromium posts the form with "Origin: null" and CSRF refuses it;
    # "same-origin" keeps the page's data out of other sites' Referer headers all the same.
    response = client.get(reverse("track"))
    assert response["Referrer-Policy"] == "same-origin"
    csrf = Client(enforce_csrf_checks=True)
    page = csrf.get(reverse("track"))
    token = page.cookies["csrftoken"].value
    posted = csrf.post(
        reverse("track"),
        {"number": "120-2026-999999", "phone": "010-1234-5678", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://testserver",
        HTTP_REFERER="http://testserver/track/",
    )
    assert posted.status_code == 404  # looked up (and not found), not refused by CSRF


def test_staff_signed_in_see_the_same_citizen_page(client, agent_user, ticket):
    client.force_login(agent_user)
    response = look_up(client, ticket.number)
    assert response.status_code == 200 and ticket.subject in response.text


def test_the_right_number_and_phone_show_status_and_the_public_answer(english, ticket):
    ticket_resolve(ticket=ticket, actor=None, answer="도로관리과에서 오늘 교체했습니다.")
    response = look_up(english, ticket.number)
    assert response.status_code == 200
    page = response.text
    assert ticket.number in page and "골목 가로등 고장" in page and "가로등" in page
    assert 'data-status="resolved"' in page and "Resolved" in page
    assert "도로관리과에서 오늘 교체했습니다." in page
    assert "no-store" in response["Cache-Control"]


def test_a_department_answer_resolved_with_as_it_is_shows_once(
    english, ticket, agent_user, officer_user
):
    ticket_transfer(ticket=ticket, department=officer_user.officer.department, actor=agent_user)
    ticket_department_answer(
        ticket=ticket, officer_user=officer_user, answer="내일 오전에 가로등을 교체합니다."
    )
    staff = Client()
    staff.force_login(agent_user)
    resolved = staff.post(
        reverse("ticket-resolve", args=[ticket.pk]),
        {"answer": "내일 오전에 가로등을 교체합니다.\n"},
    )
    assert resolved.status_code == 302
    page = look_up(english, ticket.number).text
    assert 'data-status="resolved"' in page
    assert page.count("내일 오전에 가로등을 교체합니다.") == 1


def test_the_page_never_shows_internal_notes_staff_or_the_phone(client, ticket, officer_user):
    ticket_transfer(ticket=ticket, department=officer_user.officer.department, actor=None)
    page = look_up(client, ticket.number).text
    assert "내부 메모" not in page
    assert "김민지" not in page and "minji" not in page
    assert "roads" not in page
    assert "홍길동" not in page
    assert "1234-5678" not in page.replace('value="010-1234-5678"', "")
    assert "+821012345678" not in page
    assert 'data-status="transferred"' in page


def test_an_open_ticket_says_no_answer_yet(english, ticket):
    response = look_up(english, ticket.number)
    assert 'data-status="new"' in response.text
    assert "No answer yet." in response.text


@pytest.mark.parametrize(
    "phone", ["010-1234-5678", "01012345678", "+82 10-1234-5678", "+821012345678", "010 1234 5678"]
)
def test_any_common_phone_format_finds_the_ticket(client, ticket, phone):
    response = look_up(client, ticket.number, phone=phone)
    assert response.status_code == 200 and ticket.subject in response.text


def test_a_wrong_phone_and_a_wrong_number_get_the_same_answer(english, ticket):
    wrong_phone = look_up(english, ticket.number, phone="010-9999-9999")
    wrong_number = look_up(english, "120-2026-999999")
    assert wrong_phone.status_code == wrong_number.status_code == 404
    assert NOT_FOUND in wrong_phone.text
    assert without_inputs(wrong_phone.text) == without_inputs(wrong_number.text)
    assert ticket.subject not in wrong_phone.text


def test_a_ticket_without_a_citizen_cannot_be_tracked(english, db):
    orphan = ticket_create(subject="익명 신고", channel=Channel.OPEN311)
    response = look_up(english, orphan.number)
    assert response.status_code == 404 and NOT_FOUND in response.text


def test_a_malformed_number_or_phone_is_a_form_error(client, ticket):
    assert look_up(client, "2026-1").status_code == 400
    response = look_up(client, ticket.number, phone="12")
    assert response.status_code == 400
    assert ticket.subject not in response.text


def test_the_phone_never_goes_in_the_address(client, ticket):
    response = client.get(reverse("track"), {"number": ticket.number, "phone": "010-1234-5678"})
    assert response.status_code == 200
    assert ticket.subject not in response.text


def test_too_many_failed_lookups_from_one_address_are_refused(english, ticket, settings):
    settings.TRACK_LIMIT_PER_HOUR = 3
    for _ in range(3):
        assert look_up(english, "120-2026-999999").status_code == 404
    response = look_up(english, ticket.number)
    assert response.status_code == 429
    assert RATE_LIMITED in response.text
    assert ticket.subject not in response.text
    other = look_up(english, ticket.number, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200


def test_successful_lookups_do_not_use_up_the_limit(client, ticket, settings):
    settings.TRACK_LIMIT_PER_HOUR = 2
    for _ in range(5):
        assert look_up(client, ticket.number).status_code == 200


def test_a_merged_ticket_shows_the_status_of_the_ticket_it_was_merged_into(
    english, ticket, citizen
):
    target = ticket_create(subject="같은 가로등", channel=Channel.VOICE, citizen=citizen)
    ticket_merge(source=ticket, target=target, actor=None)
    ticket_resolve(ticket=target, actor=None, answer="교체 완료했습니다.")
    response = look_up(english, ticket.number)
    assert response.status_code == 200
    assert 'data-status="resolved"' in response.text
    assert "교체 완료했습니다." in response.text
    assert "combined with another inquiry" in response.text


def test_only_public_attachments_are_listed(client, ticket):
    TicketAttachment.objects.create(
        ticket=ticket,
        file="tickets/answer.pdf",
        name="처리결과.pdf",
        content_type="application/pdf",
        size=10,
        public=True,
    )
    TicketAttachment.objects.create(
        ticket=ticket,
        file="tickets/internal.pdf",
        name="내부검토.pdf",
        content_type="application/pdf",
        size=10,
    )
    page = look_up(client, ticket.number).text
    assert "처리결과.pdf" in page
    assert "내부검토.pdf" not in page


def test_a_refused_lookup_says_when_to_come_back(english, ticket, settings):
    settings.TRACK_LIMIT_PER_HOUR = 1
    look_up(english, "120-2026-999999")
    response = look_up(english, "120-2026-999998")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


def test_a_forged_forwarded_for_does_not_reset_the_limit(english, ticket, settings):
    settings.TRACK_LIMIT_PER_HOUR = 3
    statuses = [
        look_up(english, f"120-2026-99999{i}", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}").status_code
        for i in range(8)
    ]
    assert statuses == [404] * 3 + [429] * 5


def test_behind_a_trusted_proxy_each_citizen_has_their_own_limit(english, ticket, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.TRACK_LIMIT_PER_HOUR = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    look_up(english, "120-2026-999999", HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    refused = look_up(english, ticket.number, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    other = look_up(english, ticket.number, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    assert refused.status_code == 429
    assert other.status_code == 200


def test_lookups_still_work_when_the_cache_is_down(english, ticket, cache_down):
    assert look_up(english, "120-2026-999999").status_code == 404
    response = look_up(english, ticket.number)
    assert response.status_code == 200
    assert ticket.subject in response.text
