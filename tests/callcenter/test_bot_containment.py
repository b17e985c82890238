"""Bot containment per day: how many KakaoTalk conversations the bot answered on its own,
handed over to agents, or lost; counted on Seoul calendar days, shown to supervisors."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from callcenter.models import ContactEvent
from callcenter.selectors import bot_containment_by_day
from tests import factories

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
BOT, HANDED = ContactEvent.Type.BOT_ANSWERED, ContactEvent.Type.HANDED_OVER


def seoul_midnight(days_ago: int) -> datetime:
    today = timezone.localdate(timezone=SEOUL)
    return datetime.combine(today - timedelta(days=days_ago), time.min, tzinfo=SEOUL)


def conversation(*, days_ago: int, events=(), channel="kakao", minutes=0):
    """A contact begun ``days_ago`` Seoul days ago (at midnight + ``minutes``)."""
    contact = factories.ContactFactory(
        channel=channel,
        created_at=seoul_midnight(days_ago) + timedelta(minutes=minutes),
        queued_at=None,
    )
    for kind in events:
        ContactEvent.objects.create(contact=contact, type=kind)
    return contact


@pytest.fixture
def fortnight(db):
    """Today: two bot answers (one with two answers), one hand-over after a bot answer, one
    abandoned. Yesterday: one hand-over. 13 days ago: one bot answer. Outside the report:
    14 days ago, and a web chat today."""
    conversation(days_ago=0, events=[BOT])  # at 00:00 Seoul, still 15:00 UTC the day before
    conversation(days_ago=0, events=[BOT, BOT], minutes=90)
    conversation(days_ago=0, events=[BOT, HANDED], minutes=120)
    conversation(days_ago=0, minutes=150)
    conversation(days_ago=1, events=[HANDED], minutes=600)
    conversation(days_ago=13, events=[BOT], minutes=5)
    conversation(days_ago=14, events=[BOT], minutes=600)
    conversation(days_ago=0, events=[BOT], channel="webchat")


def test_each_day_counts_conversations_by_what_became_of_them(fortnight):
    days = bot_containment_by_day(days=14)
    assert len(days) == 14
    assert days[-1].day == timezone.localdate(timezone=SEOUL)
    today, yesterday, first = days[-1], days[-2], days[0]
    assert (today.conversations, today.answered_by_bot, today.handed_over, today.abandoned) == (
        4,
        2,
        1,
        1,
    )
    assert today.containment_rate == 0.5
    assert (yesterday.conversations, yesterday.handed_over, yesterday.containment_rate) == (
        1,
        1,
        0.0,
    )
    assert (first.conversations, first.answered_by_bot) == (1, 1)


def test_days_without_conversations_are_kept_as_zeros(fortnight):
    quiet = bot_containment_by_day(days=14)[5]
    assert (quiet.conversations, quiet.abandoned, quiet.containment_rate) == (0, 0, None)


def test_the_count_is_one_query_whatever_the_number_of_conversations(
    fortnight, django_assert_num_queries
):
    with django_assert_num_queries(1):
        bot_containment_by_day(days=14)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_supervisor_sees_each_day_and_the_fortnights_totals(
    english, supervisor_user, fortnight
):
    english.force_login(supervisor_user)
    page = english.get(reverse("supervisor-bot")).content.decode()
    today = timezone.localdate(timezone=SEOUL).isoformat()
    row = re.search(rf'<tr data-day="{today}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="text-end[^"]*">([^<]*)</td>', row)
    assert cells == ["4", "2", "1", "1", "50.0%"]
    assert "How these are counted" in page  # the definitions are on the page
    totals = re.search(r'id="bot-totals">(.*?)</section>', page, re.S).group(1)
    values = re.findall(r'<div class="kpi-value">([^<]*)</div>', totals)
    assert values == ["6", "3", "2", "1", "50.0%"]


def test_the_dashboard_links_to_the_bot_report(client, supervisor_user):
    client.force_login(supervisor_user)
    page = client.get(reverse("supervisor-dashboard")).content.decode()
    assert f'href="{reverse("supervisor-bot")}"' in page


def test_an_administrator_may_open_the_bot_report(client, administrator_user):
    client.force_login(administrator_user)
    assert client.get(reverse("supervisor-bot")).status_code == 200


@pytest.mark.parametrize("persona", ["agent_user", "officer_user"])
def test_other_roles_get_403(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("supervisor-bot")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_login(client):
    url = reverse("supervisor-bot")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_the_report_only_answers_get(client, supervisor_user):
    client.force_login(supervisor_user)
    assert client.post(reverse("supervisor-bot")).status_code == 405


def test_a_kakao_chat_that_reached_the_queue_without_the_bot_counts_as_handed_over(db):
    """A conversation queued for agents directly (no bot turn, no hand-over event: a chat
    routed before the bot, or the bot's queue entry) is the agents', not abandoned."""
    contact = conversation(days_ago=0, minutes=30)
    contact.queued_at = contact.created_at
    contact.save(update_fields=["queued_at"])
    today = bot_containment_by_day(days=1)[-1]
    assert (today.conversations, today.handed_over, today.abandoned) == (1, 1, 0)
