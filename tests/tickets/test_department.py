"""Department transfers (이관): the services, the officer's pages and the centre's panel."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from callcenter.models import CallbackRequest, Message, PersonalDataAccess
from channels_app.models import OutboundMessage
from tests import factories
from tickets.models import Department, Ticket, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    info_request_pending,
    ticket_answer_deliver,
    ticket_create,
    ticket_department_answer,
    ticket_department_return,
    ticket_department_transfer,
    ticket_info_provide,
    ticket_info_request,
    ticket_resolve,
)

pytestmark = pytest.mark.django_db

RAW_PHONE_FORMS = ("+821012345678", "01012345678", "010-1234-5678", "1012345678")


@pytest.fixture
def client(client, settings):
    """Pages in English, so the tests read the msgids (Korean is the default)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def roads(officer_user) -> Department:
    return officer_user.officer.department


@pytest.fixture
def taxes(other_officer_user) -> Department:
    return other_officer_user.officer.department


def open_ticket(*, citizen=None, channel="sms", assignee=None, subject="도로 파손 신고") -> Ticket:
    ticket = ticket_create(
        subject=subject,
        channel=channel,
        citizen=citizen,
        category=category_get_or_create_path(path="도로/도로 파손"),
        description="집 앞 도로가 움푹 패였어요.",
    )
    ticket.status = Ticket.Status.OPEN
    ticket.assignee = assignee
    ticket.save(update_fields=["status", "assignee"])
    return ticket


@pytest.fixture
def ticket(citizen, agent_user, roads) -> Ticket:
    """An SMS ticket Minji transferred to the road department."""
    ticket = open_ticket(citizen=citizen, assignee=agent_user)
    return ticket_department_transfer(
        ticket=ticket, department=roads, actor=agent_user, note="현장 확인 부탁드립니다."
    )


def events_of(ticket: Ticket, kind: str) -> list[TicketEvent]:
    return list(ticket.events.filter(type=kind).order_by("id"))


def assert_no_raw_phone(event: TicketEvent) -> None:
    text = json.dumps(event.data, ensure_ascii=False)
    assert not any(form in text for form in RAW_PHONE_FORMS), text


# --- transfer ------------------------------------------------------------------------------
def test_a_transfer_hands_the_ticket_to_the_department_with_the_note(ticket, roads, agent_user):
    ticket.refresh_from_db()
    assert (ticket.status, ticket.department) == (Ticket.Status.TRANSFERRED, roads)
    (event,) = events_of(ticket, TicketEvent.Type.TRANSFERRED)
    assert event.actor == agent_user
    assert event.data["note"] == "현장 확인 부탁드립니다."
    assert event.data["department"] == roads.code


def test_a_transfer_without_a_note_is_refused_and_changes_nothing(citizen, agent_user, roads):
    ticket = open_ticket(citizen=citizen)
    with pytest.raises(ValueError):
        ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="  ")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.department is None
    assert not events_of(ticket, TicketEvent.Type.TRANSFERRED)


def test_a_resolved_ticket_cannot_be_transferred(citizen, agent_user, roads):
    ticket = open_ticket(citizen=citizen)
    ticket_resolve(ticket=ticket, actor=agent_user, answer="안내 완료")
    with pytest.raises(ValueError):
        ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="확인")


def test_a_ticket_is_not_transferred_twice_to_the_same_department(ticket, roads, agent_user):
    with pytest.raises(ValueError):
        ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="다시")


def test_an_inactive_department_takes_no_tickets(citizen, agent_user):
    closed = factories.DepartmentFactory(name="폐지된 과")
    closed.is_active = False
    closed.save()
    ticket = open_ticket(citizen=citizen)
    with pytest.raises(ValueError):
        ticket_department_transfer(ticket=ticket, department=closed, actor=agent_user, note="확인")


