"""Review workflow, versions and safe rendering of the knowledge base."""

import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleReview
from knowledge.selectors import article_search
from knowledge.services import (
    article_restore,
    article_review,
    article_save,
    article_submit,
    article_unpublish,
)
from tests.factories import DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(agent_user):
    return article_save(
        title="대형폐기물 배출 방법",
        question="소파 버리려면 어떻게 해요?",
        answer="구청 누리집에서 **배출 신고** 후 스티커를 붙여 내놓습니다.",
        department=DepartmentFactory(name="자원순환과"),
        author=agent_user,
    )


def test_an_agent_submits_but_cannot_publish(agent_user, draft):
    article_submit(article=draft, user=agent_user)
    assert draft.status == Article.Status.IN_REVIEW
    with pytest.raises(PermissionError):
        article_review(article=draft, user=agent_user, approve=True)
    draft.refresh_from_db()
    assert draft.status == Article.Status.IN_REVIEW


def test_the_owning_departments_officer_publishes(draft):
    officer = OfficerFactory(department=draft.department).user
    article_review(article=draft, user=officer, approve=True, comment="확인")
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED and draft.published_at is not None
    assert draft.review_due is not None
    assert draft.versions.first().status == Article.Status.PUBLISHED


def test_an_officer_of_another_department_cannot_review(draft, other_officer_user):
    with pytest.raises(PermissionError):
        article_review(article=draft, user=other_officer_user, approve=True)


def test_asking_for_changes_needs_a_comment_and_sends_it_back_to_draft(draft, supervisor_user):
    article_submit(article=draft, user=supervisor_user)
    with pytest.raises(ValueError):
        article_review(article=draft, user=supervisor_user, approve=False, comment=" ")
    article_review(article=draft, user=supervisor_user, approve=False, comment="수수료 안내 추가")
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert draft.reviews.first().decision == ArticleReview.Decision.CHANGES_REQUESTED


def test_restoring_an_old_version_makes_a_new_version(draft, agent_user):
    first = draft.versions.get(number=1)
    article_save(
        article=draft,
        title=draft.title,
        question=draft.question,
        answer="잘못된 내용",
        department=draft.department,
        author=agent_user,
    )
    article_restore(article=draft, version=first, user=agent_user)
    draft.refresh_from_db()
    assert draft.answer == first.answer
    assert list(draft.versions.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
    assert draft.status == Article.Status.DRAFT


def test_answers_render_as_sanitised_html(agent_user):
    article = article_save(
        title="t",
        question="q",
        author=agent_user,
        answer="**굵게** <script>alert(1)</script> [링크](javascript:alert(1)) [정부24](https://www.gov.kr)",
    )
    html = article.answer_html
    assert "<strong>굵게</strong>" in html
    assert "<script" not in html and "javascript:" not in html
    assert 'href="https://www.gov.kr"' in html


def test_a_list_written_under_a_sentence_renders_as_a_list(agent_user):
    article = article_save(
        title="t",
        question="q",
        author=agent_user,
        answer="발급 방법입니다.\n- 정부24: 무료\n- 주민센터: 400원",
    )
    assert "<ul>\n<li>정부24: 무료</li>\n<li>주민센터: 400원</li>\n</ul>" in article.answer_html


@pytest.fixture
def live(draft, supervisor_user):
    article_review(article=draft, user=supervisor_user, approve=True)
    draft.refresh_from_db()
    return draft


def _edit(article: Article, user, answer: str) -> Article:
    return article_save(
        article=Article.objects.get(pk=article.pk),
        title=article.title,
        question=article.question,
        answer=answer,
        department=article.department,
        tags=["폐기물 스티커"],
        author=user,
    )


def test_an_agents_edit_of_a_published_article_waits_for_review_while_the_old_text_serves(
    client, live, agent_user
):
    _edit(live, agent_user, "동 주민센터 **키오스크**에서 결제하면 됩니다.")
    live.refresh_from_db()
    assert live.status == Article.Status.PUBLISHED
    assert "배출 신고" in live.answer and live.tags == []
    pending = live.pending_version
    assert pending.status == Article.Status.DRAFT and "키오스크" in pending.answer
    page = client.get(reverse("faq-article", args=[live.pk])).content.decode()
    assert "배출 신고" in page and "키오스크" not in page
    found = [a.pk for a, _s, _snip in article_search(query="배출 신고", staff=False)]
    assert live.pk in found
    assert not article_search(query="키오스크", staff=False)

    article_submit(article=live, user=agent_user)
    live.refresh_from_db()
    assert live.status == Article.Status.PUBLISHED
    assert live.pending_version.status == Article.Status.IN_REVIEW


def test_a_supervisor_publishes_the_pending_edit_and_the_faq_serves_it(
    client, live, agent_user, supervisor_user
):
    _edit(live, agent_user, "동 주민센터 **키오스크**에서 결제하면 됩니다.")
    live.refresh_from_db()
    article_submit(article=live, user=agent_user)
    with pytest.raises(PermissionError):
        article_review(article=live, user=agent_user, approve=True)
    article_review(article=live, user=supervisor_user, approve=True)
    live.refresh_from_db()
    assert live.status == Article.Status.PUBLISHED and live.pending_version is None
    assert live.tags == ["폐기물 스티커"]
    page = client.get(reverse("faq-article", args=[live.pk])).content.decode()
    assert "<strong>키오스크</strong>" in page
    assert [a.pk for a, _s, _snip in article_search(query="키오스크", staff=False)] == [live.pk]


def test_changes_requested_on_a_pending_edit_leave_the_published_article_online(
    live, agent_user, supervisor_user
):
    _edit(live, agent_user, "틀린 안내")
    live.refresh_from_db()
    article_submit(article=live, user=agent_user)
    article_review(article=live, user=supervisor_user, approve=False, comment="근거 필요")
    live.refresh_from_db()
    assert live.status == Article.Status.PUBLISHED and "배출 신고" in live.answer
    assert live.pending_version.status == Article.Status.DRAFT


def test_only_a_publisher_takes_a_published_article_offline(live, agent_user, supervisor_user):
    with pytest.raises(PermissionError):
        article_unpublish(article=live, user=agent_user)
    article_unpublish(article=live, user=supervisor_user)
    live.refresh_from_db()
    assert live.status == Article.Status.DRAFT
    assert not article_search(query="배출 신고", staff=False)
