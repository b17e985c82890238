"""Korean particles chosen by the word before them, and the .po messages that rely on it."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from callcenter.korean import josa, josa_resolve, with_josa
from channels_app.events import SUPERVISORS_GROUP
from tests.factories import ContactFactory, QueueFactory
from tickets.models import TicketEvent
from tickets.services import (
    category_get_or_create_path,
    ticket_create,
    ticket_reopen,
    ticket_resolve,
)


@pytest.mark.parametrize(
    ("word", "pair", "expected"),
    [
        # a final consonant (받침) or none
        ("기록", "을/를", "을"),
        ("번호", "을/를", "를"),
        ("상담", "이/가", "이"),
        ("부서", "이/가", "가"),
        ("시민", "은/는", "은"),
        ("상담사", "은/는", "는"),
        ("전화", "과/와", "와"),
        ("문자", "과/와", "와"),
        ("이메일", "과/와", "과"),
        ("사과", "이나/나", "나"),
        ("책", "이나/나", "이나"),
        ("민지", "아/야", "야"),
        ("준혁", "아/야", "아"),
        # 으로/로: ㄹ takes 로
        ("서울", "으로/로", "로"),
        ("도로관리과", "으로/로", "로"),
        ("세무과", "으로/로", "로"),
        ("해결", "으로/로", "로"),
        ("진행 중", "으로/로", "으로"),
        ("교통행정팀", "으로/로", "으로"),
        ("'해결됨'", "으로/로", "으로"),
        # numbers, read aloud
        ("1", "을/를", "을"),
        ("2", "을/를", "를"),
        ("3", "을/를", "을"),
        ("4", "이/가", "가"),
        ("6", "이/가", "이"),
        ("9", "은/는", "는"),
        ("1", "으로/로", "로"),
        ("7", "으로/로", "로"),
        ("3", "으로/로", "으로"),
        ("10", "을/를", "을"),
        ("100", "을/를", "을"),
        ("20", "으로/로", "으로"),
        ("120-2026-000123", "을/를", "을"),
        ("120-2026-000125", "이/가", "가"),
        ("120-2026-000121", "으로/로", "로"),
        ("#42", "을/를", "를"),
        # Latin letters and acronyms
        ("SMS", "으로/로", "로"),
        ("URL", "을/를", "을"),
        ("URL", "으로/로", "로"),
        ("ID", "이/가", "가"),
        ("email", "으로/로", "로"),
        ("kakao", "을/를", "를"),
        ("team", "이/가", "이"),
        ("chat", "은/는", "은"),
        ("service", "을/를", "를"),
        ("Open311", "으로/로", "로"),
        # nothing to read
        ("", "을/를", "을(를)"),
        ("…", "으로/로", "(으)로"),
    ],
)
def test_the_particle_follows_the_last_syllable(word, pair, expected):
    assert josa(word, pair) == expected


def test_either_order_of_a_pair_is_understood():
    assert josa("기록", "를/을") == "을" and josa("서울", "로/으로") == "로"


def test_an_unknown_pair_is_refused():
    with pytest.raises(ValueError):
        josa("기록", "에/에게")


def test_with_josa_joins_the_word_and_its_particle():
    assert with_josa("부서", "으로/로") == "부서로"
    assert with_josa("상담 기록", "이/가") == "상담 기록이"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("기록 120-2026-000123을(를) 저장했습니다.", "기록 120-2026-000123을 저장했습니다."),
        ("기록 120-2026-000124을(를) 저장했습니다.", "기록 120-2026-000124를 저장했습니다."),
        ("상태를 '대기'(으)로 변경했습니다.", "상태를 '대기'로 변경했습니다."),
        ("상태를 '통화 중'(으)로 변경했습니다.", "상태를 '통화 중'으로 변경했습니다."),
        ("상담 기록을 도로관리과(으)로 이관했습니다.", "상담 기록을 도로관리과로 이관했습니다."),
        ("attribute[size]은(는) 항목이 아닙니다.", "attribute[size]는 항목이 아닙니다."),
        ("파일 사진.jpg을(를) 첨부했습니다.", "파일 사진.jpg를 첨부했습니다."),
        ("(으)로 시작하는 문장", "(으)로 시작하는 문장"),
        ("괄호 없는 문장", "괄호 없는 문장"),
    ],
)
def test_josa_resolve_picks_each_two_form_particle(text, expected):
    assert josa_resolve(text) == expected


def test_the_template_filters_choose_and_resolve():
    rendered = Template(
        '{% load open120 %}{{ name|josa:"을/를" }} '
        "{% filter josa_resolved %}{{ dept }}(으)로{% endfilter %}"
    ).render(Context({"name": "<b>상담 기록", "dept": "세무과"}))
    assert rendered == "&lt;b&gt;상담 기록을 세무과로"


# --- the messages users read ---------------------------------------------------------------


@pytest.fixture
def korean_client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    return client


@pytest.mark.django_db
def test_the_console_says_which_ticket_was_saved_with_the_right_particle(korean_client, agent_user):
    contact = ContactFactory(
        channel="voice", queue=QueueFactory(code="general"), agent=agent_user.agent
    )
    category = category_get_or_create_path(path="교통/주정차")
    korean_client.force_login(agent_user)
    page = korean_client.post(
        reverse("contact-ticket", args=[contact.pk]),
        {"category": category.pk, "subject": "불법주차 신고", "outcome": "open"},
    ).text
    number = contact.tickets.get().number
    assert f"상담 기록 {with_josa(number, '을/를')} 저장했습니다." in page
    assert "을(를)" not in page


@pytest.mark.django_db
def test_the_timeline_names_an_attached_file_with_the_right_particle(korean_client, agent_user):
    ticket = ticket_create(subject="가로등 고장", channel="voice")
    TicketEvent.objects.create(
        ticket=ticket, type=TicketEvent.Type.ATTACHMENT_ADDED, data={"name": "현장사진.jpg"}
    )
    TicketEvent.objects.create(
        ticket=ticket, type=TicketEvent.Type.CONTACT_LINKED, data={"contact": 13}
    )
    korean_client.force_login(agent_user)
    page = korean_client.get(reverse("ticket-detail", args=[ticket.pk])).text
    assert "파일 현장사진.jpg를 첨부했습니다." in page
    assert "상담 #13을 연결했습니다." in page
    assert "을(를)" not in page


@pytest.mark.django_db
def test_a_ticket_notice_chooses_its_particle(agent_user, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SUPERVISORS_GROUP, channel)
    ticket = ticket_create(subject="가로등 고장", channel="voice")
    ticket_resolve(ticket=ticket, actor=None, answer="교체했습니다.")
    with translation.override("ko"), django_capture_on_commit_callbacks(execute=True):
        ticket_reopen(ticket=ticket, actor=agent_user, reason="다시 고장")
    notice = async_to_sync(layer.receive)(channel)
    assert notice["message"] == f"상담 기록 {with_josa(ticket.number, '이/가')} 재개되었습니다."
