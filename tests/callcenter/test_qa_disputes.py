"""The agent's answer to an evaluation (acknowledge, or dispute with a comment) and the
supervisor's resolution of a dispute: rejected keeps the evaluation, upheld re-scores it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from callcenter.models import Evaluation, EvaluationItem
from callcenter.selectors_qa import agent_qa_by_week, agents_overview, scorecard_weeks
from callcenter.services.qa import Answer, evaluation_dispute_resolve
from tests.factories import UserFactory
from tests.factories_qa import (
    EvaluationAnswerFactory,
    EvaluationFactory,
    EvaluationFormFactory,
    EvaluationItemFactory,
    EvaluationSectionFactory,
    HandledContactFactory,
)


@pytest.fixture
def items(db) -> dict[str, EvaluationItem]:
    """The centre's form: greeting yes/no (w1), accuracy 1–5 (w2, N/A allowed), privacy
    (auto-fail, w1)."""
    section = EvaluationSectionFactory(form=EvaluationFormFactory(name="기본 평가표"))
    return {
        "greeting": EvaluationItemFactory(section=section, text="첫인사를 했다", order=1),
        "accuracy": EvaluationItemFactory(
            section=section,
            text="정확히 안내했다",
            kind=EvaluationItem.Kind.SCALE,
            weight=2,
            allows_na=True,
            order=2,
        ),
        "privacy": EvaluationItemFactory(
            section=section, text="개인정보를 보호했다", auto_fail=True, order=3
        ),
    }


@pytest.fixture
def minji_evaluation(agent_user, supervisor_user, items):
    """Minji's call, scored 62.5 % by Sora and submitted: greeting yes, accuracy 2 of 5,
    privacy yes ((1 + 2 × 0.25 + 1) / 4)."""
    evaluation = EvaluationFactory(
        form=items["greeting"].section.form,
        contact=HandledContactFactory(agent=agent_user.agent),
        evaluator=supervisor_user,
        score=Decimal("62.5"),
    )
    EvaluationAnswerFactory(evaluation=evaluation, item=items["greeting"], value=1)
    EvaluationAnswerFactory(
        evaluation=evaluation, item=items["accuracy"], value=2, comment="과태료 감면 안내 누락"
    )
    EvaluationAnswerFactory(evaluation=evaluation, item=items["privacy"], value=1)
    return evaluation


@pytest.fixture
def disputed(minji_evaluation):
    Evaluation.objects.filter(pk=minji_evaluation.pk).update(
        disputed_at=minji_evaluation.submitted_at, dispute_comment="감면 대상이 아니었습니다"
    )
    minji_evaluation.refresh_from_db()
    return minji_evaluation


def _sheet(items, **values) -> dict[str, str]:
    """The resolve page's answer fields: Minji's current answers, changed by ``values``."""
    current = {"greeting": "1", "accuracy": "2", "privacy": "1"} | values
    data = {f"item_{items[name].pk}": value for name, value in current.items()}
    data[f"note_{items['accuracy'].pk}"] = "과태료 감면 안내 누락"
    return data


def test_the_agent_acknowledges_their_evaluation(client, agent_user, minji_evaluation):
    client.force_login(agent_user)
    response = client.post(reverse("qa-acknowledge", args=[minji_evaluation.pk]))
    assert response.status_code == 302
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.acknowledged_at is not None
    page = client.get(reverse("qa-evaluation", args=[minji_evaluation.pk]))
    assert page.context["dispute_form"] is None


def test_an_acknowledged_evaluation_can_no_longer_be_disputed(client, agent_user, minji_evaluation):
    client.force_login(agent_user)
    client.post(reverse("qa-acknowledge", args=[minji_evaluation.pk]))
    client.post(reverse("qa-dispute", args=[minji_evaluation.pk]), {"comment": "다시 봐 주세요"})
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.disputed_at is None
    assert minji_evaluation.dispute_comment == ""


def test_a_dispute_needs_a_comment(client, agent_user, minji_evaluation):
    client.force_login(agent_user)
    response = client.post(reverse("qa-dispute", args=[minji_evaluation.pk]), {"comment": "  "})
    assert response.status_code == 400
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.disputed_at is None


def test_a_dispute_reaches_the_supervisors_who_resolve_it_with_a_note(
    client, agent_user, supervisor_user, minji_evaluation, items
):
    client.force_login(agent_user)
    client.post(
        reverse("qa-dispute", args=[minji_evaluation.pk]),
        {"comment": "시민이 본인 확인을 거부해서 안내할 수 없었습니다"},
    )
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.dispute_open

    client.force_login(supervisor_user)
    home = client.get(reverse("qa-home"))
    assert list(home.context["disputes"]) == [minji_evaluation]
    detail = client.get(reverse("qa-evaluation", args=[minji_evaluation.pk])).content.decode()
    assert reverse("qa-resolve", args=[minji_evaluation.pk]) in detail
    response = client.post(
        reverse("qa-resolve", args=[minji_evaluation.pk]),
        {"outcome": "rejected", "note": "녹취 확인 결과 안내가 부족했습니다."} | _sheet(items),
    )
    assert response.status_code == 302
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.dispute_outcome == Evaluation.Outcome.REJECTED
    assert minji_evaluation.dispute_resolved_by == supervisor_user
    assert minji_evaluation.dispute_resolved_at is not None
    assert minji_evaluation.score == Decimal("62.5")
    assert minji_evaluation.score_before_dispute is None
    assert list(client.get(reverse("qa-home")).context["disputes"]) == []

    client.force_login(agent_user)
    page = client.get(reverse("qa-evaluation", args=[minji_evaluation.pk])).content.decode()
    assert "녹취 확인 결과 안내가 부족했습니다." in page
    assert 'id="score-change"' not in page


def test_the_resolve_page_shows_the_answers_as_they_stand_to_re_score(
    client, supervisor_user, disputed, items
):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-resolve", args=[disputed.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "감면 대상이 아니었습니다" in page
    form = response.context["form"]
    assert form[f"item_{items['accuracy'].pk}"].value() == "2"
    assert form[f"note_{items['accuracy'].pk}"].value() == "과태료 감면 안내 누락"
    # N/A is offered only where the question allows it; the privacy question is auto-fail.
    assert [v for v, _label in form.fields[f"item_{items['accuracy'].pk}"].choices][-1] == "na"
    assert "na" not in dict(form.fields[f"item_{items['greeting'].pk}"].choices)
    assert 'id="qa-live-score"' in page
    assert [item["auto_fail"] for item in response.context["items"]] == [False, False, True]


def test_upholding_re_scores_the_evaluation_and_the_agent_sees_the_change(
    client, agent_user, supervisor_user, disputed, items
):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("qa-resolve", args=[disputed.pk]),
        {"outcome": "upheld", "note": "감면 대상이 아니었음을 확인했습니다."}
        | _sheet(items, accuracy="4"),
    )
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert disputed.dispute_outcome == Evaluation.Outcome.UPHELD
    assert (disputed.score_before_dispute, disputed.score) == (Decimal("62.5"), Decimal("87.5"))
    assert disputed.auto_failed_before_dispute is False
    assert disputed.answers.get(item=items["accuracy"]).value == 4
    assert not disputed.dispute_open

    client.force_login(agent_user)
    page = client.get(reverse("qa-evaluation", args=[disputed.pk])).content.decode()
    assert "이의가 인정되어 점수가 62.5%에서 87.5%로 바뀌었습니다." in page
    mine = client.get(reverse("qa-mine")).content.decode()
    assert "이의가 인정되어 점수가 62.5%에서 87.5%로 바뀌었습니다." in mine


def test_an_upheld_re_score_counts_in_the_agents_qa_average(
    client, agent_user, supervisor_user, disputed, items
):
    client.force_login(supervisor_user)
    client.post(
        reverse("qa-resolve", args=[disputed.pk]),
        {"outcome": "upheld", "note": "인정"} | _sheet(items, accuracy="5"),
    )
    minji = next(a for a in agents_overview() if a.user_id == agent_user.pk)
    assert minji.qa_average == Decimal("100")
    weeks = scorecard_weeks()
    assert list(agent_qa_by_week(agent_user.agent, weeks).values()) == [(100.0, 1)]


def test_upholding_can_turn_an_auto_fail_around(client, supervisor_user, disputed, items):
    Evaluation.objects.filter(pk=disputed.pk).update(score=0, auto_failed=True)
    disputed.answers.filter(item=items["privacy"]).update(value=0)
    client.force_login(supervisor_user)
    client.post(
        reverse("qa-resolve", args=[disputed.pk]),
        {"outcome": "upheld", "note": "본인 확인 후 안내했습니다."} | _sheet(items),
    )
    disputed.refresh_from_db()
    assert (disputed.score_before_dispute, disputed.auto_failed_before_dispute) == (0, True)
    assert (disputed.score, disputed.auto_failed) == (Decimal("62.5"), False)
    assert disputed.passed is False  # 62.5 is below the pass mark of 80


def test_upholding_with_a_question_unanswered_changes_nothing(
    client, supervisor_user, disputed, items
):
    client.force_login(supervisor_user)
    data = {"outcome": "upheld", "note": "인정"} | _sheet(items, accuracy="5")
    del data[f"item_{items['greeting'].pk}"]
    response = client.post(reverse("qa-resolve", args=[disputed.pk]), data)
    assert response.status_code == 400
    assert "이의를 인정하려면 이 문항에 답하세요." in response.content.decode()
    disputed.refresh_from_db()
    assert disputed.dispute_open and disputed.score == Decimal("62.5")
    assert disputed.answers.get(item=items["accuracy"]).value == 2


def test_rejecting_refuses_changed_answers_rather_than_drop_them(
    client, supervisor_user, disputed, items
):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("qa-resolve", args=[disputed.pk]),
        {"outcome": "rejected", "note": "기각"} | _sheet(items, accuracy="5"),
    )
    assert response.status_code == 400
    disputed.refresh_from_db()
    assert disputed.dispute_open
    assert disputed.answers.get(item=items["accuracy"]).value == 2


def test_a_refused_re_score_leaves_the_evaluation_and_the_dispute_as_they_were(
    supervisor_user, disputed, items
):
    answers = {
        items["greeting"].pk: Answer(None),  # N/A is not allowed on the greeting
        items["accuracy"].pk: Answer(5),
        items["privacy"].pk: Answer(1),
    }
    with pytest.raises(ValidationError):
        evaluation_dispute_resolve(
            evaluation=disputed,
            resolver=supervisor_user,
            outcome="upheld",
            note="인정",
            answers=answers,
        )
    disputed.refresh_from_db()
    assert disputed.dispute_open and disputed.dispute_outcome == ""
    assert (disputed.score, disputed.score_before_dispute) == (Decimal("62.5"), None)
    assert sorted(disputed.answers.values_list("value", flat=True)) == [1, 1, 2]
    with pytest.raises(ValidationError):
        evaluation_dispute_resolve(
            evaluation=disputed, resolver=supervisor_user, outcome="upheld", note="인정"
        )
    disputed.refresh_from_db()
    assert disputed.dispute_open


def test_resolving_needs_an_outcome_and_a_note(client, supervisor_user, disputed, items):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("qa-resolve", args=[disputed.pk]), {"note": "확인"} | _sheet(items)
    )
    assert response.status_code == 400
    response = client.post(
        reverse("qa-resolve", args=[disputed.pk]), {"outcome": "rejected"} | _sheet(items)
    )
    assert response.status_code == 400
    disputed.refresh_from_db()
    assert disputed.dispute_resolved_at is None


def test_a_dispute_is_resolved_only_once(client, supervisor_user, disputed, items):
    client.force_login(supervisor_user)
    url = reverse("qa-resolve", args=[disputed.pk])
    client.post(url, {"outcome": "rejected", "note": "처음 결정"} | _sheet(items))
    response = client.post(
        url, {"outcome": "upheld", "note": "두 번째"} | _sheet(items, accuracy="5")
    )
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert (disputed.dispute_outcome, disputed.dispute_note) == ("rejected", "처음 결정")
    assert disputed.score == Decimal("62.5")


def test_the_resolve_page_without_an_open_dispute_goes_back_to_the_evaluation(
    client, supervisor_user, minji_evaluation
):
    client.force_login(supervisor_user)
    response = client.get(reverse("qa-resolve", args=[minji_evaluation.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("qa-evaluation", args=[minji_evaluation.pk])


def test_agents_and_anonymous_visitors_cannot_resolve(client, agent_user, disputed, items):
    url = reverse("qa-resolve", args=[disputed.pk])
    data = {"outcome": "upheld", "note": "스스로 인정"} | _sheet(items, accuracy="5")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(agent_user)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    disputed.refresh_from_db()
    assert disputed.dispute_open and disputed.score == Decimal("62.5")


def test_another_agent_cannot_answer_minjis_evaluation(client, other_agent_user, minji_evaluation):
    client.force_login(other_agent_user)
    assert client.post(reverse("qa-acknowledge", args=[minji_evaluation.pk])).status_code == 404
    url = reverse("qa-dispute", args=[minji_evaluation.pk])
    assert client.post(url, {"comment": "x"}).status_code == 404
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.acknowledged_at is None


def test_supervisors_cannot_answer_for_the_agent(client, supervisor_user, minji_evaluation):
    client.force_login(supervisor_user)
    assert client.post(reverse("qa-acknowledge", args=[minji_evaluation.pk])).status_code == 403
    url = reverse("qa-dispute", args=[minji_evaluation.pk])
    assert client.post(url, {"comment": "x"}).status_code == 403


def test_anonymous_visitors_cannot_answer_an_evaluation(client, minji_evaluation):
    for name in ("qa-acknowledge", "qa-dispute"):
        response = client.post(reverse(name, args=[minji_evaluation.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.acknowledged_at is None


def test_answering_takes_a_post(client, agent_user, minji_evaluation):
    client.force_login(agent_user)
    assert client.get(reverse("qa-acknowledge", args=[minji_evaluation.pk])).status_code == 405


def test_a_calibration_evaluation_cannot_be_acknowledged(client, agent_user, minji_evaluation):
    calibration = EvaluationFactory(
        form=minji_evaluation.form,
        contact=minji_evaluation.contact,
        evaluator=UserFactory(username="calibrator"),
        calibration=True,
    )
    client.force_login(agent_user)
    assert client.post(reverse("qa-acknowledge", args=[calibration.pk])).status_code == 404
    calibration.refresh_from_db()
    assert calibration.acknowledged_at is None


def test_the_answer_needs_the_csrf_token(agent_user, minji_evaluation):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent_user)
    assert strict.post(reverse("qa-acknowledge", args=[minji_evaluation.pk])).status_code == 403
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.acknowledged_at is None
