import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleFeedback
from knowledge.services import article_save
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(supervisor_user):
    return article_save(
        title="주민등록등본 발급 방법",
        question="등본 떼려면?",
        answer="**정부24**에서 무료로 발급됩니다.",
        category=category_get_or_create_path(path="일반행정/민원서류"),
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )


@pytest.fixture
def draft(agent_user):
    return article_save(title="초안 문서", question="?", answer="미공개 답변", author=agent_user)


@pytest.mark.parametrize("name", ["knowledge-list", "knowledge-new"])
def test_staff_pages_need_login(client, name):
    assert client.get(reverse(name)).status_code == 302


def test_the_report_is_for_supervisors(client, agent_user, supervisor_user):
    client.force_login(agent_user)
    assert client.get(reverse("knowledge-report")).status_code == 403
    client.force_login(supervisor_user)
    assert client.get(reverse("knowledge-report")).status_code == 200


def test_an_agent_writes_a_draft_that_stays_unpublished(client, agent_user):
    client.force_login(agent_user)
    category = category_get_or_create_path(path="환경·청소/대형폐기물")
    response = client.post(
        reverse("knowledge-new"),
        {
            "title": "소파 버리기",
            "question": "소파 어떻게 버려요?",
            "answer": "배출 신고 후 배출",
            "category": category.pk,
            "tags": "대형폐기물, 소파",
            "synonyms": "폐가구",
        },
    )
    article = Article.objects.get(title="소파 버리기")
    assert response.status_code == 302
    assert article.status == Article.Status.DRAFT
    assert article.tags == ["대형폐기물", "소파"] and article.synonyms == ["폐가구"]


def test_an_agent_cannot_approve_through_the_page(client, agent_user, draft):
    client.force_login(agent_user)
    response = client.post(reverse("knowledge-review", args=[draft.pk]), {"decision": "approve"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_a_supervisor_approves_through_the_page(client, supervisor_user, draft):
    client.force_login(supervisor_user)
    client.post(reverse("knowledge-review", args=[draft.pk]), {"decision": "approve"})
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED


def test_history_shows_the_changes_between_versions(client, agent_user, published):
    article_save(
        article=published,
        title=published.title,
        question=published.question,
        answer="정부24 또는 무인민원발급기",
        category=published.category,
        status=published.status,
        author=agent_user,
    )
    client.force_login(agent_user)
    page = client.get(
        reverse("knowledge-diff", args=[published.pk]), {"a": 1, "b": 2}
    ).content.decode()
    assert "-**정부24**에서 무료로 발급됩니다." in page
    assert "+정부24 또는 무인민원발급기" in page


def test_the_public_faq_shows_published_answers_only(client, published, draft):
    assert client.get(reverse("faq-article", args=[published.pk])).status_code == 200
    assert client.get(reverse("faq-article", args=[draft.pk])).status_code == 404
    page = client.get(reverse("faq"), {"q": "등본"}).content.decode()
    assert "주민등록등본 발급 방법" in page and "초안 문서" not in page
    article_page = client.get(reverse("faq-article", args=[published.pk])).content.decode()
    assert "<strong>정부24</strong>" in article_page


def test_was_this_helpful_is_counted(client, published):
    response = client.post(reverse("faq-helpful", args=[published.pk]), {"helpful": "yes"})
    assert response.status_code == 302
    assert ArticleFeedback.objects.get().helpful is True
    assert (
        client.post(reverse("faq-helpful", args=[published.pk]), {"helpful": "maybe"}).status_code
        == 400
    )


def test_the_faq_speaks_english_on_request(client, published):
    client.post(reverse("set_language"), {"language": "en", "next": "/faq/"})
    assert "Frequently asked questions" in client.get(reverse("faq")).content.decode()


def test_english_readers_get_the_english_translation(client, published, supervisor_user):
    english = article_save(
        title="How to get a resident registration copy",
        question="Where can I get one?",
        answer="Online at Gov24, free of charge.",
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )
    english.language, english.translation_of = "en", published
    english.save(update_fields=["language", "translation_of"])
    client.post(reverse("set_language"), {"language": "en", "next": "/faq/"})
    page = client.get(reverse("faq-article", args=[published.pk])).content.decode()
    assert "How to get a resident registration copy" in page


def test_saving_a_published_article_on_the_page_keeps_it_on_the_faq(
    client, agent_user, supervisor_user, published
):
    client.force_login(agent_user)
    form = {
        "title": published.title,
        "question": published.question,
        "answer": "무인민원발급기에서도 뗄 수 있습니다.",
        "category": published.category_id,
    }
    assert client.post(reverse("knowledge-edit", args=[published.pk]), form).status_code == 302
    published.refresh_from_db()
    assert published.status == Article.Status.PUBLISHED
    faq = client.get(reverse("faq-article", args=[published.pk])).content.decode()
    assert "<strong>정부24</strong>" in faq and "무인민원발급기" not in faq
    detail = client.get(reverse("knowledge-article", args=[published.pk])).content.decode()
    assert 'id="pending-edit"' in detail and "무인민원발급기" in detail
    editor = client.get(reverse("knowledge-edit", args=[published.pk])).content.decode()
    assert "무인민원발급기" in editor
    assert client.post(reverse("knowledge-unpublish", args=[published.pk])).status_code == 403

    client.force_login(supervisor_user)
    client.post(reverse("knowledge-review", args=[published.pk]), {"decision": "approve"})
    faq = client.get(reverse("faq-article", args=[published.pk])).content.decode()
    assert "무인민원발급기" in faq
    client.post(reverse("knowledge-unpublish", args=[published.pk]))
    assert client.get(reverse("faq-article", args=[published.pk])).status_code == 404
