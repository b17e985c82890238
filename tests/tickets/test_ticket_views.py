"""The centre's ticket list and ticket page, through HTTP, per role."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from callcenter.models import Message, PersonalDataAccess
from knowledge.models import Article
from knowledge.services import article_save
from tests import factories
from tickets.models import SavedFilter, ServiceAttribute, Ticket, TicketEvent
from tickets.services import (
    category_get_or_create_path,
    ticket_assign,
    ticket_attachment_add,
    ticket_comment,
    ticket_create,
    ticket_resolve,
    ticket_transfer,
    ticket_update,
)

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_ticket(**kwargs) -> Ticket:
    kwargs.setdefault("subject", "불법주차 신고")
    kwargs.setdefault("channel", "voice")
    return ticket_create(**kwargs)


def listed(client, **params) -> list[str]:
    response = client.get(reverse("ticket-list"), params)
    assert response.status_code == 200
    return [ticket.number for ticket in response.context["page"].object_list]


@pytest.fixture
def ticket(citizen):
    return new_ticket(citizen=citizen, description="아파트 앞 불법주차")


@pytest.fixture
def roads(officer_user):
    return officer_user.officer.department


# --- who may do what -----------------------------------------------------------------------

GET_PAGES = ["ticket-list", "ticket-detail", "ticket-attachment"]
POSTS = [
    "ticket-bulk",
    "ticket-filter-save",
    "ticket-filter-delete",
    "ticket-note",
    "ticket-resolve",
    "ticket-assign",
    "ticket-reopen",
    "ticket-close",
    "ticket-attach",
    "ticket-merge",
    "ticket-sla-pause",
    "ticket-sla-resume",
]


def url_for(name: str, ticket: Ticket) -> str:
    if name in ("ticket-list", "ticket-bulk", "ticket-filter-save"):
        return reverse(name)
    if name == "ticket-filter-delete":
        return reverse(name, args=[1])
    if name == "ticket-attachment":
        return reverse(name, args=[ticket.pk, 1])
    return reverse(name, args=[ticket.pk])


@pytest.mark.parametrize("name", GET_PAGES + POSTS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, ticket, name):
    method = client.get if name in GET_PAGES else client.post
    response = method(url_for(name, ticket))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["ticket-list", *POSTS])
def test_department_officers_work_from_their_inbox_not_the_centre_pages(
    client, officer_user, ticket, roads, name
):
    ticket_transfer(ticket=ticket, department=roads, actor=None)
    client.force_login(officer_user)
    method = client.get if name == "ticket-list" else client.post
    assert method(url_for(name, ticket)).status_code == 403
    assert not TicketEvent.objects.exclude(type__in=["created", "transferred"]).exists()


def test_an_officer_sees_only_the_ticket_pages_of_their_own_department(
    client, officer_user, other_officer_user, ticket, roads
):
    client.force_login(officer_user)
    page = reverse("ticket-detail", args=[ticket.pk])
    assert client.get(page).status_code == 404
    ticket_transfer(ticket=ticket, department=roads, actor=None)
    response = client.get(page, follow=True)
    assert response.redirect_chain == [(reverse("department-ticket", args=[ticket.pk]), 302)]
    assert response.status_code == 200 and ticket.number in response.content.decode()
    client.force_login(other_officer_user)
    assert client.get(page).status_code == 404


def test_an_officer_reaches_none_of_the_centres_internal_notes_or_files(
    client, agent_user, officer_user, ticket, roads
):
    ticket_comment(ticket=ticket, actor=agent_user, text="민원인 성향 주의: 내부 메모")
    internal = ticket_attachment_add(
        ticket=ticket, actor=agent_user, upload=SimpleUploadedFile("내부.png", PNG)
    )
    public = ticket_attachment_add(
        ticket=ticket, actor=agent_user, upload=SimpleUploadedFile("현장.png", PNG), public=True
    )
    ticket_transfer(ticket=ticket, department=roads, actor=agent_user, note="확인 부탁드립니다")
    client.force_login(officer_user)
    for url in (
        reverse("ticket-detail", args=[ticket.pk]),
        reverse("department-ticket", args=[ticket.pk]),
    ):
        page = client.get(url, follow=True).content.decode()
        assert "확인 부탁드립니다" in page
        assert "내부 메모" not in page and "내부.png" not in page
    internal_url = reverse("ticket-attachment", args=[ticket.pk, internal.pk])
    assert client.get(internal_url).status_code == 404
    assert client.get(reverse("ticket-attachment", args=[ticket.pk, public.pk])).status_code == 200


def test_agents_cannot_change_tickets_in_bulk(client, agent_user, ticket):
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-bulk"), {"tickets": [ticket.pk], "action": "close", "reason": "x"}
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_a_supervisor_assigns_the_ticked_tickets_and_goes_back_to_the_same_list(
    client, supervisor_user, agent_user, ticket
):
    other = new_ticket()
    client.force_login(supervisor_user)
    assert "bulk_form" in client.get(reverse("ticket-list")).context
    response = client.post(
        reverse("ticket-bulk"),
        {
            "tickets": [ticket.pk, other.pk],
            "action": "assign",
            "assignee": agent_user.pk,
            "next": "/tickets/?status=new",
        },
    )
    assert response.status_code == 302 and response.url == "/tickets/?status=new"
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {agent_user.pk}
    assert TicketEvent.objects.filter(type="assigned").count() == 2


def test_a_refused_bulk_change_changes_nothing_and_never_redirects_off_site(
    client, supervisor_user, agent_user, ticket
):
    resolved = new_ticket()
    ticket_resolve(ticket=resolved, actor=agent_user, answer="안내")
    client.force_login(supervisor_user)
    response = client.post(
        reverse("ticket-bulk"),
        {
            "tickets": [ticket.pk, resolved.pk],
            "action": "assign",
            "assignee": agent_user.pk,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response.url == reverse("ticket-list")
    assert not Ticket.objects.filter(assignee__isnull=False).exists()


# --- the list --------------------------------------------------------------------------------


def test_the_list_filters_by_status_channel_department_and_category_with_its_children(
    client, agent_user, roads
):
    traffic = category_get_or_create_path(path="교통")
    parking = category_get_or_create_path(path="교통/주정차")
    tax = category_get_or_create_path(path="세무/자동차세")
    on_parking = new_ticket(category=parking, channel="kakao")
    on_tax = new_ticket(category=tax)
    ticket_transfer(ticket=on_tax, department=roads, actor=None)
    client.force_login(agent_user)
    assert listed(client, category=traffic.pk) == [on_parking.number]
    assert listed(client, channel="kakao") == [on_parking.number]
    assert listed(client, status="transferred") == [on_tax.number]
    assert listed(client, department=roads.pk) == [on_tax.number]


def test_the_list_filters_by_assignee_me_nobody_or_someone(
    client, agent_user, other_agent_user, supervisor_user
):
    mine, theirs, nobodys = new_ticket(), new_ticket(), new_ticket()
    ticket_assign(ticket=mine, assignee=agent_user, actor=supervisor_user)
    ticket_assign(ticket=theirs, assignee=other_agent_user, actor=supervisor_user)
    client.force_login(agent_user)
    assert listed(client, assignee="me") == [mine.number]
    assert listed(client, assignee="none") == [nobodys.number]
    assert listed(client, assignee=other_agent_user.pk) == [theirs.number]


def test_the_list_shows_overdue_tickets_that_are_still_owed(client, agent_user):
    late, paused, on_time = new_ticket(), new_ticket(), new_ticket()
    past = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk__in=[late.pk, paused.pk]).update(resolution_due=past)
    Ticket.objects.filter(pk=paused.pk).update(sla_paused_at=past)
    Ticket.objects.filter(pk=on_time.pk).update(resolution_due=past + timedelta(days=1))
    client.force_login(agent_user)
    assert listed(client, overdue="1") == [late.number]


def test_the_date_range_counts_whole_days_in_seoul(client, agent_user):
    # 00:30 on 2 March in Seoul is still 1 March in UTC.
    early = new_ticket(created_at=datetime(2026, 3, 2, 0, 30, tzinfo=SEOUL))
    new_ticket(created_at=datetime(2026, 3, 1, 23, 30, tzinfo=SEOUL))
    new_ticket(created_at=datetime(2026, 3, 3, 0, 0, tzinfo=SEOUL))
    client.force_login(agent_user)
    assert listed(client, date_from="2026-03-02", date_to="2026-03-02") == [early.number]


def test_the_list_finds_a_citizen_by_name_or_by_phone_in_any_format(client, agent_user, citizen):
    theirs = new_ticket(citizen=citizen)
    new_ticket(citizen=factories.CitizenFactory(name="김철수"))
    client.force_login(agent_user)
    assert listed(client, citizen="길동") == [theirs.number]
    assert listed(client, citizen="010-1234-5678") == [theirs.number]
    assert listed(client, citizen="+82 10 1234 5678") == [theirs.number]


def test_search_needs_every_word_somewhere_in_the_ticket_or_its_notes(client, agent_user):
    towing = new_ticket(subject="Illegal parking", description="아파트 정문")
    ticket_comment(ticket=towing, actor=agent_user, text="견인차 요청함")
    answered = new_ticket(subject="소음 민원")
    ticket_resolve(ticket=answered, actor=agent_user, answer="공사장 소음 단속 안내")
    client.force_login(agent_user)
    assert listed(client, q="parking 견인차") == [towing.number]
    assert listed(client, q="PARKING 정문") == [towing.number]
    assert listed(client, q="parking 소음") == []
    assert listed(client, q="단속") == [answered.number]
    assert listed(client, q=towing.number) == [towing.number]


def test_the_list_sorts_by_due_time_priority_or_age(client, agent_user):
    now = timezone.now()
    soon = new_ticket(priority=Ticket.Priority.LOW)
    later = new_ticket(priority=Ticket.Priority.URGENT)
    undated = new_ticket()
    Ticket.objects.filter(pk=soon.pk).update(resolution_due=now + timedelta(hours=1))
    Ticket.objects.filter(pk=later.pk).update(resolution_due=now + timedelta(hours=5))
    client.force_login(agent_user)
    assert listed(client, sort="due") == [soon.number, later.number, undated.number]
    assert listed(client, sort="-due") == [later.number, soon.number, undated.number]
    assert listed(client, sort="priority")[0] == later.number
    assert listed(client, sort="created") == [soon.number, later.number, undated.number]
    assert listed(client) == [undated.number, later.number, soon.number]


def test_pages_of_25_keep_the_filters(client, agent_user):
    for _ in range(27):
        new_ticket(channel="kakao")
    new_ticket(channel="voice")
    client.force_login(agent_user)
    response = client.get(reverse("ticket-list"), {"channel": "kakao"})
    assert len(response.context["page"].object_list) == 25
    assert 'href="?channel=kakao&amp;page=2"' in response.content.decode()
    assert len(listed(client, channel="kakao", page=2)) == 2


def test_the_list_masks_citizens_phones(client, agent_user, ticket):
    client.force_login(agent_user)
    page = client.get(reverse("ticket-list")).content.decode()
    assert "010-****-5678" in page and "1234-5678" not in page


def test_saved_filters_belong_to_their_user(client, agent_user, other_agent_user):
    client.force_login(agent_user)
    response = client.post(
        reverse("ticket-filter-save"), {"name": "내 미결", "query": "?assignee=me&status=open"}
    )
    assert response.url == "/tickets/?assignee=me&status=open"
    saved = SavedFilter.objects.get(user=agent_user)
    assert saved.query == "assignee=me&status=open"
    assert "내 미결" in client.get(reverse("ticket-list")).content.decode()

    client.force_login(other_agent_user)
    assert "내 미결" not in client.get(reverse("ticket-list")).content.decode()
    response = client.post(reverse("ticket-filter-delete", args=[saved.pk]))
    assert response.status_code == 404 and SavedFilter.objects.filter(pk=saved.pk).exists()

    client.force_login(agent_user)
    client.post(reverse("ticket-filter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.exists()


def test_a_saved_filter_needs_a_name(client, agent_user):
    client.force_login(agent_user)
    client.post(reverse("ticket-filter-save"), {"name": "", "query": "status=open"})
    assert not SavedFilter.objects.exists()


# --- the ticket page -------------------------------------------------------------------------


def test_the_page_shows_the_transcript_with_notes_marked_and_resident_numbers_masked(
    client, agent_user, citizen
):
    contact = factories.ContactFactory(citizen=citizen, agent=agent_user.agent)
    Message.objects.create(contact=contact, sender="citizen", text="제 주민번호는 900101-1234567")
    Message.objects.create(contact=contact, sender="agent", text="확인 중입니다", internal=True)
    ticket = new_ticket(citizen=citizen, contacts=[contact])
    client.force_login(agent_user)
    response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    page = response.content.decode()
    assert "900101-1******" in page and "1234567" not in page
    lines = response.context["transcripts"][0]["messages"]
    assert [(line["text"], line["internal"]) for line in lines] == [
        ("제 주민번호는 900101-1******", False),
        ("확인 중입니다", True),
    ]
    assert "live-internal" in page


def test_the_page_masks_the_phone_and_offers_the_logged_reveal_to_a_supervisor(
    client, supervisor_user, agent_user, ticket
):
    client.force_login(agent_user)
    response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    page = response.content.decode()
    assert "010-****-5678" in page and "1234-5678" not in page
    assert not response.context["can_reveal_phone"]  # she is not serving this citizen now
    client.force_login(supervisor_user)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    reveal = reverse("citizen-reveal-phone", args=[ticket.citizen.pk])
    assert reveal in page
    assert client.post(reveal).json()["phone"] == "010-1234-5678"
    assert PersonalDataAccess.objects.filter(user=supervisor_user, field="phone").exists()


def test_the_timeline_lists_every_step_and_marks_what_the_citizen_sees(
    client, agent_user, supervisor_user, ticket
):
    ticket_assign(ticket=ticket, assignee=agent_user, actor=supervisor_user)
    ticket_comment(ticket=ticket, actor=agent_user, text="내부 메모 입니다")
    ticket_resolve(ticket=ticket, actor=agent_user, answer="견인 조치 완료")
    client.force_login(agent_user)
    response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    events = list(response.context["events"])
    assert [e.type for e in events] == [
        "created",
        "status_changed",
        "assigned",
        "commented",
        "answered",
        "status_changed",
    ]
    page = response.content.decode()
    assert "내부 메모 입니다" in page and "견인 조치 완료" in page and "박소라" in page
    assert page.count("badge text-bg-success") >= 2  # the answer card and its public event


def test_the_page_suggests_published_knowledge_articles(client, agent_user, supervisor_user):
    category = category_get_or_create_path(path="교통/주정차")
    article = article_save(
        title="불법주차 신고 방법",
        question="불법주차 어떻게 신고해요?",
        answer="안전신문고 앱으로 신고합니다.",
        category=category,
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )
    ticket = new_ticket(subject="불법주차 신고")
    client.force_login(agent_user)
    response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    assert response.context["related_articles"] == [article]
    assert reverse("knowledge-article", args=[article.pk]) in response.content.decode()


def test_an_agent_adds_a_note_resolves_reopens_and_closes_from_the_page(client, agent_user, ticket):
    client.force_login(agent_user)
    page = reverse("ticket-detail", args=[ticket.pk])
    assert client.post(reverse("ticket-note", args=[ticket.pk]), {"text": "메모"}).url == page
    client.post(reverse("ticket-resolve", args=[ticket.pk]), {"answer": "견인 완료"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.answer) == ("resolved", "견인 완료")
    client.post(reverse("ticket-reopen", args=[ticket.pk]), {"reason": "재발"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    client.post(reverse("ticket-resolve", args=[ticket.pk]), {"answer": "재견인"})
    client.post(reverse("ticket-close", args=[ticket.pk]), {"reason": ""})
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_a_refused_step_shows_why_and_writes_nothing(client, agent_user, ticket):
    client.force_login(agent_user)
    before = TicketEvent.objects.count()
    response = client.post(reverse("ticket-close", args=[ticket.pk]), {"reason": "?"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    client.post(reverse("ticket-reopen", args=[ticket.pk]), {"reason": "재발"})
    client.post(reverse("ticket-note", args=[ticket.pk]), {"text": ""})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW and TicketEvent.objects.count() == before


def test_an_agent_assigns_the_ticket_from_the_page(client, agent_user, other_agent_user, ticket):
    client.force_login(agent_user)
    client.post(reverse("ticket-assign", args=[ticket.pk]), {"assignee": other_agent_user.pk})
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (other_agent_user, Ticket.Status.OPEN)


def test_merging_from_the_page_goes_to_the_ticket_that_remains(client, agent_user, ticket):
    duplicate = new_ticket(citizen=ticket.citizen)
    client.force_login(agent_user)
    response = client.post(reverse("ticket-merge", args=[duplicate.pk]), {"target": ticket.number})
    assert response.url == reverse("ticket-detail", args=[ticket.pk])
    duplicate.refresh_from_db()
    assert duplicate.merged_into == ticket
    response = client.post(reverse("ticket-merge", args=[ticket.pk]), {"target": "120-1999-9"})
    assert response.url == reverse("ticket-detail", args=[ticket.pk])
    ticket.refresh_from_db()
    assert ticket.merged_into is None


def test_an_upload_that_is_not_an_image_or_pdf_is_refused(client, agent_user, ticket):
    client.force_login(agent_user)
    script = SimpleUploadedFile("photo.png", b"#!/bin/sh\nrm -rf /\n", content_type="image/png")
    response = client.post(reverse("ticket-attach", args=[ticket.pk]), {"file": script})
    assert response.status_code == 302 and not ticket.attachments.exists()
    photo = SimpleUploadedFile("현장.png", PNG, content_type="image/png")
    client.post(reverse("ticket-attach", args=[ticket.pk]), {"file": photo, "public": "on"})
    assert ticket.attachments.get().public


def test_attachments_are_served_only_to_those_who_may_see_the_ticket(
    client, agent_user, officer_user, other_officer_user, ticket, roads
):
    attachment = ticket_attachment_add(
        ticket=ticket, actor=agent_user, upload=SimpleUploadedFile("현장.png", PNG)
    )
    url = reverse("ticket-attachment", args=[ticket.pk, attachment.pk])
    assert client.get(url).status_code == 302
    client.force_login(agent_user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert "private" in response["Cache-Control"]
    other = new_ticket()
    wrong_ticket = reverse("ticket-attachment", args=[other.pk, attachment.pk])
    assert client.get(wrong_ticket).status_code == 404
    client.force_login(officer_user)
    assert client.get(url).status_code == 404
    ticket_transfer(ticket=ticket, department=roads, actor=None)
    assert client.get(url).status_code == 404  # an internal file is the centre's own
    ticket.attachments.update(public=True)
    assert client.get(url).status_code == 200
    client.force_login(other_officer_user)
    assert client.get(url).status_code == 404
    with pytest.raises(Resolver404):  # the stored file has no public URL
        resolve(f"/{settings.MEDIA_URL}{attachment.file.name}")


def test_the_sla_can_be_paused_and_resumed_from_the_page(client, agent_user, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due=timezone.now() + timedelta(days=1))
    client.force_login(agent_user)
    client.post(reverse("ticket-sla-pause", args=[ticket.pk]), {"reason": "서류 대기"})
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None
    assert ticket.events.filter(type=TicketEvent.Type.PAUSED).exists()
    client.post(reverse("ticket-sla-resume", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.events.filter(type=TicketEvent.Type.RESUMED).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_the_text_search_is_answered_from_the_trigram_indexes(agent_user):
    """Each searched column and the notes have a pg_trgm index on exactly the expression the
    search filters on; EXPLAIN (with scans disfavoured) must use them, not read every row.
    Plain index scans are disfavoured too: after an ANALYZE (the demo generator's, the
    rollups' rebuild) a tiny table is cheapest to read whole through its primary key."""
    from django.db import connection

    from tickets.selectors import _text_matches

    ticket_create(subject="포트홀 신고", channel="voice")
    matching = Ticket.objects.filter(_text_matches("포트홀")).order_by().values("pk")
    sql, params = matching.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in (
        "ticket_number_trgm",
        "ticket_subject_trgm",
        "ticket_description_trgm",
        "ticket_answer_trgm",
    ):
        assert index in plan, plan
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        notes = TicketEvent.objects.filter(type="commented", data__text__icontains="포트홀")
        sql, params = notes.values("ticket_id").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        assert "ticketevent_note_trgm" in "\n".join(row[0] for row in cursor.fetchall())


# --- Open311 answers and location ----------------------------------------------------------


def test_staff_see_the_open311_questions_answers_and_location(client, agent_user, citizen):
    category = factories.CategoryFactory(name="불법주차")
    ServiceAttribute.objects.create(
        category=category,
        code="vehicle",
        datatype=ServiceAttribute.Datatype.SINGLEVALUELIST,
        description="차량 종류는 무엇인가요?",
        values=[{"key": "car", "name": "승용차"}, {"key": "truck", "name": "화물차"}],
        order=1,
    )
    ServiceAttribute.objects.create(
        category=category,
        code="plate",
        datatype=ServiceAttribute.Datatype.STRING,
        description="차량 번호",
        order=2,
    )
    ticket = new_ticket(citizen=citizen, category=category)
    Ticket.objects.filter(pk=ticket.pk).update(
        attributes={"vehicle": "truck", "plate": "12가3456", "retired": "옛 답"},
        address="서울특별시 중구 세종대로 110",
        latitude="37.566295",
        longitude="126.977945",
    )
    client.force_login(agent_user)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).text
    assert "차량 종류는 무엇인가요?" in page and "화물차" in page and ">truck<" not in page
    assert "차량 번호" in page and "12가3456" in page
    assert "retired" in page and "옛 답" in page
    assert page.index("차량 종류는 무엇인가요?") < page.index("차량 번호")
    assert "서울특별시 중구 세종대로 110" in page
    assert "37.566295, 126.977945" in page
    assert "openstreetmap.org/?mlat=37.566295&amp;mlon=126.977945" in page


def test_the_timeline_names_changed_fields_as_the_form_does(client, agent_user, ticket):
    ticket_update(ticket=ticket, actor=agent_user, answer="주차단속반에 전달했습니다.", priority=3)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    client.force_login(agent_user)
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).text
    assert "안내한 답변 (– → 주차단속반에 전달했습니다.)" in page
    assert "우선순위 (보통 → 높음)" in page
    assert "변경: answer" not in page and "priority (" not in page


# --- category lists in path order ----------------------------------------------------------


def _option_labels(page: str, select_name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', page, re.S)[1]
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_category_choices_are_listed_in_path_order(client, supervisor_user):
    for path in ("세무/자동차세", "교통/주정차", "가족/출생신고", "교통/도로시설"):
        category_get_or_create_path(path=path)
    expected = ["가족/출생신고", "교통/도로시설", "교통/주정차", "세무/자동차세"]
    client.force_login(supervisor_user)
    page = client.get(reverse("ticket-list")).text
    filter_options = [label for label in _option_labels(page, "category") if "/" in label]
    assert filter_options == expected
    bulk = page[page.index('id="bulk-category"') - 200 :]
    assert [label for label in _option_labels(bulk, "category") if "/" in label] == expected
