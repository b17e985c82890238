"""Quality assurance reads: who may see which evaluation, the QA home's lists, an
evaluation's sheet, the calibration spread of one contact and an agent's weekly scorecard.

Agents see only their own submitted, non-calibration evaluations; supervisors see every
submitted one and their own drafts. Weeks are Seoul weeks starting on Monday; an
evaluation counts for the week its contact was answered in (as the random sample does).
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from callcenter import metrics
from callcenter.models import (
    Agent,
    Contact,
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
    Message,
    User,
)
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, user_roles

SCORECARD_WEEKS = 12


# --- weeks --------------------------------------------------------------------------------
def week_monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_bounds(week: date) -> tuple[datetime, datetime]:
    """Start and end of the Seoul week beginning on Monday ``week``, aware."""
    start = timezone.make_aware(datetime.combine(week_monday(week), time.min), metrics.SEOUL)
    return start, timezone.make_aware(
        datetime.combine(week_monday(week) + timedelta(days=7), time.min), metrics.SEOUL
    )


# --- forms --------------------------------------------------------------------------------
def active_form_default() -> EvaluationForm | None:
    """The form new sample tasks suggest: the newest active one."""
    return EvaluationForm.objects.filter(active=True).order_by("-created_at", "-pk").first()


def forms_overview() -> QuerySet[EvaluationForm]:
    return EvaluationForm.objects.annotate(
        item_count=Count("sections__items", distinct=True),
        evaluation_count=Count("evaluations", distinct=True),
    ).select_related("created_by")


def form_sections(form: EvaluationForm) -> list[EvaluationSection]:
    """The form's sections in order, each with its items prefetched in order."""
    return list(
        form.sections.prefetch_related(
            Prefetch("items", queryset=EvaluationItem.objects.order_by("order", "id"))
        )
    )


# --- who sees what ------------------------------------------------------------------------
def is_qa_supervisor(user) -> bool:
    return bool(user_roles(user) & {SUPERVISOR, ADMINISTRATOR})


def evaluations_for_user(user) -> QuerySet[Evaluation]:
    """The evaluations ``user`` may open: supervisors every submitted one and their own
    drafts; an agent their own submitted ones that are no calibration; others none."""
    evaluations = Evaluation.objects.select_related(
        "form", "agent", "evaluator", "contact", "dispute_resolved_by"
    )
    if is_qa_supervisor(user):
        return evaluations.filter(Q(status=Evaluation.Status.SUBMITTED) | Q(evaluator=user))
    if AGENT in user_roles(user):
        return evaluations.filter(
            agent__user=user, status=Evaluation.Status.SUBMITTED, calibration=False
        )
    return evaluations.none()


def agent_news_count(user) -> int:
    """How many of the agent's evaluations want their attention, in one COUNT: submitted
    ones they have neither acknowledged nor disputed, and disputes resolved since they
    last opened the evaluation."""
    return (
        Evaluation.objects.filter(
            agent__user=user, status=Evaluation.Status.SUBMITTED, calibration=False
        )
        .filter(
            Q(acknowledged_at__isnull=True, disputed_at__isnull=True)
            | Q(dispute_resolved_at__isnull=False, dispute_resolution_seen_at__isnull=True)
        )
        .count()
    )


def agent_may_see(user, agent: Agent) -> bool:
    """Supervisors see every agent's scorecard; an agent only their own."""
    return is_qa_supervisor(user) or agent.user_id == user.pk


def evaluations_official(agent: Agent | None = None) -> QuerySet[Evaluation]:
    """Submitted evaluations that count (calibration exercises do not)."""
    evaluations = Evaluation.objects.filter(status=Evaluation.Status.SUBMITTED, calibration=False)
    return evaluations.filter(agent=agent) if agent is not None else evaluations


# --- the QA home --------------------------------------------------------------------------
def sample_queue(week: date) -> QuerySet[EvaluationTask]:
    """The week's sampled contacts, the open ones first."""
    return (
        EvaluationTask.objects.filter(week=week)
        .select_related("agent", "contact", "contact__queue", "form", "evaluation")
        .order_by(Coalesce("evaluation_id", 0).asc(), "agent__display_name", "contact__answered_at")
    )


