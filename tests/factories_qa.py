"""Factories for the QA scorecards (evaluation forms, evaluations, sample tasks)."""

from datetime import timedelta

import factory
from django.utils import timezone

from callcenter.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
)
from tests.factories import AgentFactory, ContactFactory, UserFactory


class EvaluationFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationForm

    name = factory.Sequence(lambda n: f"평가표{n}")
    pass_mark = 80


class EvaluationSectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationSection

    form = factory.SubFactory(EvaluationFormFactory)
    title = factory.Sequence(lambda n: f"영역{n}")
    order = factory.Sequence(int)


class EvaluationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationItem

    section = factory.SubFactory(EvaluationSectionFactory)
    text = factory.Sequence(lambda n: f"문항{n}")
    kind = EvaluationItem.Kind.YES_NO
    weight = 1
    order = factory.Sequence(int)


class HandledContactFactory(ContactFactory):
    """A call an agent answered and finished: what QA evaluates."""

    agent = factory.SubFactory(AgentFactory)
    queued_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=30))
    answered_at = factory.LazyAttribute(lambda o: o.queued_at + timedelta(seconds=15))
    ended_at = factory.LazyAttribute(lambda o: o.answered_at + timedelta(minutes=4))
    wrapup_ended_at = factory.LazyAttribute(lambda o: o.ended_at + timedelta(seconds=60))


class EvaluationFactory(factory.django.DjangoModelFactory):
    """A submitted evaluation (its answers are up to the test)."""

    class Meta:
        model = Evaluation

    form = factory.SubFactory(EvaluationFormFactory)
    contact = factory.SubFactory(HandledContactFactory)
    agent = factory.LazyAttribute(lambda o: o.contact.agent)
    evaluator = factory.SubFactory(UserFactory)
    status = Evaluation.Status.SUBMITTED
    score = 90
    submitted_at = factory.LazyFunction(timezone.now)


class EvaluationAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationAnswer

    evaluation = factory.SubFactory(EvaluationFactory)
    item = factory.SubFactory(EvaluationItemFactory)
    value = 1


class EvaluationTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationTask

    contact = factory.SubFactory(HandledContactFactory)
    agent = factory.LazyAttribute(lambda o: o.contact.agent)
    week = factory.LazyAttribute(
        lambda o: (
            timezone.localdate(o.contact.answered_at)
            - timedelta(days=timezone.localdate(o.contact.answered_at).weekday())
        )
    )