# --- answer and delivery -------------------------------------------------------------------
def test_the_departments_answer_is_recorded_and_texted_to_the_citizen(
    ticket, officer_user, roads, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_department_answer(
            ticket=ticket, officer_user=officer_user, answer="내일 보수합니다."
        )

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    assert ticket.answer == "내일 보수합니다." and ticket.answered_at is not None
    (answered,) = events_of(ticket, TicketEvent.Type.ANSWERED)
    assert answered.public and answered.actor == officer_user
    assert answered.data == {
        "by": "department",
        "department": roads.code,
        "answer": "내일 보수합니다.",
    }
    (sms,) = OutboundMessage.objects.all()
    assert (sms.channel, sms.to, sms.status) == ("sms", "+821012345678", "sent")
    assert sms.ticket == ticket
    assert "내일 보수합니다." in sms.body and ticket.number in sms.body
    (sent,) = events_of(ticket, TicketEvent.Type.ANSWER_SENT)
    assert (sent.data["via"], sent.data["outbound_id"]) == ("sms", sms.pk)
    assert_no_raw_phone(sent)


def test_an_officer_of_another_department_cannot_answer(ticket, other_officer_user):
    with pytest.raises(PermissionDenied):
        ticket_department_answer(ticket=ticket, officer_user=other_officer_user, answer="답변")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.TRANSFERRED and ticket.answer == ""
    assert not OutboundMessage.objects.exists()


def test_an_agent_cannot_answer_for_a_department(ticket, agent_user):
    with pytest.raises(PermissionDenied):
        ticket_department_answer(ticket=ticket, officer_user=agent_user, answer="답변")


def test_an_empty_answer_is_refused(ticket, officer_user):
    with pytest.raises(ValueError):
        ticket_department_answer(ticket=ticket, officer_user=officer_user, answer=" \n ")
    assert not events_of(ticket, TicketEvent.Type.ANSWERED)


def test_a_resolved_ticket_takes_no_department_answer(ticket, officer_user, agent_user):
    ticket_resolve(ticket=ticket, actor=agent_user, answer="센터에서 안내함")
    with pytest.raises(ValueError):
        ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="답변")
    assert not OutboundMessage.objects.exists()


@pytest.fixture
def kakao_bizmessages(settings):
    """KakaoTalk business messages (알림톡) switched on."""
    settings.KAKAO_BIZMSG_ENABLED = True
    settings.KAKAO_BIZMSG_TEMPLATE_ANSWER = "OPEN120_ANSWER"
    return settings


def test_a_kakao_ticket_is_answered_by_an_alimtalk_from_the_template(
    officer_user, roads, agent_user, kakao_bizmessages
):
    citizen = factories.CitizenFactory(phone="+821012345678", kakao_user_key="kakao-abc")
    ticket = open_ticket(citizen=citizen, channel="kakao", subject="가로등 고장")
    ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="확인")
    ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="보수 완료")
    (message,) = OutboundMessage.objects.all()
    assert (message.channel, message.to) == ("kakao", "+821012345678")
    assert message.template == "OPEN120_ANSWER"
    assert message.body == (
        f"[120 상담센터] 민원 {ticket.number}(가로등 고장)에 대한 답변입니다.\n보수 완료"
    )
    (sent,) = events_of(ticket, TicketEvent.Type.ANSWER_SENT)
    assert sent.data["via"] == "kakao" and sent.data["outbound_id"] == message.pk
    assert_no_raw_phone(sent)


def test_a_kakao_ticket_is_answered_by_sms_while_kakao_business_messages_are_off(
    officer_user, settings
):
    settings.KAKAO_BIZMSG_ENABLED = False
    citizen = factories.CitizenFactory(phone="+821012345678", kakao_user_key="kakao-abc")
    ticket = open_ticket(citizen=citizen, channel="kakao")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.template) == ("sms", "+821012345678", "")
    assert "보수 완료" in message.body
    assert sent.data["via"] == "sms"


def test_a_kakao_citizen_with_no_phone_cannot_get_an_alimtalk_and_gets_an_email(
    officer_user, kakao_bizmessages
):
    citizen = factories.CitizenFactory(phone="", email="k@example.kr", kakao_user_key="kakao-abc")
    ticket = open_ticket(citizen=citizen, channel="kakao")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "email"
    assert OutboundMessage.objects.get().channel == "email"


def test_nothing_is_texted_to_a_citizen_who_sent_stop(officer_user):
    citizen = factories.CitizenFactory(phone="+821012345678", sms_opted_out_at=timezone.now())
    ticket = open_ticket(citizen=citizen, channel="sms")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    # The answer still reaches them: an agent calls (a call is not a text).
    assert sent.data["via"] == "callback"
    assert CallbackRequest.objects.count() == 1 and not OutboundMessage.objects.exists()


