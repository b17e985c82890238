"""The agent's answer to an evaluation (acknowledge, or dispute with a comment) and the
supervisor's resolution of a dispute."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from callcenter.models import Evaluation
from tests.factories import UserFactory
from tests.factories_qa import EvaluationFactory, HandledContactFactory


@pytest.fixture
def minji_evaluation(agent_user, supervisor_user):
    """Minji's call, scored 62.5 % by Sora and submitted."""
    return EvaluationFactory(
        contact=HandledContactFactory(agent=agent_user.agent),
        evaluator=supervisor_user,
        score=Decimal("62.5"),
    )


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
    client, agent_user, supervisor_user, minji_evaluation
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
    detail = client.get(reverse("qa-evaluation", args=[minji_evaluation.pk]))
    assert detail.context["resolve_form"] is not None
    response = client.post(
        reverse("qa-resolve", args=[minji_evaluation.pk]),
        {"outcome": "upheld", "note": "녹취 확인 결과 타당합니다. 코칭에서 제외합니다."},
    )
    assert response.status_code == 302
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.dispute_outcome == Evaluation.Outcome.UPHELD
    assert minji_evaluation.dispute_resolved_by == supervisor_user
    assert minji_evaluation.dispute_resolved_at is not None
    assert list(client.get(reverse("qa-home")).context["disputes"]) == []

    client.force_login(agent_user)
    page = client.get(reverse("qa-evaluation", args=[minji_evaluation.pk])).content.decode()
    assert "녹취 확인 결과 타당합니다." in page


def test_resolving_needs_an_outcome_and_a_note(
    client, supervisor_user, minji_evaluation, agent_user
):
    Evaluation.objects.filter(pk=minji_evaluation.pk).update(
        disputed_at=minji_evaluation.submitted_at, dispute_comment="이의"
    )
    client.force_login(supervisor_user)
    response = client.post(reverse("qa-resolve", args=[minji_evaluation.pk]), {"note": "확인"})
    assert response.status_code == 400
    minji_evaluation.refresh_from_db()
    assert minji_evaluation.dispute_resolved_at is None


def test_a_dispute_is_resolved_only_once(client, supervisor_user, minji_evaluation):
    Evaluation.objects.filter(pk=minji_evaluation.pk).update(
        disputed_at=minji_evaluation.submitted_at, dispute_comment="이의"
    )
    client.force_login(supervisor_user)
    url = reverse("qa-resolve", args=[minji_evaluation.pk])
    client.post(url, {"outcome": "rejected", "note": "처음 결정"})
    client.post(url, {"outcome": "upheld", "note": "두 번째"})
    minji_evaluation.refresh_from_db()
    assert (minji_evaluation.dispute_outcome, minji_evaluation.dispute_note) == (
        "rejected",
        "처음 결정",
    )


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
