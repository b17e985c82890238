"""Quality assurance writes: evaluation forms, evaluations (draft, submit), the agent's
acknowledgement or dispute, the supervisor's resolution, and the weekly random sample.

Scoring (:func:`evaluation_score`): the weighted mean of the answered items, N/A left out,
yes = 1, no = 0, a scale value v of 1…max = (v − 1) / (max − 1), as a percentage; an
auto-fail item answered "no" makes the score 0 whatever the rest.
"""

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    Contact,
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
    User,
)
from callcenter.selectors_qa import active_form_default, week_bounds, week_monday

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Answer:
    """An answer as the evaluator gave it: a value, or None for N/A."""

    value: int | None
    comment: str = ""


@dataclass(frozen=True)
class Score:
    score: Decimal | None  # None when nothing weighted was answered
    auto_failed: bool


# --- scoring ------------------------------------------------------------------------------
def evaluation_score(answers: Iterable[tuple[EvaluationItem, int | None]]) -> Score:
    """The score of ``(item, value)`` pairs (value None = N/A); see the module docstring."""
    earned = 0.0
    weights = 0
    for item, value in answers:
        if value is None:
            continue
        if item.fails(value):
            return Score(Decimal("0.00"), True)
        earned += item.weight * item.fraction(value)
        weights += item.weight
    if not weights:
        return Score(None, False)
    percent = Decimal(str(100 * earned / weights)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Score(percent, False)


def _answer_check(item: EvaluationItem, answer: Answer) -> None:
    if answer.value is None:
        if not item.allows_na:
            raise ValidationError(_("“%s” cannot be answered N/A.") % item.text)
        return
    if not item.min_value <= answer.value <= item.max_value:
        raise ValidationError(_("“%s” has an answer out of range.") % item.text)


def _answers_score(*, form: EvaluationForm, answers: Mapping[int, Answer], complete: bool) -> Score:
    """Check ``answers`` (by item id) against ``form``'s items and score them; ``complete``
    (a submission or a re-scoring) wants every item answered and something to score."""
    items = {item.pk: item for item in EvaluationItem.objects.filter(section__form=form)}
    unknown = set(answers) - set(items)
    if unknown:
        raise ValidationError(_("Some answers are not questions of this form."))
    for item_id, answer in answers.items():
        _answer_check(items[item_id], answer)
    score = evaluation_score((items[item_id], a.value) for item_id, a in answers.items())
    if complete:
        missing = [item.text for pk, item in items.items() if pk not in answers]
        if missing:
            raise ValidationError(_("Answer every question first: %s") % ", ".join(missing))
        if score.score is None:
            raise ValidationError(_("Every answer is N/A: there is nothing to score."))
    return score


def _answers_replace(*, evaluation: Evaluation, answers: Mapping[int, Answer]) -> None:
    evaluation.answers.all().delete()
    EvaluationAnswer.objects.bulk_create(
        EvaluationAnswer(
            evaluation=evaluation,
            item_id=item_id,
            value=answer.value,
            not_applicable=answer.value is None,
            comment=answer.comment,
        )
        for item_id, answer in answers.items()
    )


# --- forms --------------------------------------------------------------------------------
def evaluation_form_create(
    *, name: str, created_by: User, description: str = "", pass_mark: int = 80, active=True
) -> EvaluationForm:
    return EvaluationForm.objects.create(
        name=name,
        description=description,
        pass_mark=pass_mark,
        active=active,
        created_by=created_by,
    )


def evaluation_form_locked(form: EvaluationForm) -> bool:
    """A form some evaluation used keeps its sections and items: old scores keep their
    meaning. Change a copy instead (:func:`evaluation_form_copy`)."""
    return form.evaluations.exists()


@transaction.atomic
def evaluation_form_update(*, form: EvaluationForm, details, formsets: Iterable = ()) -> None:
    """Save the builder's validated parts in one transaction: ``details`` (name, pass mark,
    …, a ModelForm of ``form``) always, the section and item ``formsets`` only while no
    evaluation used the form (items first, so a section deleted with them goes last)."""
    EvaluationForm.objects.select_for_update().get(pk=form.pk)
    formsets = list(formsets)
    if formsets and evaluation_form_locked(form):
        raise ValidationError(_("This form has evaluations; copy it to change its questions."))
    details.save()
    for formset in formsets:
        formset.save()


@transaction.atomic
def evaluation_form_copy(*, form: EvaluationForm, created_by: User) -> EvaluationForm:
    """A new, editable form with the same sections and items (the original stays as is)."""
    copy = EvaluationForm.objects.create(
        name=_("%s (copy)") % form.name,
        description=form.description,
        pass_mark=form.pass_mark,
        active=False,
        created_by=created_by,
    )
    for section in form.sections.prefetch_related("items"):
        new_section = EvaluationSection.objects.create(
            form=copy, title=section.title, order=section.order
        )
        EvaluationItem.objects.bulk_create(
            EvaluationItem(
                section=new_section,
                text=item.text,
                guidance=item.guidance,
                kind=item.kind,
                scale_max=item.scale_max,
                weight=item.weight,
                allows_na=item.allows_na,
                auto_fail=item.auto_fail,
                order=item.order,
            )
            for item in section.items.all()
        )
    return copy


# --- evaluations --------------------------------------------------------------------------
@transaction.atomic
def evaluation_save(
    *,
    form: EvaluationForm,
    contact: Contact,
    evaluator: User,
    answers: Mapping[int, Answer],
    comment: str = "",
    calibration: bool = False,
    submit: bool = False,
    at: datetime | None = None,
) -> Evaluation:
    """Create or update ``evaluator``'s evaluation of ``contact`` with ``form``
    (``answers`` by item id); ``submit`` makes it final: every item answered, scored, shown
    to the agent (unless a calibration) and the sample's task for it done. ``at`` (default
    now) is when it happens; the demo dates its history with it."""
    at = at or timezone.now()
    form = EvaluationForm.objects.select_for_update().get(pk=form.pk)
    if contact.agent_id is None:
        raise ValidationError(_("No agent handled this contact; there is nobody to evaluate."))
    if contact.ended_at is None:
        raise ValidationError(_("The conversation is still going on; evaluate it once it ends."))
    evaluation = Evaluation.objects.filter(contact=contact, evaluator=evaluator, form=form).first()
    if evaluation is None:
        if not form.active:
            raise ValidationError(_("This form is no longer in use."))
        evaluation = Evaluation(
            form=form,
            contact=contact,
            evaluator=evaluator,
            agent_id=contact.agent_id,
            created_at=at,
        )
    elif evaluation.is_submitted:
        raise ValidationError(_("This evaluation was submitted already; it cannot change."))
    official = (
        Evaluation.objects.filter(contact=contact, form=form, calibration=False)
        .exclude(pk=evaluation.pk)
        .exists()
    )
    if not calibration and official:
        raise ValidationError(
            _("This contact already has an evaluation with this form; yours is a calibration.")
        )
    score = _answers_score(form=form, answers=answers, complete=submit)
    evaluation.calibration = calibration
    evaluation.comment = comment
    evaluation.score = score.score
    evaluation.auto_failed = score.auto_failed
    if submit:
        evaluation.status = Evaluation.Status.SUBMITTED
        evaluation.submitted_at = at
    evaluation.save()
    _answers_replace(evaluation=evaluation, answers=answers)
    if submit and not calibration:
        EvaluationTask.objects.filter(
            contact=contact, agent_id=evaluation.agent_id, evaluation__isnull=True
        ).update(evaluation=evaluation)
    return evaluation


def evaluation_draft_discard(*, evaluation: Evaluation, user: User) -> None:
    """Throw away ``user``'s own draft."""
    deleted, _rows = Evaluation.objects.filter(
        pk=evaluation.pk, evaluator=user, status=Evaluation.Status.DRAFT
    ).delete()
    if not deleted:
        raise ValidationError(_("Only your own draft can be discarded."))


def _agent_answer(*, evaluation: Evaluation, user: User, **changes) -> Evaluation:
    """Record the agent's answer once: a conditional update, so two clicks (or two tabs)
    cannot both acknowledge and dispute."""
    if evaluation.agent.user_id != user.pk:
        raise ValidationError(_("Only the evaluated agent can answer an evaluation."))
    updated = Evaluation.objects.filter(
        pk=evaluation.pk,
        status=Evaluation.Status.SUBMITTED,
        calibration=False,
        acknowledged_at__isnull=True,
        disputed_at__isnull=True,
    ).update(**changes)
    if not updated:
        raise ValidationError(_("This evaluation was answered already."))
    evaluation.refresh_from_db()
    return evaluation


def evaluation_acknowledge(
    *, evaluation: Evaluation, user: User, at: datetime | None = None
) -> Evaluation:
    """The agent has read the evaluation and accepts it (``at``, default now)."""
    return _agent_answer(evaluation=evaluation, user=user, acknowledged_at=at or timezone.now())


def evaluation_dispute(
    *, evaluation: Evaluation, user: User, comment: str, at: datetime | None = None
) -> Evaluation:
    """The agent disagrees, saying why; a supervisor resolves it."""
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say why you dispute the evaluation."))
    return _agent_answer(
        evaluation=evaluation,
        user=user,
        disputed_at=at or timezone.now(),
        dispute_comment=comment,
    )


@transaction.atomic
def evaluation_dispute_resolve(
    *,
    evaluation: Evaluation,
    resolver: User,
    outcome: str,
    note: str,
    answers: Mapping[int, Answer] | None = None,
    at: datetime | None = None,
) -> Evaluation:
    """A supervisor closes an open dispute with a note for the agent.

    Rejected, the evaluation stays as it was. Upheld, the supervisor re-scores it in the
    same step: ``answers`` (by item id, every item, checked and scored as a submission)
    replace the old ones and the score before is kept beside the new one. All of it in
    one transaction, so a refused answer leaves the dispute open and the score as it was.
    ``at`` (default now) is when."""
    note = note.strip()
    if outcome not in Evaluation.Outcome.values:
        raise ValidationError(_("Choose whether the dispute is upheld or rejected."))
    if not note:
        raise ValidationError(_("Write a note for the agent."))
    locked = (
        Evaluation.objects.select_for_update()
        .filter(pk=evaluation.pk, disputed_at__isnull=False, dispute_resolved_at__isnull=True)
        .first()
    )
    if locked is None:
        raise ValidationError(_("There is no open dispute on this evaluation."))
    changes: dict = {
        "dispute_outcome": outcome,
        "dispute_note": note,
        "dispute_resolved_at": at or timezone.now(),
        "dispute_resolved_by": resolver,
    }
    if outcome == Evaluation.Outcome.UPHELD:
        if not answers:
            raise ValidationError(_("Re-score the evaluation to uphold the dispute."))
        score = _answers_score(form=locked.form, answers=answers, complete=True)
        changes |= {
            "score_before_dispute": locked.score,
            "auto_failed_before_dispute": locked.auto_failed,
            "score": score.score,
            "auto_failed": score.auto_failed,
        }
        _answers_replace(evaluation=locked, answers=answers)
    Evaluation.objects.filter(pk=locked.pk).update(**changes)
    evaluation.refresh_from_db()
    return evaluation


def evaluation_resolution_seen(*, evaluation: Evaluation, user: User) -> None:
    """The evaluated agent has read how their dispute was resolved (clears their badge)."""
    if evaluation.agent.user_id != user.pk:
        return
    Evaluation.objects.filter(
        pk=evaluation.pk,
        dispute_resolved_at__isnull=False,
        dispute_resolution_seen_at__isnull=True,
    ).update(dispute_resolution_seen_at=timezone.now())


# --- the weekly random sample -------------------------------------------------------------
def qa_sample_week(
    *, week_start: date | None = None, per_agent: int | None = None, now: datetime | None = None
) -> int:
    """Queue up to ``per_agent`` (QA_SAMPLE_PER_AGENT_WEEK) of each agent's handled contacts
    of a Seoul week (the Monday of ``week_start``; default this week) for evaluation;
    returns how many tasks it created.

    A contact counts for the week its agent answered it in, once it has ended. The choice is
    random but repeatable: a generator seeded by week and agent picks among the agent's
    candidates (ordered by id) that are not sampled or evaluated yet, so running it again
    adds nothing, and the hourly run only tops a sample up as it can."""
    now = now or timezone.now()
    week = week_monday(week_start or timezone.localdate(now))
    per_agent = settings.QA_SAMPLE_PER_AGENT_WEEK if per_agent is None else per_agent
    if per_agent <= 0:
        return 0
    start, end = week_bounds(week)
    have = dict(
        EvaluationTask.objects.filter(week=week)
        .values("agent")
        .annotate(n=Count("id"))
        .values_list("agent", "n")
    )
    candidates: dict[int, list[int]] = defaultdict(list)
    handled = (
        Contact.objects.filter(
            agent__isnull=False,
            answered_at__gte=start,
            answered_at__lt=end,
            ended_at__isnull=False,
        )
        .exclude(agent__in=[agent for agent, n in have.items() if n >= per_agent])
        .exclude(evaluation_tasks__isnull=False)
        .exclude(evaluations__isnull=False)
        .order_by("agent_id", "pk")
        .values_list("agent_id", "pk")
    )
    for agent_id, contact_id in handled:
        candidates[agent_id].append(contact_id)
    form = active_form_default()
    tasks = []
    for agent_id, contact_ids in candidates.items():
        wanted = min(per_agent - have.get(agent_id, 0), len(contact_ids))
        # The secret keeps the pick unforeseeable to agents who read this code.
        seed = f"{settings.SECRET_KEY}:qa-sample:{week.isoformat()}:{agent_id}"
        chosen = random.Random(seed).sample(contact_ids, wanted)  # noqa: S311 - repeatable
        tasks += [
            EvaluationTask(agent_id=agent_id, contact_id=pk, week=week, form=form)
            for pk in sorted(chosen)
        ]
    before = EvaluationTask.objects.filter(week=week).count()
    EvaluationTask.objects.bulk_create(tasks, ignore_conflicts=True)
    return EvaluationTask.objects.filter(week=week).count() - before