def test_a_kakao_citizen_who_sent_stop_gets_no_sms_fallback(officer_user, settings):
    settings.KAKAO_BIZMSG_ENABLED = False
    citizen = factories.CitizenFactory(
        phone="+821012345678", email="k@example.kr", sms_opted_out_at=timezone.now()
    )
    ticket = open_ticket(citizen=citizen, channel="kakao")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "email"
    assert not OutboundMessage.objects.filter(channel="sms").exists()


def test_a_kakao_citizen_who_sent_stop_still_gets_the_alimtalk(officer_user, kakao_bizmessages):
    """STOP refuses text messages; an 알림톡 is a KakaoTalk message, sent without NHN's
    fallback to SMS (kakao_outbound)."""
    citizen = factories.CitizenFactory(phone="+821012345678", sms_opted_out_at=timezone.now())
    ticket = open_ticket(citizen=citizen, channel="kakao")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "kakao"
    assert OutboundMessage.objects.get().channel == "kakao"


def test_the_department_page_says_when_the_answer_could_not_be_delivered(
    client,
    officer_user,
    roads,
    agent_user,
    kakao_bizmessages,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.MESSAGING_BACKEND = "twilio"  # no NHN Cloud keys there: the 알림톡 fails
    settings.KAKAO_BIZMSG_APPKEY = ""
    citizen = factories.CitizenFactory(kakao_user_key="kakao-abc")
    ticket = open_ticket(citizen=citizen, channel="kakao")
    ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="확인")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="보수 완료")
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.FAILED
    client.force_login(officer_user)
    page = client.get(reverse("department-ticket", args=[ticket.pk])).text
    assert "(failed)" in page


def test_a_web_chat_ticket_is_answered_by_email_when_the_citizen_left_one(
    agent_user, officer_user, django_capture_on_commit_callbacks
):
    citizen = factories.CitizenFactory(phone="+821012345678", email="gildong@example.kr")
    ticket = open_ticket(citizen=citizen, channel="webchat")
    with django_capture_on_commit_callbacks(execute=True):
        sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    (email,) = mail.outbox
    assert email.to == ["gildong@example.kr"] and ticket.number in email.subject
    assert "보수 완료" in email.body
    outbound = OutboundMessage.objects.get()
    assert (outbound.channel, outbound.status) == ("email", OutboundMessage.Status.SENT)
    assert sent.data == {"via": "email", "outbound_id": outbound.pk}


def test_an_answer_is_sent_only_once_its_transaction_commits(
    citizen, officer_user, django_capture_on_commit_callbacks
):
    ticket = open_ticket(citizen=citizen, channel="sms")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    outbound = OutboundMessage.objects.get()
    assert outbound.status == OutboundMessage.Status.QUEUED
    assert outbound.idempotency_key == f"ticket-answer:{sent.pk}"
    for callback in callbacks:
        callback()
    outbound.refresh_from_db()
    assert outbound.status == OutboundMessage.Status.SENT and outbound.sent_at is not None


def test_a_web_chat_ticket_without_email_is_answered_by_sms(citizen, officer_user):
    ticket = open_ticket(citizen=citizen, channel="webchat")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "sms" and not mail.outbox
    assert OutboundMessage.objects.get().to == "+821012345678"
    assert_no_raw_phone(sent)


def test_a_phone_ticket_becomes_a_call_back_task_for_the_assignee(
    citizen, agent_user, officer_user
):
    ticket = open_ticket(citizen=citizen, channel="voice", assignee=agent_user)
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    callback = CallbackRequest.objects.get()
    assert callback.citizen == citizen and callback.phone == "+821012345678"
    assert callback.assigned_to == agent_user.agent
    assert ticket.number in callback.note
    assert sent.data == {"via": "callback", "callback_id": callback.pk}
    assert not OutboundMessage.objects.exists()


def test_a_citizen_who_needs_assistance_is_called_back_instead_of_texted(officer_user):
    citizen = factories.CitizenFactory(phone="+821012345678", needs_assistance=True)
    ticket = open_ticket(citizen=citizen, channel="sms")
    sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "callback"
    assert CallbackRequest.objects.count() == 1 and not OutboundMessage.objects.exists()


