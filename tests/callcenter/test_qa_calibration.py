"""Calibration: several supervisors score the same contact and see the spread."""

import math

import pytest
from django.urls import reverse

from callcenter.selectors_qa import calibration
from callcenter.services.qa import Answer, evaluation_save
from tests.factories import UserFactory
from tests.factories_qa import (
    EvaluationFormFactory,
    EvaluationItemFactory,
    EvaluationSectionFactory,
    HandledContactFactory,
)


@pytest.fixture
def scored_three_times(supervisor_user):
    """A form of four equal yes/no questions; Sora (official) answers 4 yes → 100 %,
    Dami 3 → 75 %, Hyun 1 → 25 %."""
    form = EvaluationFormFactory(name="보정 평가표")
    section = EvaluationSectionFactory(form=form, title="응대")
    items = [EvaluationItemFactory(section=section, text=f"문항 {n}", order=n) for n in range(4)]
    contact = HandledContactFactory()
    dami = UserFactory(username="dami", first_name="김다미")
    hyun = UserFactory(username="hyun", first_name="최현")
    for evaluator, yes, is_calibration in (
        (supervisor_user, 4, False),
        (dami, 3, True),
        (hyun, 1, True),
    ):
        evaluation_save(
            form=form,
            contact=contact,
            evaluator=evaluator,
            answers={item.pk: Answer(1 if n < yes else 0) for n, item in enumerate(items)},
            calibration=is_calibration,
            submit=True,
        )
    return {"form": form, "contact": contact, "items": items, "hyun": hyun}


def test_the_spread_gives_lowest_highest_mean_and_standard_deviation(scored_three_times):
    result = calibration(scored_three_times["contact"], scored_three_times["form"])
    assert [float(e.score) for e in result.evaluations] == [100.0, 75.0, 25.0]
    assert result.minimum == 25.0
    assert result.maximum == 100.0
    assert result.mean == pytest.approx(200 / 3)
    # population standard deviation of 100, 75, 25
    mean = 200 / 3
    expected = math.sqrt(((100 - mean) ** 2 + (75 - mean) ** 2 + (25 - mean) ** 2) / 3)
    assert result.stdev == pytest.approx(expected)
    assert result.stdev == pytest.approx(31.18, abs=0.01)


def test_the_evaluator_furthest_from_the_mean_is_named(scored_three_times):
    result = calibration(scored_three_times["contact"], scored_three_times["form"])
    assert result.furthest.evaluator == scored_three_times["hyun"]
    assert result.furthest_gap == pytest.approx(200 / 3 - 25)


def test_item_rows_show_where_evaluators_disagree(scored_three_times):
    result = calibration(scored_three_times["contact"], scored_three_times["form"])
    ((_section, rows),) = result.sections
    # question 0: all yes; 1 and 2: Hyun said no; 3: only Sora said yes
    assert [row.agree for row in rows] == [True, False, False, False]
    assert [row.spread for row in rows] == [0, 100, 100, 100]
    assert [cell.value for cell in rows[3].cells] == [1, 0, 0]


def test_the_calibration_page_shows_every_evaluation_and_the_spread(
    client, supervisor_user, scored_three_times
):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-calibration", args=[scored_three_times["contact"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="kpi-value" id="calibration-count">3</div>' in page
    assert '<div class="kpi-value" id="calibration-min">25.0%</div>' in page
    assert '<div class="kpi-value" id="calibration-max">100.0%</div>' in page
    assert '<div class="kpi-value" id="calibration-mean">66.7%</div>' in page
    assert '<div class="kpi-value" id="calibration-stdev">31.2</div>' in page
    assert "최현" in page and "김다미" in page


def test_a_single_evaluation_has_no_spread_and_nobody_differs(supervisor_user):
    form = EvaluationFormFactory()
    item = EvaluationItemFactory(section=EvaluationSectionFactory(form=form))
    contact = HandledContactFactory()
    evaluation_save(
        form=form,
        contact=contact,
        evaluator=supervisor_user,
        answers={item.pk: Answer(1)},
        submit=True,
    )
    result = calibration(contact, form)
    assert (result.minimum, result.maximum, result.stdev) == (100.0, 100.0, 0.0)
    assert result.furthest is None


def test_drafts_are_left_out_of_the_calibration(supervisor_user, scored_three_times):
    form, contact = scored_three_times["form"], scored_three_times["contact"]
    evaluation_save(
        form=form,
        contact=contact,
        evaluator=UserFactory(username="late"),
        answers={scored_three_times["items"][0].pk: Answer(0)},
        calibration=True,
    )
    assert len(calibration(contact, form).evaluations) == 3


def test_a_contact_nobody_scored_has_an_empty_calibration_page(client, supervisor_user, db):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-calibration", args=[HandledContactFactory().pk]))
    assert response.status_code == 200
    assert response.context["result"] is None


def test_an_unknown_contact_is_not_found(client, supervisor_user):
    client.force_login(supervisor_user)
    assert client.get(reverse("qa-calibration", args=[999999])).status_code == 404
