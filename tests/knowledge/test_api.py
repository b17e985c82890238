import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleUse
from knowledge.services import article_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(supervisor_user):
    published = article_save(
        title="주민등록등본 발급",
        question="등본 떼려면?",
        answer="정부24에서 등본을 무료로 발급받을 수 있습니다.",
        synonyms=["등본 떼기"],
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )
    draft = article_save(
        title="등본 수수료 변경(초안)",
        question="등본 수수료?",
        answer="검토 중인 내용입니다.",
        status=Article.Status.DRAFT,
        author=supervisor_user,
    )
    return published, draft


def test_search_answers_in_the_agreed_shape(client, articles):
    body = client.get(reverse("knowledge-search"), {"q": "등본", "limit": 5}).json()
    assert set(body) == {"query", "results", "took_ms"}
    result = body["results"][0]
    assert {"id", "external_id", "title", "snippet", "score", "status", "url"} <= set(result)
    assert "<mark>등본</mark>" in result["snippet"]


def test_anonymous_callers_see_only_published_articles(client, articles):
    titles = [
        r["title"] for r in client.get(reverse("knowledge-search"), {"q": "등본"}).json()["results"]
    ]
    assert titles == ["주민등록등본 발급"]


def test_agents_see_drafts_flagged(client, agent_user, articles):
    client.force_login(agent_user)
    results = client.get(reverse("knowledge-search"), {"q": "등본"}).json()["results"]
    assert {r["status"] for r in results} == {"published", "draft"}


def test_a_bad_limit_is_a_400_with_a_reason(client):
    response = client.get(reverse("knowledge-search"), {"q": "등본", "limit": "many"})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_inserting_an_article_counts_a_use(client, agent_user, articles):
    client.force_login(agent_user)
    response = client.post(reverse("knowledge-article-use", args=[articles[0].pk]))
    assert response.status_code == 201
    assert ArticleUse.objects.get().user == agent_user


def test_only_staff_count_uses(client, articles):
    response = client.post(reverse("knowledge-article-use", args=[articles[0].pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("category", ["admin-docs", "일반행정", "일반행정/민원서류"])
def test_the_category_filter_takes_a_code_a_name_or_a_path(client, supervisor_user, category):
    from tickets.services import category_get_or_create_path

    top = category_get_or_create_path(path="일반행정", code="admin-docs")
    leaf = category_get_or_create_path(path="일반행정/민원서류")
    assert leaf.parent == top
    other = category_get_or_create_path(path="세무/자동차세")
    for title, where in (("주민등록등본 발급", leaf), ("등본 관련 세금", other)):
        article_save(
            title=title,
            question="등본?",
            answer="등본 안내",
            category=where,
            status=Article.Status.PUBLISHED,
            author=supervisor_user,
        )
    body = client.get(reverse("knowledge-search"), {"q": "등본", "category": category}).json()
    assert [r["title"] for r in body["results"]] == ["주민등록등본 발급"]


def test_an_unknown_category_finds_nothing(client, articles):
    body = client.get(reverse("knowledge-search"), {"q": "등본", "category": "없는분류"}).json()
    assert body["results"] == []