def test_a_citizen_with_only_an_email_gets_the_answer_by_email(
    officer_user, django_capture_on_commit_callbacks
):
    citizen = factories.CitizenFactory(phone="", email="only@example.kr")
    ticket = open_ticket(citizen=citizen, channel="voice")
    with django_capture_on_commit_callbacks(execute=True):
        sent = ticket_answer_deliver(ticket=ticket, actor=officer_user, text="보수 완료")
    assert sent.data["via"] == "email" and mail.outbox[0].to == ["only@example.kr"]
    assert not CallbackRequest.objects.exists()


def test_an_answer_without_a_reachable_citizen_is_kept_and_the_centre_is_left_to_tell(
    officer_user, roads, agent_user, client
):
    ticket = open_ticket(citizen=None)
    ticket_department_transfer(ticket=ticket, department=roads, actor=agent_user, note="확인")
    ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="보수 완료")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    assert not events_of(ticket, TicketEvent.Type.ANSWER_SENT)
    (not_sent,) = events_of(ticket, TicketEvent.Type.ANSWER_NOT_SENT)
    assert not_sent.actor == officer_user and not not_sent.public
    client.force_login(agent_user)
    panel = client.get(reverse("ticket-department-panel", args=[ticket.pk]))
    assert "could not be sent to the citizen" in panel.content.decode()


# --- questions and returns -----------------------------------------------------------------
def test_the_department_asks_the_centre_and_the_ticket_stays_with_them(ticket, officer_user):
    event = ticket_info_request(ticket=ticket, officer_user=officer_user, question="정확한 번지는?")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.TRANSFERRED
    assert event.data["question"] == "정확한 번지는?" and event.actor == officer_user
    assert info_request_pending(ticket) == event


@pytest.mark.parametrize("question", ["", "   "])
def test_a_question_needs_words(ticket, officer_user, question):
    with pytest.raises(ValueError):
        ticket_info_request(ticket=ticket, officer_user=officer_user, question=question)


def test_another_department_cannot_ask_about_the_ticket(ticket, other_officer_user):
    with pytest.raises(PermissionDenied):
        ticket_info_request(ticket=ticket, officer_user=other_officer_user, question="?")


def test_the_centre_answers_the_question(ticket, officer_user, agent_user):
    question = ticket_info_request(ticket=ticket, officer_user=officer_user, question="번지는?")
    reply = ticket_info_provide(ticket=ticket, actor=agent_user, text="시청로 12")
    assert reply.type == TicketEvent.Type.INFO_PROVIDED
    assert reply.data["text"] == "시청로 12" and reply.data["request"] == question.pk
    assert info_request_pending(ticket) is None


def test_the_centre_cannot_reply_when_nothing_was_asked(ticket, agent_user):
    with pytest.raises(ValueError):
        ticket_info_provide(ticket=ticket, actor=agent_user, text="추가 정보")
    assert not events_of(ticket, TicketEvent.Type.INFO_PROVIDED)


def test_the_department_returns_a_ticket_that_is_not_theirs(ticket, officer_user, roads):
    ticket_department_return(ticket=ticket, officer_user=officer_user, reason="구청 소관입니다.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.department is None
    (event,) = events_of(ticket, TicketEvent.Type.RETURNED)
    assert event.data == {"department": roads.code, "reason": "구청 소관입니다."}


def test_a_return_needs_a_reason(ticket, officer_user):
    with pytest.raises(ValueError):
        ticket_department_return(ticket=ticket, officer_user=officer_user, reason="")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.TRANSFERRED


def test_another_department_cannot_return_the_ticket(ticket, other_officer_user):
    with pytest.raises(PermissionDenied):
        ticket_department_return(ticket=ticket, officer_user=other_officer_user, reason="아님")


def test_a_returned_ticket_takes_no_more_department_steps(ticket, officer_user):
    ticket_department_return(ticket=ticket, officer_user=officer_user, reason="소관 아님")
    with pytest.raises(PermissionDenied):
        ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="답변")