def open_disputes() -> QuerySet[Evaluation]:
    return (
        evaluations_official()
        .filter(disputed_at__isnull=False, dispute_resolved_at__isnull=True)
        .select_related("agent", "evaluator", "form", "contact")
        .order_by("disputed_at")
    )


def recent_evaluations(limit: int = 20) -> list[Evaluation]:
    return list(
        Evaluation.objects.filter(status=Evaluation.Status.SUBMITTED)
        .select_related("agent", "evaluator", "form", "contact")
        .order_by("-submitted_at")[:limit]
    )


def drafts_of(user: User) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(evaluator=user, status=Evaluation.Status.DRAFT).select_related(
        "agent", "form", "contact"
    )


def agents_overview(*, today: date | None = None, weeks: int = SCORECARD_WEEKS) -> list[Agent]:
    """Every agent with ``qa_average`` and ``qa_count`` over the last ``weeks`` weeks."""
    first_week = week_monday(today or timezone.localdate()) - timedelta(weeks=weeks - 1)
    since, _end = week_bounds(first_week)
    counted = Q(
        evaluations__status=Evaluation.Status.SUBMITTED,
        evaluations__calibration=False,
        evaluations__contact__answered_at__gte=since,
    )
    return list(
        Agent.objects.annotate(
            qa_average=Avg("evaluations__score", filter=counted),
            qa_count=Count("evaluations", filter=counted),
        ).order_by("display_name")
    )


# --- one contact, one evaluation ----------------------------------------------------------
def transcript(contact: Contact) -> list[Message]:
    """The contact's messages as stored (masked where the services masked them), internal
    notes and whispers included: the evaluator reads what the agent saw."""
    return list(contact.messages.select_related("sender_user").order_by("created_at", "id"))


@dataclass
class SheetRow:
    item: EvaluationItem
    answer: EvaluationAnswer | None


@dataclass
class SheetSection:
    section: EvaluationSection
    rows: list[SheetRow]


def evaluation_sheet(evaluation: Evaluation) -> list[SheetSection]:
    """The form's sections and items beside this evaluation's answers."""
    answers = {answer.item_id: answer for answer in evaluation.answers.all()}
    return [
        SheetSection(
            section, [SheetRow(item, answers.get(item.pk)) for item in section.items.all()]
        )
        for section in form_sections(evaluation.form)
    ]


# --- calibration --------------------------------------------------------------------------
@dataclass
class CalibrationRow:
    item: EvaluationItem
    cells: list[EvaluationAnswer | None]
    agree: bool  # every scored answer the same (N/A and missing left out)
    spread: float | None  # highest − lowest earned share of the item, in percentage points


