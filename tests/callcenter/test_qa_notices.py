"""The agent's "My evaluations" badge: new evaluations to answer and dispute resolutions
not read yet."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from callcenter.models import Evaluation
from callcenter.selectors_qa import agent_news_count
from tests.factories import UserFactory
from tests.factories_qa import EvaluationFactory, HandledContactFactory


def _evaluation(agent_user, **extra) -> Evaluation:
    return EvaluationFactory(
        contact=HandledContactFactory(agent=agent_user.agent), score=Decimal(75), **extra
    )


def _badge(page: str) -> str | None:
    start = page.find('id="qa-news-badge"')
    if start < 0:
        return None
    return page[start : page.find("</a>", start)]


@pytest.fixture
def minji_news(agent_user):
    """Two evaluations Minji has not answered, one she acknowledged, one disputed and
    still open, one calibration exercise and a draft (never hers to see)."""
    now = timezone.now()
    fresh = [_evaluation(agent_user), _evaluation(agent_user)]
    _evaluation(agent_user, acknowledged_at=now)
    _evaluation(agent_user, disputed_at=now, dispute_comment="이의")
    contact = fresh[0].contact
    EvaluationFactory(
        form=fresh[0].form, contact=contact, evaluator=UserFactory(), calibration=True
    )
    EvaluationFactory(
        contact=HandledContactFactory(agent=agent_user.agent),
        status=Evaluation.Status.DRAFT,
        submitted_at=None,
        score=None,
    )
    return fresh


def test_the_agent_sees_how_many_evaluations_wait_for_their_answer(client, agent_user, minji_news):
    client.force_login(agent_user)
    badge = _badge(client.get(reverse("qa-mine")).content.decode())
    assert badge is not None
    assert '<span aria-hidden="true">2</span>' in badge
    assert '<span class="visually-hidden">새 알림 2건</span>' in badge


def test_the_badge_in_english_says_how_many_are_new(client, agent_user, minji_news):
    client.force_login(agent_user)
    client.cookies.load({"django_language": "en"})
    page = client.get(reverse("qa-mine"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="visually-hidden">2 new</span>' in _badge(page)


def test_answering_an_evaluation_takes_it_off_the_badge(client, agent_user, minji_news):
    client.force_login(agent_user)
    client.post(reverse("qa-acknowledge", args=[minji_news[0].pk]))
    client.post(reverse("qa-dispute", args=[minji_news[1].pk]), {"comment": "다시 봐 주세요"})
    assert _badge(client.get(reverse("qa-mine")).content.decode()) is None


def test_a_resolution_counts_until_the_agent_opens_the_evaluation(client, agent_user):
    now = timezone.now()
    resolved = _evaluation(
        agent_user,
        disputed_at=now,
        dispute_comment="이의",
        dispute_outcome=Evaluation.Outcome.REJECTED,
        dispute_note="기각합니다",
        dispute_resolved_at=now,
    )
    client.force_login(agent_user)
    mine = client.get(reverse("qa-mine")).content.decode()
    assert '<span aria-hidden="true">1</span>' in _badge(mine)
    assert '<span class="badge text-bg-warning">신규</span>' in mine  # the row, marked new
    client.get(reverse("qa-evaluation", args=[resolved.pk]))
    resolved.refresh_from_db()
    assert resolved.dispute_resolution_seen_at is not None
    assert _badge(client.get(reverse("qa-mine")).content.decode()) is None


def test_a_supervisor_opening_the_evaluation_does_not_mark_it_read(
    client, agent_user, supervisor_user
):
    now = timezone.now()
    resolved = _evaluation(
        agent_user,
        evaluator=supervisor_user,
        disputed_at=now,
        dispute_comment="이의",
        dispute_outcome=Evaluation.Outcome.REJECTED,
        dispute_note="기각합니다",
        dispute_resolved_at=now,
    )
    client.force_login(supervisor_user)
    client.get(reverse("qa-evaluation", args=[resolved.pk]))
    assert agent_news_count(agent_user) == 1


def test_the_badge_is_one_count_query(agent_user, minji_news, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert agent_news_count(agent_user) == 2


def test_another_agents_evaluations_are_not_in_minjis_badge(
    client, agent_user, other_agent_user, minji_news
):
    client.force_login(other_agent_user)
    assert _badge(client.get(reverse("qa-mine")).content.decode()) is None


def test_supervisors_see_no_badge(client, supervisor_user, minji_news):
    client.force_login(supervisor_user)
    page = client.get(reverse("qa-home")).content.decode()
    assert _badge(page) is None