# --- the officer's inbox -------------------------------------------------------------------
def test_the_inbox_lists_only_the_departments_tickets_with_due_dates(
    client, officer_user, ticket, citizen, agent_user, taxes
):
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due=timezone.now() - timedelta(hours=1))
    tax_ticket = open_ticket(citizen=citizen, subject="자동차세 문의")
    ticket_department_transfer(ticket=tax_ticket, department=taxes, actor=agent_user, note="확인")
    client.force_login(officer_user)
    page = client.get(reverse("department-inbox")).content.decode()
    assert ticket.number in page and "Overdue" in page
    assert tax_ticket.number not in page


def test_the_inbox_tabs_sort_tickets_by_what_they_wait_for(
    client, officer_user, agent_user, citizen, roads
):
    waiting, asked, answered = (open_ticket(citizen=citizen, subject=s) for s in "가나다")
    for item in (waiting, asked, answered):
        ticket_department_transfer(ticket=item, department=roads, actor=agent_user, note="확인")
    ticket_info_request(ticket=asked, officer_user=officer_user, question="번지는?")
    ticket_department_answer(ticket=answered, officer_user=officer_user, answer="완료")
    client.force_login(officer_user)

    def numbers(tab: str) -> set[str]:
        page = client.get(reverse("department-inbox"), {"tab": tab}).content.decode()
        return {t.number for t in (waiting, asked, answered) if t.number in page}

    assert numbers("waiting") == {waiting.number}
    assert numbers("info") == {asked.number}
    assert numbers("answered") == {answered.number}