@dataclass
class Calibration:
    form: EvaluationForm
    evaluations: list[Evaluation]
    sections: list[tuple[EvaluationSection, list[CalibrationRow]]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    stdev: float | None = None  # population standard deviation of the scores
    furthest: Evaluation | None = None  # the score furthest from the mean
    furthest_gap: float | None = None


def calibration_forms(contact: Contact) -> list[EvaluationForm]:
    """Forms with submitted evaluations of ``contact``, the most used first."""
    return list(
        EvaluationForm.objects.filter(
            evaluations__contact=contact, evaluations__status=Evaluation.Status.SUBMITTED
        )
        .annotate(n=Count("evaluations"))
        .order_by("-n", "pk")
    )


def calibration(contact: Contact, form: EvaluationForm) -> Calibration:
    """Every submitted evaluation of ``contact`` with ``form`` (official and calibration),
    item by item, and the spread of their scores."""
    evaluations = list(
        Evaluation.objects.filter(contact=contact, form=form, status=Evaluation.Status.SUBMITTED)
        .select_related("evaluator")
        .prefetch_related("answers")
        .order_by("submitted_at", "pk")
    )
    result = Calibration(form=form, evaluations=evaluations)
    by_evaluation = [{a.item_id: a for a in e.answers.all()} for e in evaluations]
    for section in form_sections(form):
        rows = []
        for item in section.items.all():
            cells = [answers.get(item.pk) for answers in by_evaluation]
            shares = [
                100 * item.fraction(cell.value)
                for cell in cells
                if cell is not None and not cell.not_applicable
            ]
            rows.append(
                CalibrationRow(
                    item=item,
                    cells=cells,
                    agree=len(set(shares)) <= 1,
                    spread=max(shares) - min(shares) if shares else None,
                )
            )
        result.sections.append((section, rows))
    scores = [float(e.score) for e in evaluations]
    if scores:
        result.minimum, result.maximum = min(scores), max(scores)
        result.mean = statistics.fmean(scores)
        result.stdev = statistics.pstdev(scores)
    if len(scores) > 1 and result.stdev:
        gaps = [abs(score - result.mean) for score in scores]
        index = max(range(len(gaps)), key=gaps.__getitem__)
        result.furthest, result.furthest_gap = evaluations[index], gaps[index]
    return result


# --- an agent's scorecard -----------------------------------------------------------------
@dataclass
class ScorecardWeek:
    week: date
    qa_average: float | None
    qa_count: int
    csat: float | None
    survey_answers: int
    aht: timedelta | None
    handled: int
    fcr: float | None
    tickets_resolved: int


def scorecard_weeks(*, today: date | None = None, weeks: int = SCORECARD_WEEKS) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, this one last."""
    this_week = week_monday(today or timezone.localdate())
    return [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def agent_qa_by_week(agent: Agent, weeks: list[date]) -> dict[date, tuple[float, int]]:
    """(average score, evaluations) by week of the agent's official evaluations."""
    since, _end = week_bounds(weeks[0])
    _start, until = week_bounds(weeks[-1])
    rows = (
        evaluations_official(agent)
        .annotate(at=Coalesce("contact__answered_at", "contact__created_at"))
        .filter(at__gte=since, at__lt=until)
        .values_list("at", "score")
    )
    scores: dict[date, list[float]] = {}
    for at, score in rows:
        week = week_monday(timezone.localtime(at, metrics.SEOUL).date())
        scores.setdefault(week, []).append(float(score))
    return {week: (statistics.fmean(values), len(values)) for week, values in scores.items()}


def agent_scorecard(
    agent: Agent, *, today: date | None = None, weeks: int = SCORECARD_WEEKS
) -> list[ScorecardWeek]:
    """The agent's last ``weeks`` weeks: QA average (evaluations), and CSAT, AHT and FCR
    from the metrics module (the same figures as the reports)."""
    mondays = scorecard_weeks(today=today, weeks=weeks)
    today = today or timezone.localdate()
    qa = agent_qa_by_week(agent, mondays)
    # Finished weeks from the worker's rollups; the current one from the raw rows, so
    # today's contacts show at once (the same sums either way).
    rows = metrics.report(
        start=mondays[0],
        end=mondays[-1] - timedelta(days=1),
        interval="week",
        agent_id=agent.pk,
    ) + metrics.report(
        start=mondays[-1], end=today, interval="week", agent_id=agent.pk, source="raw"
    )
    measured = {
        timezone.localtime(row.period, metrics.SEOUL).date(): row.measures
        for row in rows
        if row.period is not None
    }
    result = []
    for week in mondays:
        sums = measured.get(week, metrics.Measures())
        average, count = qa.get(week, (None, 0))
        result.append(
            ScorecardWeek(
                week=week,
                qa_average=average,
                qa_count=count,
                csat=sums.csat,
                survey_answers=sums.survey_answers,
                aht=sums.aht,
                handled=sums.handled,
                fcr=sums.fcr,
                tickets_resolved=sums.tickets_resolved,
            )
        )
    return result


def scorecard_chart(rows: list[ScorecardWeek]) -> dict:
    """The scorecard as Chart.js data: percentages (QA, CSAT, FCR) and AHT in minutes."""

    def percent(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 1)

    return {
        "labels": [row.week.strftime("%m-%d") for row in rows],
        "qa": [None if row.qa_average is None else round(row.qa_average, 1) for row in rows],
        "csat": [percent(row.csat) for row in rows],
        "fcr": [percent(row.fcr) for row in rows],
        "aht": [
            None if row.aht is None else round(row.aht.total_seconds() / 60, 2) for row in rows
        ],
    }
