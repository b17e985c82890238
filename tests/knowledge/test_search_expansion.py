"""What knowledge.search adds to BM25F for questions whose words are not the article's:
similar words from Kiwi's CoNg embeddings, English through the city glossary, and the
"why it matched" every result carries."""

import pytest
from django.urls import reverse

from knowledge.models import Article
from knowledge.search import analysis, search_hits, search_index_reset
from knowledge.search.expansion import similar_terms, translations
from knowledge.services import article_save
from tests.knowledge.test_search import ids, kb  # noqa: F401
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db


def _article(title: str, question: str, answer: str, user) -> Article:
    return article_save(
        title=title,
        question=question,
        answer=answer,
        category=category_get_or_create_path(path="환경·청소/폐기물"),
        tags=[],
        synonyms=[],
        status=Article.Status.PUBLISHED,
        author=user,
    )


@pytest.fixture
def switched():
    """FEATURES as the test sets them, restored afterwards."""
    saved = dict(analysis.FEATURES)
    yield analysis.FEATURES
    analysis.FEATURES.update(saved)


def test_an_everyday_word_meets_the_official_one_and_says_so(supervisor_user, switched):
    official = _article(
        "폐기물 처리 안내",
        "폐기물은 어떻게 처리하나요?",
        "폐기물은 구청 청소과에서 처리합니다.",
        supervisor_user,
    )
    _article(
        "민원 처리 기간",
        "민원 처리는 며칠 걸리나요?",
        "민원 처리 기간은 법정 기간을 따릅니다.",
        supervisor_user,
    )
    search_index_reset()
    hits = search_hits(query="쓰레기 처리", limit=5)
    assert hits[0].article == official
    assert {"word": "쓰레기", "term": "폐기물"} in hits[0].why["similar"]
    assert hits[0].why["terms"] == ["처리"]
    assert "<mark>폐기물</mark>" in hits[0].snippet

    switched["similar"] = False  # without the expansion the two articles tie on 처리
    assert {"word": "쓰레기", "term": "폐기물"} not in search_hits(query="쓰레기 처리")[0].why[
        "similar"
    ]


def test_a_similar_word_alone_finds_nothing_it_only_ranks(supervisor_user):
    _article(
        "폐기물 처리 안내", "폐기물 버리는 법", "폐기물은 구청에서 처리합니다.", supervisor_user
    )
    search_index_reset()
    # 쓰레기 is near 폐기물, but a question made only of near words is not an answer.
    assert search_hits(query="쓰레기", limit=5) == []


def test_similar_words_come_from_the_model_and_only_those_the_index_has(supervisor_user):
    class Index:
        def __init__(self, words):
            self.words = words

        def df(self, term):
            return 1 if term in self.words else 0

    near = similar_terms("과태료", "NNG", Index({"범칙금", "벌금", "주차"}))
    assert [term for term, _ in near] == ["범칙금", "벌금"]
    assert all(0.55 <= score <= 1 for _, score in near)
    assert similar_terms("과태료", "", Index({"범칙금"})) == []  # compounds have no embedding
    assert similar_terms("없는말이다", "NNG", Index({"범칙금"})) == []


def test_english_words_and_phrases_are_translated_longest_first():
    found = dict(translations("I lost my passport, where is the parking lot?"))
    assert [m.term for m in found["passport"]] == ["여권"]
    assert [m.term for m in found["parking lot"]] == ["주차장"]
    assert "parking" not in found  # the longer phrase won
    assert "lost" in found
    assert [w for w, _ in translations("recycling bins")] == ["recycling", "bins"]
    assert translations("그냥 한국어 질문") == []


def test_a_question_in_english_finds_the_korean_article(kb):  # noqa: F811
    hits = search_hits(query="How do I renew my passport?", limit=3)
    assert hits[0].article.external_id == "kb-0004"
    assert {"word": "passport", "term": "여권"} in hits[0].why["translated"]
    assert not hits[0].weak
    assert ids("bulky waste pickup")[0] == "kb-0021"
    assert ids("음식물 food waste 어떻게 버려요")[0] == "kb-0022"


def test_english_filler_words_alone_find_nothing(kb):  # noqa: F811
    assert ids("how do I") == []
    assert ids("what is this") == []


def test_switching_every_feature_off_gives_plain_bm25f(kb, switched):  # noqa: F811
    for name in switched:
        switched[name] = False
    assert ids("How do I renew my passport?") == []
    assert ids("등본")[0] == "kb-0001"


def test_the_api_says_why_each_result_matched(kb, client):  # noqa: F811
    body = client.get(reverse("knowledge-search"), {"q": "passport 재발급"}).json()
    first = body["results"][0]
    assert first["external_id"] == "kb-0004"
    assert set(first["why"]) == {"terms", "similar", "translated", "corrected", "learned"}
    assert "재발급" in first["why"]["terms"] or "발급" in first["why"]["terms"]
    assert {"word": "passport", "term": "여권"} in first["why"]["translated"]
    assert first["why"]["learned"] == 0


def test_a_corrected_spelling_is_reported(kb):  # noqa: F811
    hits = search_hits(query="가로둥 고장", limit=3)
    assert hits[0].article.external_id == "kb-0019"
    assert hits[0].why["corrected"] == [{"word": "가로둥", "term": "가로등"}]
    assert hits[0].why["terms"] == ["고장"]
