"""Search results say why they matched: the API, the console's suggestions and the FAQ."""

import pytest
from django.urls import reverse

from callcenter.models import Message
from knowledge.models import Article, SearchQueryLog
from knowledge.search import search_index_rebuild
from knowledge.selectors import suggestions_for_contact
from knowledge.services import article_save
from tests import factories
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db

WHY_KEYS = {"terms", "similar", "translated", "corrected", "learned"}
HINT = ("Found through similar words", "비슷한 말로 찾은 결과")  # English, Korean
ENGLISH_HINT = ("Found through the English words", "영어 단어로 찾은 결과")


@pytest.fixture
def articles(supervisor_user) -> dict[str, Article]:
    category = category_get_or_create_path(path="환경·청소/생활폐기물")
    made = {
        "waste": article_save(
            title="생활폐기물 배출 요일",
            question="폐기물은 언제 내놓나요?",
            answer="생활폐기물은 일요일부터 목요일까지 저녁 8시 이후 집 앞에 내놓습니다.",
            category=category,
            status=Article.Status.PUBLISHED,
            author=supervisor_user,
        ),
        "copy": article_save(
            title="주민등록등본 발급",
            question="등본 떼려면?",
            answer="정부24에서 등본을 무료로 발급받을 수 있습니다.",
            category=category_get_or_create_path(path="일반행정/민원서류"),
            status=Article.Status.PUBLISHED,
            author=supervisor_user,
        ),
    }
    search_index_rebuild()
    return made


def first_result(client, query: str) -> dict:
    response = client.get(reverse("knowledge-search"), {"q": query})
    assert response.status_code == 200
    return response.json()["results"][0]


def test_an_api_result_says_which_of_the_askers_words_it_matched(client, articles):
    result = first_result(client, "등본 발급")

    assert result["id"] == articles["copy"].pk
    assert set(result["why"]) == WHY_KEYS
    assert {"등본", "발급"} <= set(result["why"]["terms"])
    assert result["why"]["learned"] == 0
    assert not SearchQueryLog.objects.get().weak


def test_a_similar_word_finds_the_official_term_and_says_so(client, articles):
    result = first_result(client, "쓰레기 배출")

    assert result["id"] == articles["waste"].pk
    assert {"word": "쓰레기", "term": "폐기물"} in result["why"]["similar"]
    assert "배출" in result["why"]["terms"]
    assert not SearchQueryLog.objects.get().weak


def test_a_corrected_spelling_says_so_and_is_logged_as_weak(client, articles):
    result = first_result(client, "둥본")

    assert result["id"] == articles["copy"].pk
    assert result["why"]["corrected"] == [{"word": "둥본", "term": "등본"}]
    assert result["why"]["terms"] == []
    logged = SearchQueryLog.objects.get()
    assert (logged.query, logged.results, logged.weak) == ("둥본", 1, True)


def test_the_faq_marks_a_result_found_only_through_other_words(client, articles):
    response = client.get(reverse("faq"), {"q": "trash"})

    page = response.content.decode()
    assert response.status_code == 200
    assert any(hint in page for hint in ENGLISH_HINT)
    assert not any(hint in page for hint in HINT)
    assert f"/faq/{articles['waste'].pk}/?q=trash" in page
    assert "<mark>생활폐기물</mark>" in page


def test_the_faq_highlights_a_similar_word_beside_the_askers_own(client, articles):
    response = client.get(reverse("faq"), {"q": "쓰레기 배출"})

    page = response.content.decode()
    assert "<mark>폐기물</mark>" in page or "<mark>생활폐기물</mark>" in page
    assert not any(hint in page for hint in HINT)  # the asker's own word 배출 is in it
    assert (
        f"/faq/{articles['waste'].pk}/?q=%EC%93%B0%EB%A0%88%EA%B8%B0%20%EB%B0%B0%EC%B6%9C" in page
    )


def test_the_faq_highlights_the_askers_words_without_the_hint(client, articles):
    response = client.get(reverse("faq"), {"q": "등본 발급"})

    page = response.content.decode()
    assert "<mark>등본</mark>" in page
    assert not any(hint in page for hint in HINT)
    assert not SearchQueryLog.objects.get().weak


def test_the_faq_escapes_everything_in_the_snippet_but_its_marks(client, supervisor_user):
    article_save(
        title="등본 안내",
        question="등본?",
        answer="등본은 <script>alert(1)</script> 정부24에서",
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )
    search_index_rebuild()

    page = client.get(reverse("faq"), {"q": "등본"}).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


def test_console_suggestions_carry_why(articles):
    contact = factories.ContactFactory()
    Message.objects.create(contact=contact, sender="citizen", text="등본 떼려면 어떻게 해요?")

    _query, results = suggestions_for_contact(contact.pk)

    assert results[0]["id"] == articles["copy"].pk
    assert set(results[0]["why"]) == WHY_KEYS
    assert "등본" in results[0]["why"]["terms"]
