"""Learning from choices: agents' insertions and citizens' "helpful" teach the search which
article answers which words (knowledge.search.learned), visible and resettable by managers."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge.models import Article, ArticleChoice
from knowledge.search import search_hits
from knowledge.search.learned import (
    ARTICLE_CAP,
    HALF_LIFE_DAYS,
    PAIR_CAP,
    evidence_for,
    learned_for_article,
    learned_reset,
)
from knowledge.services import article_choice_record, article_save
from tests import factories
from tests.knowledge.test_search import kb  # noqa: F401
from tickets.services import category_get_or_create_path

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_learned_table():
    learned_reset()
    yield
    learned_reset()


@pytest.fixture
def passport(supervisor_user) -> Article:
    return article_save(
        title="여권 신규 발급과 재발급",
        question="여권 만들려면 어디로 가나요?",
        answer="구청 민원여권과에서 신청합니다.",
        category=category_get_or_create_path(path="일반행정/여권"),
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )


@pytest.fixture
def parking(supervisor_user) -> Article:
    return article_save(
        title="거주자우선주차 신청",
        question="집 앞 골목 주차 구획 신청은?",
        answer="구청 주차관리과에서 신청합니다.",
        category=category_get_or_create_path(path="교통/주차"),
        status=Article.Status.PUBLISHED,
        author=supervisor_user,
    )


def agents(n: int) -> list:
    return [
        factories.AgentFactory(user__username=f"agent{i}", display_name=f"상담사{i}").user
        for i in range(n)
    ]


def choose(article: Article, query: str, user, *, days_ago: float = 0) -> ArticleChoice:
    choice = article_choice_record(article=article, query=query, source="search", user=user)
    if days_ago:
        ArticleChoice.objects.filter(pk=choice.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        learned_reset()
    return choice


def use(client, article: Article, **data):
    return client.post(reverse("knowledge-article-use", args=[article.pk]), data)


# --- recording ------------------------------------------------------------------------------


def test_an_agent_inserting_an_article_after_a_search_records_the_query(
    client, agent_user, passport
):
    client.force_login(agent_user)
    response = use(client, passport, query="여권 잃어버렸어요", source="search")
    assert response.status_code == 201
    choice = ArticleChoice.objects.get()
    assert (choice.article, choice.user, choice.chooser) == (
        passport,
        agent_user,
        f"user:{agent_user.pk}",
    )
    assert choice.source == "search" and choice.query == "여권 잃어버렸어요"
    assert "여권" in choice.terms


def test_a_suggestion_inserted_is_recorded_as_a_suggestion(client, supervisor_user, passport):
    client.force_login(supervisor_user)
    assert use(client, passport, query="여권 만료", source="suggestion").status_code == 201
    assert ArticleChoice.objects.get().source == "suggestion"


def test_an_insertion_without_a_query_records_no_choice(client, agent_user, passport):
    client.force_login(agent_user)
    assert use(client, passport).status_code == 201
    assert not ArticleChoice.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"query": "여권", "source": "clicked"},
        {"query": "여권"},
        {"source": "helpful"},
        {"query": "여" * 201, "source": "search"},
    ],
)
def test_a_bad_source_or_an_overlong_query_is_refused(client, agent_user, passport, data):
    client.force_login(agent_user)
    response = use(client, passport, **data)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not ArticleChoice.objects.exists() and not passport.uses.exists()


def test_other_roles_cannot_record_choices(client, officer_user, passport):
    client.force_login(officer_user)
    assert use(client, passport, query="여권", source="search").status_code == 403
    client.logout()
    assert use(client, passport, query="여권", source="search").status_code == 302
    assert not ArticleChoice.objects.exists()


def test_registration_numbers_are_masked_and_never_become_terms(agent_user, passport):
    choice = article_choice_record(
        article=passport, query="900101-1234567 여권 재발급", source="search", user=agent_user
    )
    assert "1234567" not in choice.query and "900101-1******" in choice.query
    assert not [term for term in choice.terms if any(ch.isdigit() for ch in term)]
    assert "여권" in choice.terms


def test_a_query_without_words_stores_nothing(agent_user, passport):
    for query in ("  ", "?!"):
        recorded = article_choice_record(
            article=passport, query=query, source="search", user=agent_user
        )
        assert recorded is None
    assert not ArticleChoice.objects.exists()


def test_a_citizen_marking_a_searched_answer_helpful_teaches_the_search(client, passport):
    page = client.get(reverse("faq-article", args=[passport.pk]), {"q": "여권 잃어버림"})
    assert 'name="q" value="여권 잃어버림"' in page.content.decode()
    response = client.post(
        reverse("faq-helpful", args=[passport.pk]), {"helpful": "yes", "q": "여권 잃어버림"}
    )
    assert response.status_code == 302
    choice = ArticleChoice.objects.get()
    session_key = client.session.session_key
    assert choice.chooser == "session:" + hashlib.sha256(session_key.encode()).hexdigest()
    assert choice.source == "helpful" and choice.user is None
    assert passport.feedback.get().helpful


def test_a_no_or_a_visit_without_a_search_teaches_nothing(client, passport):
    client.post(reverse("faq-helpful", args=[passport.pk]), {"helpful": "no", "q": "여권"})
    client.post(reverse("faq-helpful", args=[passport.pk]), {"helpful": "yes"})
    assert passport.feedback.count() == 2
    assert not ArticleChoice.objects.exists()


# --- the rules ------------------------------------------------------------------------------


def test_one_user_choosing_an_article_500_times_is_no_evidence(agent_user, passport):
    for _ in range(500):
        choose(passport, "여권 분실", agent_user)
    assert evidence_for(["여권", "분실"]) == {}
    words = {row["term"]: row for row in learned_for_article(passport.pk)}
    assert words["분실"]["choosers"] == 1 and not words["분실"]["counted"]


def test_two_different_choosers_make_evidence(agent_user, other_agent_user, passport):
    choose(passport, "여권 분실", agent_user)
    choose(passport, "여권 분실", other_agent_user)
    score, choosers = evidence_for(["분실"])[passport.pk]
    assert choosers == 2 and score > 0
    assert evidence_for(["재발급"]) == {}


def test_an_agent_and_a_citizen_are_two_choosers(agent_user, passport):
    choose(passport, "여권 분실", agent_user)
    article_choice_record(
        article=passport, query="여권 분실했어요", source="helpful", session_key="citizen-1"
    )
    assert evidence_for(["분실"])[passport.pk][1] == 2


def test_old_choices_weigh_less_and_very_old_ones_nothing(agent_user, other_agent_user, passport):
    choose(passport, "여권 분실", agent_user)
    choose(passport, "여권 분실", other_agent_user)
    fresh = evidence_for(["분실"])[passport.pk][0]
    ArticleChoice.objects.update(created_at=timezone.now() - timedelta(days=HALF_LIFE_DAYS))
    learned_reset()
    assert evidence_for(["분실"])[passport.pk][0] == pytest.approx(fresh / 2, rel=0.01)
    ArticleChoice.objects.update(created_at=timezone.now() - timedelta(days=800))
    learned_reset()
    assert evidence_for(["분실"]) == {}


def test_evidence_is_capped_per_word_and_per_article(passport):
    people = agents(12)
    for person in people:
        choose(passport, "여권 분실 재발급 신청 방법 서류 준비", person)
    found = evidence_for(["분실"])[passport.pk]
    assert found == (pytest.approx(PAIR_CAP), 12)
    everything = evidence_for(["여권", "분실", "재발급", "신청", "방법", "서류", "준비"])
    assert everything[passport.pk] == (pytest.approx(ARTICLE_CAP), 12)


def test_a_script_clicking_everything_spreads_no_evidence(agent_user, other_agent_user, kb):  # noqa: F811
    # Two colluding accounts choose all 40 articles for the same words in one day.
    for person in (agent_user, other_agent_user):
        for article in kb.values():
            choose(article, "비밀 단어", person)
    assert len(evidence_for(["비밀"])) <= 3


def test_a_word_chosen_for_many_articles_counts_less(passport, parking):
    people = agents(4)
    for person in people[:2]:
        choose(passport, "구청 분실", person)
    alone = evidence_for(["분실"])[passport.pk][0]
    for person in people[2:]:
        choose(parking, "구청 신청", person)
    assert evidence_for(["구청"])[passport.pk][0] < alone
    assert evidence_for(["분실"])[passport.pk][0] == pytest.approx(alone)


def test_one_syllable_words_are_no_evidence(agent_user, other_agent_user, passport):
    for person in (agent_user, other_agent_user):
        choose(passport, "여권 좀 빨리 줘", person)
    assert evidence_for(["좀"]) == {}
    assert "좀" not in {row["term"] for row in learned_for_article(passport.pk)}


# --- managers -------------------------------------------------------------------------------


@pytest.fixture
def learned(agent_user, other_agent_user, passport) -> Article:
    choose(passport, "여권 분실 신고", agent_user)
    choose(passport, "여권 분실했어요", other_agent_user)
    return passport


def test_a_manager_sees_the_learned_words(client, supervisor_user, learned):
    client.force_login(supervisor_user)
    page = client.get(reverse("knowledge-learned")).content.decode()
    assert learned.title in page and "분실" in page
    detail = client.get(reverse("knowledge-article", args=[learned.pk])).content.decode()
    assert "분실" in detail and "여권 분실했어요" in detail
    assert reverse("knowledge-learned-reset", args=[learned.pk]) in detail


def test_a_manager_resets_an_articles_evidence(client, administrator_user, learned):
    client.force_login(administrator_user)
    back = reverse("knowledge-article", args=[learned.pk])
    response = client.post(reverse("knowledge-learned-reset", args=[learned.pk]), {"next": back})
    assert response.status_code == 302 and response.url == back
    assert not ArticleChoice.objects.exists()
    assert evidence_for(["분실"]) == {}
    assert learned_for_article(learned.pk) == []


def test_the_reset_goes_back_only_to_this_site(client, supervisor_user, learned):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("knowledge-learned-reset", args=[learned.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("knowledge-learned")


def test_agents_cannot_see_or_reset_learned_evidence(client, agent_user, learned):
    client.force_login(agent_user)
    assert client.get(reverse("knowledge-learned")).status_code == 403
    response = client.post(reverse("knowledge-learned-reset", args=[learned.pk]))
    assert response.status_code == 403
    assert ArticleChoice.objects.count() == 2
    detail = client.get(reverse("knowledge-article", args=[learned.pk])).content.decode()
    assert "분실" in detail
    assert reverse("knowledge-learned-reset", args=[learned.pk]) not in detail


def test_anonymous_visitors_are_sent_to_log_in(client, learned):
    assert client.get(reverse("knowledge-learned")).status_code == 302
    assert client.post(reverse("knowledge-learned-reset", args=[learned.pk])).status_code == 302
    assert ArticleChoice.objects.count() == 2


def test_resetting_an_unknown_article_is_not_found(client, supervisor_user):
    client.force_login(supervisor_user)
    assert client.post(reverse("knowledge-learned-reset", args=[999999])).status_code == 404


def test_the_reset_needs_a_post(client, supervisor_user, learned):
    client.force_login(supervisor_user)
    assert client.get(reverse("knowledge-learned-reset", args=[learned.pk])).status_code == 405


# --- the search learns (ranking integration) ------------------------------------------------

# What a restaurant job needs is a health certificate (보건증, kb-0036): nothing in these
# words says so, and "알바" points the engine at the seniors' jobs article (kb-0026).
PARAPHRASE = "식당 알바 위생 서류"


def rank_of(query: str, article: Article) -> int | None:
    ids = [hit.article.pk for hit in search_hits(query=query, limit=20)]
    return ids.index(article.pk) + 1 if article.pk in ids else None


def test_a_question_phrased_a_new_way_finds_its_article_after_a_few_agents_chose_it(client, kb):  # noqa: F811
    target = kb["kb-0036"]  # 보건소 진료와 건강검진 안내
    assert rank_of(PARAPHRASE, target) != 1
    for person in agents(3):
        client.force_login(person)
        assert use(client, target, query=PARAPHRASE, source="search").status_code == 201
    assert rank_of(PARAPHRASE, target) == 1
    top = client.get(reverse("knowledge-search"), {"q": PARAPHRASE}).json()["results"][0]
    assert top["id"] == target.pk and top["why"]["learned"] == 3


def test_one_abusive_user_cannot_move_rankings(client, agent_user, kb):  # noqa: F811
    query = "주민등록등본 발급"
    before = [hit.article.pk for hit in search_hits(query=query, limit=5)]
    client.force_login(agent_user)
    for _ in range(100):
        assert use(client, kb["kb-0040"], query=query, source="search").status_code == 201
    assert [hit.article.pk for hit in search_hits(query=query, limit=5)] == before
    assert all(hit.why["learned"] == 0 for hit in search_hits(query=query, limit=5))
