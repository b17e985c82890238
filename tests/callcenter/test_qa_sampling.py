"""The weekly random sample: N handled contacts per agent per Seoul week, repeatable,
idempotent, only that week's handled contacts."""

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from callcenter.models import EvaluationTask
from callcenter.services.qa import qa_sample_week
from callcenter.tasks import qa_sample_task
from tests.factories import AgentFactory, UserFactory
from tests.factories_qa import EvaluationFactory, EvaluationFormFactory, HandledContactFactory

SEOUL = ZoneInfo("Asia/Seoul")
WEEK = date(2026, 11, 16)  # a Monday


def _handled(agent, when: datetime, **extra):
    """A contact ``agent`` answered at ``when`` (Seoul) and finished four minutes later."""
    return HandledContactFactory(
        agent=agent,
        queued_at=when - timedelta(seconds=20),
        answered_at=when,
        ended_at=when + timedelta(minutes=4),
        wrapup_ended_at=when + timedelta(minutes=5),
        **extra,
    )


def _at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of the sample week: day 0 = Monday."""
    return datetime(2026, 11, 16, hour, minute, tzinfo=SEOUL) + timedelta(days=day)


@pytest.fixture
def week_of_calls(db):
    """Minji handled 6 calls that week, Junho 2."""
    minji = AgentFactory(display_name="김민지")
    junho = AgentFactory(display_name="이준호")
    minji_calls = [_handled(minji, _at(day % 5, 9 + day)) for day in range(6)]
    junho_calls = [_handled(junho, _at(2, 14)), _handled(junho, _at(4, 16))]
    return {"minji": minji, "junho": junho, "minji_calls": minji_calls, "junho_calls": junho_calls}


def _sampled(agent=None) -> set[int]:
    tasks = EvaluationTask.objects.all()
    if agent is not None:
        tasks = tasks.filter(agent=agent)
    return set(tasks.values_list("contact_id", flat=True))


def test_up_to_n_contacts_are_sampled_per_agent(week_of_calls):
    created = qa_sample_week(week_start=WEEK, per_agent=3)
    assert created == 5
    assert len(_sampled(week_of_calls["minji"])) == 3
    assert _sampled(week_of_calls["junho"]) == {c.pk for c in week_of_calls["junho_calls"]}
    assert set(EvaluationTask.objects.values_list("week", flat=True)) == {WEEK}


def test_the_default_number_per_agent_comes_from_the_settings(week_of_calls, settings):
    settings.QA_SAMPLE_PER_AGENT_WEEK = 4
    qa_sample_week(week_start=WEEK)
    assert len(_sampled(week_of_calls["minji"])) == 4


def test_running_it_again_adds_nothing(week_of_calls):
    qa_sample_week(week_start=WEEK, per_agent=3)
    before = _sampled()
    assert qa_sample_week(week_start=WEEK, per_agent=3) == 0
    assert _sampled() == before


def test_the_pick_is_random_but_the_same_every_time(week_of_calls):
    qa_sample_week(week_start=WEEK, per_agent=3)
    first = _sampled(week_of_calls["minji"])
    EvaluationTask.objects.all().delete()
    qa_sample_week(week_start=WEEK, per_agent=3)
    assert _sampled(week_of_calls["minji"]) == first


def test_the_pick_depends_on_the_week_and_the_agent(db):
    """Over many agents, the same candidates in the same order are not always picked the
    same way: the seed has the agent in it."""
    picks = set()
    for n in range(8):
        agent = AgentFactory()
        calls = [_handled(agent, _at(0, 9, minute)) for minute in range(10)]
        qa_sample_week(week_start=WEEK, per_agent=2)
        picks.add(tuple(sorted(calls.index(c) for c in calls if c.pk in _sampled(agent))))
        assert len(_sampled(agent)) == 2, n
    assert len(picks) > 1


def test_any_day_of_the_week_means_that_weeks_monday(week_of_calls):
    qa_sample_week(week_start=WEEK + timedelta(days=3), per_agent=1)
    assert set(EvaluationTask.objects.values_list("week", flat=True)) == {WEEK}


def test_only_handled_contacts_of_that_seoul_week_are_sampled(db):
    agent = AgentFactory()
    inside = _handled(agent, _at(0, 0, 30))  # Monday 00:30 in Seoul is Sunday in UTC
    _handled(agent, _at(-1, 23, 50))  # Sunday before: last week
    _handled(agent, _at(7, 0, 10))  # next Monday
    HandledContactFactory(  # still talking
        agent=agent, queued_at=_at(1), answered_at=_at(1), ended_at=None, wrapup_ended_at=None
    )
    HandledContactFactory(  # abandoned in the queue: nobody handled it
        agent=None,
        queued_at=_at(1),
        answered_at=None,
        ended_at=_at(1, 10, 1),
        wrapup_ended_at=None,
        abandoned=True,
    )
    assert qa_sample_week(week_start=WEEK, per_agent=5) == 1
    assert _sampled() == {inside.pk}


def test_contacts_already_evaluated_are_not_sampled_again(db):
    agent = AgentFactory()
    evaluated = _handled(agent, _at(1))
    EvaluationFactory(contact=evaluated, evaluator=UserFactory())
    fresh = _handled(agent, _at(2))
    assert qa_sample_week(week_start=WEEK, per_agent=5) == 1
    assert _sampled() == {fresh.pk}


def test_the_sample_tops_up_as_the_week_goes_on(db):
    agent = AgentFactory()
    first = _handled(agent, _at(0))
    assert qa_sample_week(week_start=WEEK, per_agent=2) == 1
    _handled(agent, _at(3))
    _handled(agent, _at(4))
    assert qa_sample_week(week_start=WEEK, per_agent=2) == 1
    assert first.pk in _sampled()
    assert len(_sampled()) == 2


def test_tasks_suggest_the_newest_active_form(week_of_calls):
    EvaluationFormFactory(name="예전 평가표", active=False)
    current = EvaluationFormFactory(name="현재 평가표")
    qa_sample_week(week_start=WEEK, per_agent=1)
    assert set(EvaluationTask.objects.values_list("form", flat=True)) == {current.pk}


def test_zero_per_agent_samples_nothing(week_of_calls):
    assert qa_sample_week(week_start=WEEK, per_agent=0) == 0
    assert not EvaluationTask.objects.exists()


def test_the_command_samples_the_given_week(week_of_calls):
    out = StringIO()
    call_command("qa_sample", "--week", "2026-11-18", "--per-agent", "1", stdout=out)
    assert "2 contacts sampled (2026-11-16)" in out.getvalue()
    assert EvaluationTask.objects.count() == 2


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError):
        call_command("qa_sample", "--week", "16/11/2026")


def test_the_hourly_task_samples_the_current_week(db, settings):
    settings.QA_SAMPLE_PER_AGENT_WEEK = 1
    now = timezone.now()
    contact = HandledContactFactory(
        queued_at=now, answered_at=now, ended_at=now, wrapup_ended_at=now
    )
    assert qa_sample_task() == 1
    assert _sampled() == {contact.pk}
