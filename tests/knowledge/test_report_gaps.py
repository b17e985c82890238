"""The knowledge report's questions with no good answer, grouped by what was asked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge.models import SearchQueryLog
from knowledge.reports import unanswered_question_groups

pytestmark = pytest.mark.django_db


def asked(query: str, *, times: int = 1, results: int = 0, weak: bool = False, **fields) -> None:
    for _ in range(times):
        SearchQueryLog.objects.create(query=query, results=results, weak=weak, **fields)


def last_month() -> list[dict]:
    return unanswered_question_groups(since=timezone.now() - timedelta(days=30))


def group_of(groups: list[dict], query: str) -> dict:
    return next(group for group in groups if query in group["phrasings"])


def test_phrasings_of_one_need_fall_in_one_group():
    asked("여권 분실", times=3)
    asked("여권 잃어버렸어요", times=2, staff=True)
    asked("여권을 잃어버림")
    asked("음식물 쓰레기 배출 요일", times=2)
    asked("음식물 쓰레기 배출 시간")
    asked("불법 주차 신고", times=2)
    asked("주차 단속 신고")

    groups = last_month()

    passport = group_of(groups, "여권 분실")
    assert passport["phrasings"] == ["여권 분실", "여권 잃어버렸어요", "여권을 잃어버림"]
    assert (passport["count"], passport["staff"], passport["citizens"]) == (6, 2, 4)
    assert passport["question"] == "여권 분실"
    assert passport["terms"][0] == "여권"
    food = group_of(groups, "음식물 쓰레기 배출 요일")
    assert food["phrasings"] == ["음식물 쓰레기 배출 요일", "음식물 쓰레기 배출 시간"]
    parking = group_of(groups, "불법 주차 신고")
    assert parking["phrasings"] == ["불법 주차 신고", "주차 단속 신고"]
    assert len(groups) == 3
    assert groups[0] is passport  # the most asked first


def test_near_needs_on_one_subject_stay_apart():
    asked("여권 분실", times=2)
    asked("여권 재발급 수수료", times=2)
    asked("여권 발급 수수료 얼마")

    groups = last_month()

    assert group_of(groups, "여권 분실")["phrasings"] == ["여권 분실"]
    assert group_of(groups, "여권 재발급 수수료")["phrasings"] == [
        "여권 재발급 수수료",
        "여권 발급 수수료 얼마",
    ]


def test_weak_answers_count_and_answered_searches_do_not():
    asked("쓰레기 버리는 법", times=2, results=3, weak=True)
    asked("쓰레기 버리는 방법")
    asked("등본 발급", times=5, results=4)  # answered well: not a gap

    groups = last_month()

    assert [g["phrasings"] for g in groups] == [["쓰레기 버리는 법", "쓰레기 버리는 방법"]]
    assert groups[0]["count"] == 3


def test_only_searches_of_the_period_count():
    asked("여권 분실")
    old = SearchQueryLog.objects.create(query="여권 분실", results=0)
    SearchQueryLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    asked("반려견 등록", created_at=timezone.now() - timedelta(days=10))

    assert [(g["question"], g["count"]) for g in last_month()] == [
        ("여권 분실", 1),
        ("반려견 등록", 1),
    ]
    week = unanswered_question_groups(since=timezone.now() - timedelta(days=7))
    assert [(g["question"], g["count"]) for g in week] == [("여권 분실", 1)]


def test_a_query_kiwi_finds_no_word_in_still_shows():
    asked("12345", times=2)
    assert [(g["name"], g["count"]) for g in last_month()] == [("12345", 2)]


def test_the_report_page_groups_and_links_a_new_article(client, supervisor_user):
    asked("여권 분실", times=2)
    asked("여권 잃어버렸어요")
    client.force_login(supervisor_user)

    response = client.get(reverse("knowledge-report"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "“여권 잃어버렸어요”" in page
    new = reverse("knowledge-new") + "?question=%EC%97%AC%EA%B6%8C%20%EB%B6%84%EC%8B%A4"
    assert new in page
    assert response.context["unanswered"][0]["count"] == 3


def test_the_period_is_chosen_and_checked(client, supervisor_user):
    asked("반려견 등록", created_at=timezone.now() - timedelta(days=20))
    client.force_login(supervisor_user)

    assert client.get(reverse("knowledge-report"), {"days": 7}).context["unanswered"] == []
    assert len(client.get(reverse("knowledge-report"), {"days": 30}).context["unanswered"]) == 1
    refused = client.get(reverse("knowledge-report"), {"days": 365})
    assert refused.status_code == 400
    reason = refused.content.decode()
    assert "7, 30 or 90" in reason or "7일, 30일, 90일" in reason


def test_the_report_is_for_supervisors_only(client, agent_user, supervisor_user):
    assert client.get(reverse("knowledge-report")).status_code == 302
    client.force_login(agent_user)
    assert client.get(reverse("knowledge-report")).status_code == 403
    client.force_login(supervisor_user)
    assert client.get(reverse("knowledge-report")).status_code == 200


def test_write_a_new_article_starts_from_the_question(client, agent_user):
    client.force_login(agent_user)

    response = client.get(reverse("knowledge-new"), {"question": "여권 분실"})

    assert response.status_code == 200
    assert response.context["form"].initial["question"] == "여권 분실"
    assert "여권 분실</textarea>" in response.content.decode()