def test_the_inbox_shows_paused_clocks(client, officer_user, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(sla_paused_at=timezone.now())
    client.force_login(officer_user)
    assert "Paused" in client.get(reverse("department-inbox")).content.decode()


def test_the_inbox_is_paginated(client, officer_user, agent_user, citizen, roads):
    for n in range(26):
        item = open_ticket(citizen=citizen, subject=f"민원 {n}")
        ticket_department_transfer(ticket=item, department=roads, actor=agent_user, note="확인")
    client.force_login(officer_user)
    first = client.get(reverse("department-inbox"))
    second = client.get(reverse("department-inbox"), {"page": 2})
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 1


def test_the_inbox_is_for_officers(client, agent_user, supervisor_user):
    for user in (agent_user, supervisor_user):
        client.force_login(user)
        assert client.get(reverse("department-inbox")).status_code == 403


def test_the_inbox_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("department-inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


# --- the officer's ticket page -------------------------------------------------------------
def test_the_officer_sees_the_ticket_the_note_and_only_a_masked_phone(client, officer_user, ticket):
    client.force_login(officer_user)
    page = client.get(reverse("department-ticket", args=[ticket.pk])).content.decode()
    assert ticket.number in page and "홍길동" in page
    assert "현장 확인 부탁드립니다." in page and "집 앞 도로가 움푹 패였어요." in page
    assert "010-****-5678" in page
    for unmasked in ("010-1234-5678", "01012345678", "+821012345678", "-1234-"):
        assert unmasked not in page  # not "1234" alone: ids and timestamps may hold it
    assert not PersonalDataAccess.objects.exists()


def test_the_officer_does_not_see_the_centres_internal_notes(client, officer_user, ticket):
    TicketEvent.objects.create(
        ticket=ticket, type=TicketEvent.Type.COMMENTED, data={"text": "민원인 목소리가 격앙됨"}
    )
    client.force_login(officer_user)
    page = client.get(reverse("department-ticket", args=[ticket.pk])).content.decode()
    assert "격앙" not in page


def test_the_officer_reads_the_conversation_masked_and_without_internal_notes(
    client, officer_user, ticket
):
    contact = factories.ContactFactory(channel="webchat", citizen=ticket.citizen)
    ticket.contacts.add(contact)
    said = [
        ("citizen", "집 앞 도로가 꺼졌어요. 연락은 010-9876-5432로 주세요.", False),
        ("agent", "주민번호 900101-1234567 확인했습니다. 부서로 전달하겠습니다.", False),
        ("agent", "민원인이 매우 격앙됨", True),
        ("bot", "상담사를 연결하고 있습니다.", False),
    ]
    for sender, text, internal in said:
        Message.objects.create(contact=contact, sender=sender, text=text, internal=internal)
    client.force_login(officer_user)
    page = client.get(reverse("department-ticket", args=[ticket.pk])).content.decode()
    assert "Conversation with the citizen" in page
    assert "집 앞 도로가 꺼졌어요. 연락은 010-****-5432로 주세요." in page
    assert "9876" not in page
    assert "주민번호 900101-1****** 확인했습니다." in page and "1234567" not in page
    assert "격앙" not in page
    assert "상담사를 연결하고 있습니다." not in page


def test_an_officer_of_another_department_gets_not_found(client, other_officer_user, ticket):
    client.force_login(other_officer_user)
    assert client.get(reverse("department-ticket", args=[ticket.pk])).status_code == 404
    answer = client.post(reverse("department-ticket-answer", args=[ticket.pk]), {"answer": "x"})
    assert answer.status_code == 404
    phone = client.post(reverse("department-reveal-phone", args=[ticket.pk]))
    assert phone.status_code == 404
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    "name", ["department-ticket", "department-ticket-answer", "department-reveal-phone"]
)
def test_department_ticket_pages_are_not_for_the_centre(
    client, agent_user, supervisor_user, ticket, name
):
    for user in (agent_user, supervisor_user):
        client.force_login(user)
        method = client.get if name == "department-ticket" else client.post
        assert method(reverse(name, args=[ticket.pk])).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "department-ticket",
        "department-ticket-answer",
        "department-info-request",
        "department-ticket-return",
        "department-reveal-phone",
    ],
)
def test_department_ticket_pages_send_anonymous_visitors_to_log_in(client, ticket, name):
    method = client.get if name == "department-ticket" else client.post
    response = method(reverse(name, args=[ticket.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_showing_the_phone_is_logged(client, officer_user, ticket):
    client.force_login(officer_user)
    response = client.post(reverse("department-reveal-phone", args=[ticket.pk]))
    assert response.json() == {"phone": "010-1234-5678"}
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.citizen, access.field) == (officer_user, ticket.citizen, "phone")
    assert ticket.number in access.reason


def test_the_phone_is_shown_only_on_post(client, officer_user, ticket):
    client.force_login(officer_user)
    assert client.get(reverse("department-reveal-phone", args=[ticket.pk])).status_code == 405


def test_the_officer_answers_from_the_page(client, officer_user, ticket):
    client.force_login(officer_user)
    response = client.post(
        reverse("department-ticket-answer", args=[ticket.pk]), {"answer": "내일 보수합니다."}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    page = client.get(response["Location"]).content.decode()
    assert "by SMS" in page


def test_an_empty_answer_from_the_page_shows_the_form_again(client, officer_user, ticket):
    client.force_login(officer_user)
    response = client.post(reverse("department-ticket-answer", args=[ticket.pk]), {"answer": ""})
    assert response.status_code == 422
    assert response.context["answer_form"].errors
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.TRANSFERRED


def test_the_officer_asks_the_centre_from_the_page(client, officer_user, ticket):
    client.force_login(officer_user)
    response = client.post(
        reverse("department-info-request", args=[ticket.pk]), {"question": "정확한 위치는?"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your question is waiting for the centre" in page and "정확한 위치는?" in page


def test_the_officer_returns_the_ticket_from_the_page_and_loses_sight_of_it(
    client, officer_user, ticket
):
    client.force_login(officer_user)
    response = client.post(
        reverse("department-ticket-return", args=[ticket.pk]), {"reason": "구청 소관"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("department-inbox")
    assert client.get(reverse("department-ticket", args=[ticket.pk])).status_code == 404


def test_a_return_without_reason_from_the_page_is_refused(client, officer_user, ticket):
    client.force_login(officer_user)
    response = client.post(reverse("department-ticket-return", args=[ticket.pk]), {"reason": " "})
    assert response.status_code == 422 and response.context["return_form"].errors


def test_an_answered_ticket_can_be_answered_again_and_a_resolved_one_only_read(
    client, officer_user, ticket, agent_user
):
    client.force_login(officer_user)
    ticket_department_answer(ticket=ticket, officer_user=officer_user, answer="1차 답변")
    page = client.get(reverse("department-ticket", args=[ticket.pk])).content.decode()
    assert reverse("department-ticket-answer", args=[ticket.pk]) in page
    ticket_resolve(ticket=ticket, actor=agent_user, answer="1차 답변")
    page = client.get(reverse("department-ticket", args=[ticket.pk])).content.decode()
    assert reverse("department-ticket-answer", args=[ticket.pk]) not in page
    refused = client.post(reverse("department-ticket-answer", args=[ticket.pk]), {"answer": "2차"})
    assert refused.status_code == 422


# --- the centre's panel --------------------------------------------------------------------
def test_the_panel_shows_the_department_and_its_open_question(
    client, agent_user, officer_user, ticket
):
    ticket_info_request(ticket=ticket, officer_user=officer_user, question="번지는?")
    client.force_login(agent_user)
    page = client.get(reverse("ticket-department-panel", args=[ticket.pk])).content.decode()
    assert "도로관리과" in page and "번지는?" in page
    assert reverse("ticket-info-provide", args=[ticket.pk]) in page


def test_the_staff_ticket_page_loads_the_department_panel(client, agent_user, ticket):
    client.force_login(agent_user)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert reverse("ticket-department-panel", args=[ticket.pk]) in page


def test_an_agent_transfers_from_the_panel(client, agent_user, citizen, roads):
    ticket = open_ticket(citizen=citizen)
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-department-transfer", args=[ticket.pk]),
        {"transfer-department": roads.pk, "transfer-note": "현장 확인 요청"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "Ticket transferred to 도로관리과." in page
    ticket.refresh_from_db()
    assert ticket.department == roads and ticket.status == Ticket.Status.TRANSFERRED


def test_a_transfer_from_the_panel_without_a_note_shows_the_error(
    client, agent_user, citizen, roads
):
    ticket = open_ticket(citizen=citizen)
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-department-transfer", args=[ticket.pk]),
        {"transfer-department": roads.pk, "transfer-note": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and response.context["transfer_form"].errors
    ticket.refresh_from_db()
    assert ticket.department is None


def test_a_transfer_without_htmx_returns_to_the_ticket_page(
    client, supervisor_user, citizen, roads
):
    ticket = open_ticket(citizen=citizen)
    client.force_login(supervisor_user)
    response = client.post(
        reverse("ticket-department-transfer", args=[ticket.pk]),
        {"transfer-department": roads.pk, "transfer-note": "확인"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-detail", args=[ticket.pk])


def test_the_centre_replies_to_the_question_from_the_panel(
    client, agent_user, officer_user, ticket
):
    ticket_info_request(ticket=ticket, officer_user=officer_user, question="번지는?")
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-info-provide", args=[ticket.pk]),
        {"info-text": "시청로 12"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    (reply,) = events_of(ticket, TicketEvent.Type.INFO_PROVIDED)
    assert reply.data["text"] == "시청로 12" and reply.actor == agent_user


def test_a_reply_when_nothing_was_asked_is_refused_on_the_panel(client, agent_user, ticket):
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-info-provide", args=[ticket.pk]),
        {"info-text": "정보"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "has not asked for information" in response.content.decode()


def test_the_panel_shows_why_the_department_returned_the_ticket(
    client, agent_user, officer_user, ticket
):
    ticket_department_return(ticket=ticket, officer_user=officer_user, reason="구청 소관입니다.")
    client.force_login(agent_user)
    page = client.get(reverse("ticket-department-panel", args=[ticket.pk])).content.decode()
    assert "Returned by 도로관리과" in page and "구청 소관입니다." in page


@pytest.mark.parametrize(
    "name", ["ticket-department-panel", "ticket-department-transfer", "ticket-info-provide"]
)
def test_the_centre_panel_is_not_for_officers(client, officer_user, ticket, name):
    client.force_login(officer_user)
    method = client.get if name == "ticket-department-panel" else client.post
    assert method(reverse(name, args=[ticket.pk])).status_code == 403


@pytest.mark.parametrize(
    "name", ["ticket-department-panel", "ticket-department-transfer", "ticket-info-provide"]
)
def test_the_centre_panel_sends_anonymous_visitors_to_log_in(client, ticket, name):
    method = client.get if name == "ticket-department-panel" else client.post
    response = method(reverse(name, args=[ticket.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
