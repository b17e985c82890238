"""Registration numbers written into tickets (by staff, officers or Open311 apps) are stored
masked: subject, description, answer, notes, event data, attributes and outgoing texts."""

import pytest
from django.core import mail
from django.db import connection

from tickets.models import Ticket
from tickets.services import (
    category_get_or_create_path,
    open311_request_create,
    ticket_close,
    ticket_comment,
    ticket_create,
    ticket_department_answer,
    ticket_department_transfer,
    ticket_info_provide,
    ticket_info_request,
    ticket_reopen,
    ticket_resolve,
    ticket_update,
)

pytestmark = pytest.mark.django_db

RRN = "850315-2468135"
MASKED = "850315-2******"
SECRET = "468135"


def raw_rows(*tables: str) -> str:
    """The rows as the database holds them, read with plain SQL."""
    dump = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump += [repr(row) for row in cursor.fetchall()]
    return "\n".join(dump)


def new_ticket(citizen) -> Ticket:
    return ticket_create(
        subject=f"등본 문의 {RRN}",
        channel="sms",
        citizen=citizen,
        category=category_get_or_create_path(path="일반행정/민원서류"),
        description=f"주민번호 {RRN} 로 조회해 주세요",
    )


def test_a_ticket_written_by_staff_keeps_no_registration_number(citizen, agent_user):
    ticket = new_ticket(citizen)
    ticket_update(ticket=ticket, actor=agent_user, description="정정: ９９０１０１－２４６８１３５")
    ticket_comment(ticket=ticket, actor=agent_user, text=f"본인 확인 {RRN}")
    ticket_resolve(ticket=ticket, actor=agent_user, answer=f"{RRN} 님께 안내 완료")
    ticket_close(ticket=ticket, actor=agent_user, reason=f"중복 {RRN}")
    ticket_reopen(ticket=ticket, actor=agent_user, reason=f"{RRN} 다시 문의")

    ticket.refresh_from_db()
    assert ticket.subject == f"등본 문의 {MASKED}"
    assert ticket.description == "정정: 990101-2******"
    assert ticket.answer == f"{MASKED} 님께 안내 완료"
    rows = raw_rows("tickets_ticket", "tickets_ticketevent")
    assert MASKED in rows and SECRET not in rows and "４６８１３５" not in rows


def test_department_notes_answers_and_the_text_to_the_citizen_are_masked(
    citizen, agent_user, officer_user, settings
):
    settings.MESSAGING_BACKEND = "outbox"
    ticket = new_ticket(citizen)
    department = officer_user.officer.department
    ticket_department_transfer(
        ticket=ticket, department=department, actor=agent_user, note=f"시민 번호 {RRN}"
    )
    ticket_info_request(ticket=ticket, officer_user=officer_user, question=f"{RRN} 맞나요?")
    ticket_info_provide(ticket=ticket, actor=agent_user, text=f"네, {RRN} 입니다")
    ticket_department_answer(ticket=ticket, officer_user=officer_user, answer=f"{RRN} 처리 완료")

    rows = raw_rows("tickets_ticket", "tickets_ticketevent", "channels_app_outboundmessage")
    assert f"{MASKED} 처리 완료" in rows  # the SMS to the citizen, as stored in the outbox
    assert SECRET not in rows
    assert not any(SECRET in sent.body for sent in mail.outbox)


def test_an_open311_request_keeps_no_registration_number_in_any_field():
    category = category_get_or_create_path(path="도로/도로 파손")
    # The subject is cut from the first line; the number must not survive half cut.
    first_line = "가" * 186 + f" {RRN}"  # the 200-character cut falls inside the number
    ticket = open311_request_create(
        category=category,
        description=f"{first_line}\n신고자 외국인등록번호 901231-5123457",
        address=f"중구 세종대로 110 ({RRN})",
        attributes={"reporter": f"주민번호 {RRN}", "kinds": ["pothole", RRN]},
    )

    ticket.refresh_from_db()
    assert "901231-5******" in ticket.description
    assert ticket.attributes == {"reporter": f"주민번호 {MASKED}", "kinds": ["pothole", MASKED]}
    rows = raw_rows("tickets_ticket", "tickets_ticketevent")
    assert SECRET not in rows and "5123457" not in rows
    assert "2468" not in ticket.subject  # not even the beginning of the hidden part


def test_a_survey_comment_is_stored_masked(citizen):
    from tests.tickets.test_surveys import sent_survey
    from tickets.models import SurveyAnswer
    from tickets.services import survey_answer

    survey_answer(
        survey=sent_survey(citizen), score=2, solved=False, comment=f"{RRN} 로 조회 안 됨"
    )

    assert SurveyAnswer.objects.get().comment == f"{MASKED} 로 조회 안 됨"
    assert SECRET not in raw_rows("tickets_surveyanswer")
