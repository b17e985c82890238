"""/supervisor/: today so far and the last 30 days, as callcenter.metrics counts them."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from callcenter import metrics
from callcenter.services.stats import stats_rebuild
from tests import factories
from tests.factories_metrics import contact, presence, seoul, stop_clock, survey, ticket

pytestmark = pytest.mark.django_db


def kpis(page: str, section: str) -> dict[str, str]:
    block = re.search(rf'id="{section}">(.*?)</section>', page, re.S).group(1)
    labels = re.findall(r'<div class="kpi-label">([^<]*)</div>', block)
    values = re.findall(r'<div class="kpi-value[^"]*">([^<]*)</div>', block)
    return dict(zip(labels, values, strict=True))


@pytest.fixture
def now(monkeypatch):
    """A Wednesday noon in Seoul."""
    return stop_clock(monkeypatch, seoul(date(2026, 11, 4), 12))


@pytest.fixture
def english(client, supervisor_user, now):
    client.force_login(supervisor_user)
    client.cookies["django_language"] = "en"
    return client


def test_todays_figures_are_the_metrics_of_today_so_far(english, now):
    agent = factories.AgentFactory()
    presence(agent, now - timedelta(minutes=50), "available")
    contact(now - timedelta(minutes=40), answer_after=10, talk=240, hold=60, wrap=60, agent=agent)
    contact(now - timedelta(minutes=30), answer_after=30, talk=120, wrap=0, agent=agent)
    contact(now - timedelta(minutes=20), abandon_after=3)
    contact(now - timedelta(minutes=10), abandon_after=45)
    presence(agent, now - timedelta(minutes=5), "offline")

    page = english.get(reverse("supervisor-dashboard")).content.decode()

    today = kpis(page, "today-figures")
    assert today["Offered"] == "4" and today["Answered"] == "2" and today["Handled"] == "2"
    assert today["Service level"] == "33.3%"  # 1 in 20 s ÷ (4 − 1 short abandon)
    assert today["Abandonment rate"] == "25.0%"
    assert today["Average speed of answer"] == "0:20"
    assert today["Average handle time"] == "3:30"  # (300 + 120) ÷ 2
    assert "talk 2:30 · hold 0:30 · wrap-up 0:30" in page
    # 420 s handling ÷ the 45 available minutes (2,280 s idle + the same 420 s in hand)
    assert today["Occupancy"] == "15.6%"


def test_the_30_day_chart_and_its_table_hold_the_rolled_up_days_and_today(english, now):
    today = now.date()
    contact(seoul(today - timedelta(days=29), 9), answer_after=5, talk=60)
    contact(seoul(today - timedelta(days=30), 9), answer_after=5, talk=60)  # 31 days ago
    contact(seoul(today - timedelta(days=3), 9), abandon_after=30)
    stats_rebuild(start=today - timedelta(days=31), end=today)
    contact(now - timedelta(minutes=1), abandon_after=20)  # since the last refresh

    response = english.get(reverse("supervisor-dashboard"))

    page, chart = response.content.decode(), response.context["chart"]
    assert len(chart["offered"]) == 30 and sum(chart["offered"]) == 3
    assert chart["offered"][0] == 1 and chart["answered"][0] == 1
    assert chart["offered"][-1] == 1, "today counts without waiting for the refresh"
    row = re.search(rf'<tr data-day="{today:%Y-%m-%d}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="text-end">([^<]*)</td>', row)[:3] == ["1", "0", "0.0%"]
    assert 'role="img"' in page and 'id="volume-table"' in page


def test_fcr_and_csat_are_the_metrics_of_the_last_30_days(english, citizen, now):
    parking = factories.CategoryFactory()
    call = contact(now - timedelta(hours=2), answer_after=5, talk=60, citizen=citizen)
    ticket(
        call.queued_at,
        contacts=(call,),
        category=parking,
        citizen=citizen,
        resolved_at=now - timedelta(minutes=1),
    )
    two = [contact(now - timedelta(hours=1), answer_after=5, talk=60) for _n in range(2)]
    ticket(two[0].queued_at, contacts=tuple(two), resolved_at=now - timedelta(minutes=1))
    survey(now - timedelta(minutes=5), 5, contact=call)
    survey(now - timedelta(minutes=5), 4)
    survey(now - timedelta(minutes=5), 2)

    page = english.get(reverse("supervisor-dashboard")).content.decode()

    figures = kpis(page, "ticket-figures")
    assert figures["First-contact resolution"] == "50.0%"
    assert "of 2 resolved tickets" in page
    assert figures["CSAT"] == "66.7%"
    assert "3 survey answers" in page


def test_each_queue_shows_its_figures_of_today(english, now):
    general = factories.QueueFactory(code="general", name="일반")
    quiet = factories.QueueFactory(code="quiet", name="조용한 큐")
    contact(now - timedelta(minutes=9), answer_after=8, talk=100, wrap=20, queue=general)
    contact(now - timedelta(minutes=8), abandon_after=60, queue=general)
    contact(seoul(now.date() - timedelta(days=1), 12), abandon_after=60, queue=general)

    page = english.get(reverse("supervisor-dashboard")).content.decode()

    row = re.search(rf'<tr data-queue="{general.pk}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="text-end">([^<]*)</td>', row)
    assert cells == ["0", "2", "1", "50.0%", "0:08", "50.0%", "2:00"]
    quiet_row = re.search(rf'<tr data-queue="{quiet.pk}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="text-end">([^<]*)</td>', quiet_row)[:2] == ["0", "0"]
    assert (
        metrics.by_group_between(now - timedelta(hours=1), now, group="queue")[general.pk].offered
        == 2
    )
