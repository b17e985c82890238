"""An agent's scorecard: QA average from the evaluations, CSAT, AHT and FCR from the one
metrics module, by Seoul week over the last 12 weeks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from callcenter.selectors_qa import agent_scorecard, scorecard_chart, week_monday
from callcenter.services.stats import stats_rebuild
from tests import factories_metrics as m
from tests.factories import CategoryFactory, CitizenFactory, UserFactory
from tests.factories_qa import EvaluationFactory, EvaluationFormFactory


@pytest.fixture
def minji_weeks(agent_user, other_agent_user):
    """Last week Minji handled two calls (handle 5:00 and 8:00), got survey answers 5 and
    2, resolved one ticket on first contact and one that needed two contacts, and was
    scored 80 and 60 (plus a calibration 0 that does not count). Three weeks ago one call,
    scored 90. Junho's 10 the same week is his own."""
    minji = agent_user.agent
    this_week = week_monday(timezone.localdate())
    last_week = this_week - timedelta(weeks=1)
    three_ago = this_week - timedelta(weeks=3)
    tuesday = last_week + timedelta(days=1)
    first = m.contact(m.seoul(tuesday, 10), answer_after=10, talk=240, wrap=60, agent=minji)
    second = m.contact(m.seoul(tuesday, 11), answer_after=10, talk=420, wrap=60, agent=minji)
    m.survey(m.seoul(tuesday, 12), 5, contact=first)
    m.survey(m.seoul(tuesday, 12), 2, contact=second)
    category = CategoryFactory()
    m.ticket(
        m.seoul(tuesday, 10, 5),
        contacts=(first,),
        created_by=agent_user,
        citizen=CitizenFactory(),
        category=category,
        resolved_at=m.seoul(tuesday, 13),
    )
    m.ticket(
        m.seoul(tuesday, 11, 5),
        contacts=(first, second),
        created_by=agent_user,
        citizen=CitizenFactory(),
        category=category,
        resolved_at=m.seoul(tuesday, 14),
    )
    old = m.contact(
        m.seoul(three_ago + timedelta(days=2), 9), answer_after=5, talk=100, agent=minji
    )
    form = EvaluationFormFactory()
    for contact, score in ((first, 80), (second, 60), (old, 90)):
        EvaluationFactory(form=form, contact=contact, evaluator=UserFactory(), score=score)
    EvaluationFactory(
        form=form, contact=first, evaluator=UserFactory(), score=Decimal(0), calibration=True
    )
    junho_call = m.contact(
        m.seoul(tuesday, 15), answer_after=5, talk=100, agent=other_agent_user.agent
    )
    EvaluationFactory(form=form, contact=junho_call, evaluator=UserFactory(), score=10)
    stats_rebuild(start=three_ago, end=timezone.localdate())
    return {"minji": minji, "last_week": last_week, "three_ago": three_ago}


def test_the_scorecard_has_twelve_weeks_ending_with_this_one(minji_weeks):
    rows = agent_scorecard(minji_weeks["minji"])
    assert len(rows) == 12
    assert rows[-1].week == week_monday(timezone.localdate())
    assert rows[0].week == rows[-1].week - timedelta(weeks=11)


def test_the_qa_average_is_the_mean_of_the_weeks_official_evaluations(minji_weeks):
    rows = {row.week: row for row in agent_scorecard(minji_weeks["minji"])}
    last = rows[minji_weeks["last_week"]]
    assert (last.qa_average, last.qa_count) == (70.0, 2)
    old = rows[minji_weeks["three_ago"]]
    assert (old.qa_average, old.qa_count) == (90.0, 1)
    quiet = rows[minji_weeks["last_week"] - timedelta(weeks=1)]
    assert (quiet.qa_average, quiet.qa_count) == (None, 0)


def test_csat_aht_and_fcr_come_from_the_metrics_module(minji_weeks):
    rows = {row.week: row for row in agent_scorecard(minji_weeks["minji"])}
    last = rows[minji_weeks["last_week"]]
    assert (last.csat, last.survey_answers) == (0.5, 2)
    assert (last.aht, last.handled) == (timedelta(minutes=6, seconds=30), 2)
    assert (last.fcr, last.tickets_resolved) == (0.5, 2)
    old = rows[minji_weeks["three_ago"]]
    assert (old.csat, old.aht, old.fcr) == (None, timedelta(seconds=100), None)


def test_the_chart_data_matches_the_table(minji_weeks):
    rows = agent_scorecard(minji_weeks["minji"])
    chart = scorecard_chart(rows)
    index = [row.week for row in rows].index(minji_weeks["last_week"])
    assert chart["labels"][index] == minji_weeks["last_week"].strftime("%m-%d")
    assert (chart["qa"][index], chart["csat"][index], chart["fcr"][index]) == (70.0, 50.0, 50.0)
    assert chart["aht"][index] == 6.5


def test_the_scorecard_page_shows_the_weeks_numbers_in_a_table_and_a_chart(
    client, supervisor_user, minji_weeks
):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-agent-scorecard", args=[minji_weeks["minji"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    row = page.split(f'<th scope="row">{minji_weeks["last_week"]:%Y-%m-%d}</th>')[1]
    row = row.split("</tr>")[0]
    for figure in ("70.0%", "50.0%", "6:30"):
        assert figure in row
    assert 'id="scorecard-chart"' in page
    assert 'role="img"' in page
    assert 'id="scorecard-data"' in page


def test_the_agent_sees_the_same_numbers_on_their_own_scorecard(client, agent_user, minji_weeks):
    client.force_login(agent_user)
    response = client.get(reverse("qa-agent-scorecard", args=[minji_weeks["minji"].pk]))
    rows = {row.week: row for row in response.context["rows"]}
    assert rows[minji_weeks["last_week"]].qa_average == 70.0
    assert [e.agent for e in response.context["recent"]] == [minji_weeks["minji"]] * 3


def test_this_weeks_contacts_count_before_the_worker_rolls_them_up(agent_user):
    """The current week is read from the raw rows: no stats_rebuild here."""
    today = date(2026, 11, 18)  # a Wednesday: its week is "this week" for the scorecard
    m.contact(m.seoul(today, 9), answer_after=10, talk=200, wrap=60, agent=agent_user.agent)
    this_week = agent_scorecard(agent_user.agent, today=today)[-1]
    assert this_week.week == date(2026, 11, 16)
    assert (this_week.handled, this_week.aht) == (1, timedelta(seconds=260))
