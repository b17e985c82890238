"""Quality assurance: evaluation forms (scorecards), evaluations of contacts, disputes,
calibration and the weekly random sample. Imported by callcenter.models (one app).

A form is a list of sections of weighted items. An evaluation answers every item of one
form about one contact; its score is the weighted mean of the answered items (N/A left out),
except that a failed auto-fail item ("personal data exposed") makes the score 0. Once an
evaluation is submitted its answers are history: a form that has evaluations is no longer
edited (it is copied into a new one), so an old score always means what it meant.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "EvaluationForm",
    "EvaluationSection",
    "EvaluationItem",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationTask",
]


class EvaluationForm(models.Model):
    """A scorecard supervisors evaluate contacts with."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active forms are offered for new evaluations.")
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"),
        default=80,
        validators=[MaxValueValidator(100)],
        help_text=_("An evaluation scoring at least this passes."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-active", "name", "id"]
        verbose_name = _("evaluation form")
        verbose_name_plural = _("evaluation forms")
        constraints = [
            models.CheckConstraint(condition=Q(pass_mark__lte=100), name="qa_form_pass_mark_pct"),
        ]

    def __str__(self) -> str:
        return self.name


class EvaluationSection(models.Model):
    """A heading of a form ("Greeting", "Accuracy", "Privacy") grouping its items."""

    form = models.ForeignKey(EvaluationForm, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("title"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("evaluation section")
        verbose_name_plural = _("evaluation sections")

    def __str__(self) -> str:
        return self.title


class EvaluationItem(models.Model):
    """One question of a form. Yes/no scores 1 or 0; a scale 1…max scores (v−1)/(max−1).

    An auto-fail item is a yes/no question whose "no" fails the whole evaluation, whatever
    the other answers: "Was the citizen's personal data protected?"."""

    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        SCALE = "scale", _("Scale")

    section = models.ForeignKey(EvaluationSection, on_delete=models.CASCADE, related_name="items")
    text = models.CharField(_("question"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.YES_NO)
    scale_max = models.PositiveSmallIntegerField(
        _("scale maximum"),
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text=_("For a scale: answers go from 1 to this."),
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    allows_na = models.BooleanField(_("allows N/A"), default=False)
    auto_fail = models.BooleanField(
        _("auto-fail"),
        default=False,
        help_text=_("Answering “no” makes the whole evaluation score 0 (yes/no items only)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["yes_no", "scale"]), name="qa_item_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(scale_max__gte=2, scale_max__lte=10), name="qa_item_scale_2_to_10"
            ),
            models.CheckConstraint(condition=Q(weight__gte=1), name="qa_item_weight_positive"),
            models.CheckConstraint(
                condition=Q(auto_fail=False) | Q(kind="yes_no"), name="qa_item_auto_fail_yes_no"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def max_value(self) -> int:
        return 1 if self.kind == self.Kind.YES_NO else self.scale_max

    @property
    def min_value(self) -> int:
        return 0 if self.kind == self.Kind.YES_NO else 1

    def fraction(self, value: int) -> float:
        """How much of the item's weight ``value`` earns: 0…1."""
        if self.kind == self.Kind.YES_NO:
            return 1.0 if value else 0.0
        return (value - 1) / (self.scale_max - 1)

    def fails(self, value: int | None) -> bool:
        """Whether ``value`` fails the whole evaluation (an auto-fail item answered "no")."""
        return self.auto_fail and value == 0


class Evaluation(models.Model):
    """One supervisor's scoring of one contact with one form.

    A draft is the evaluator's own; submitted, it is final and (unless it is a calibration
    exercise) shown to the agent, who acknowledges it or disputes it with a comment; a
    supervisor then resolves the dispute with a note. Upholding a dispute re-scores the
    evaluation: its answers change and the score before is kept, so the agent sees what
    their dispute changed. One evaluation per contact, form and
    evaluator, and one non-calibration ("official") evaluation per contact and form: the
    others scoring the same contact do it to calibrate."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Dispute upheld")
        REJECTED = "rejected", _("Dispute rejected")

    form = models.ForeignKey(
        EvaluationForm, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("form")
    )
    contact = models.ForeignKey(
        "callcenter.Contact", on_delete=models.CASCADE, related_name="evaluations"
    )
    agent = models.ForeignKey(
        "callcenter.Agent",
        on_delete=models.CASCADE,
        related_name="evaluations",
        verbose_name=_("agent"),
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="evaluations_made",
        verbose_name=_("evaluator"),
    )
    calibration = models.BooleanField(
        _("calibration"),
        default=False,
        help_text=_("A calibration exercise: not shown to the agent."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    score = models.DecimalField(
        _("score (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    auto_failed = models.BooleanField(_("auto-failed"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    dispute_comment = models.TextField(_("dispute"), blank=True)
    dispute_outcome = models.CharField(
        _("dispute outcome"), max_length=10, choices=Outcome.choices, blank=True
    )
    dispute_note = models.TextField(_("resolution note"), blank=True)
    dispute_resolved_at = models.DateTimeField(_("dispute resolved at"), null=True, blank=True)
    dispute_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    score_before_dispute = models.DecimalField(
        _("score before the dispute (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Set when an upheld dispute re-scored the evaluation."),
    )
    auto_failed_before_dispute = models.BooleanField(
        _("auto-failed before the dispute"), null=True, blank=True
    )
    dispute_resolution_seen_at = models.DateTimeField(
        _("resolution seen by the agent at"), null=True, blank=True
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "evaluator", "form"], name="qa_evaluation_once_per_evaluator"
            ),
            models.UniqueConstraint(
                fields=["contact", "form"],
                condition=Q(calibration=False),
                name="qa_evaluation_one_official_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", submitted_at__isnull=True)
                | Q(status="submitted", submitted_at__isnull=False, score__isnull=False),
                name="qa_evaluation_submitted_has_score",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="qa_evaluation_score_pct",
            ),
            models.CheckConstraint(
                condition=Q(auto_failed=False) | Q(score=0), name="qa_evaluation_auto_fail_zero"
            ),
            models.CheckConstraint(
                condition=Q(status="submitted", calibration=False)
                | Q(acknowledged_at__isnull=True, disputed_at__isnull=True),
                name="qa_evaluation_answered_only_when_shown",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(disputed_at__isnull=True),
                name="qa_evaluation_acknowledged_or_disputed",
            ),
            models.CheckConstraint(
                condition=Q(dispute_resolved_at__isnull=True)
                | Q(disputed_at__isnull=False, dispute_outcome__in=["upheld", "rejected"]),
                name="qa_evaluation_resolution_of_a_dispute",
            ),
            models.CheckConstraint(
                condition=Q(
                    score_before_dispute__isnull=True, auto_failed_before_dispute__isnull=True
                )
                | Q(
                    dispute_outcome="upheld",
                    score_before_dispute__gte=0,
                    score_before_dispute__lte=100,
                    auto_failed_before_dispute__isnull=False,
                ),
                name="qa_evaluation_rescored_by_upheld_dispute",
            ),
            models.CheckConstraint(
                condition=Q(dispute_resolution_seen_at__isnull=True)
                | Q(dispute_resolved_at__isnull=False),
                name="qa_evaluation_resolution_seen_once_resolved",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "status", "submitted_at"], name="qa_evaluation_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.form} · {self.contact} · {self.agent}"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def passed(self) -> bool | None:
        """Whether the score reaches the form's pass mark (None before it is scored)."""
        if self.score is None:
            return None
        return not self.auto_failed and self.score >= self.form.pass_mark

    @property
    def dispute_open(self) -> bool:
        return self.disputed_at is not None and self.dispute_resolved_at is None

    @property
    def awaiting_agent(self) -> bool:
        """Submitted, shown to the agent, neither acknowledged nor disputed yet."""
        return (
            self.is_submitted
            and not self.calibration
            and self.acknowledged_at is None
            and self.disputed_at is None
        )

    @property
    def rescored(self) -> bool:
        """An upheld dispute changed the score (or the auto-fail) the agent disputed."""
        return self.score_before_dispute is not None and (
            self.score_before_dispute != self.score
            or self.auto_failed_before_dispute != self.auto_failed
        )

    @property
    def resolution_unseen(self) -> bool:
        """The dispute was resolved and the agent has not opened the evaluation since."""
        return self.dispute_resolved_at is not None and self.dispute_resolution_seen_at is None


class EvaluationAnswer(models.Model):
    """The answer to one item: a value (yes=1/no=0, or 1…scale max) or N/A."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(EvaluationItem, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(_("value"), null=True, blank=True)
    not_applicable = models.BooleanField(_("N/A"), default=False)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["item__section__order", "item__section_id", "item__order", "item_id"]
        verbose_name = _("evaluation answer")
        verbose_name_plural = _("evaluation answers")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="qa_answer_once_per_item"),
            models.CheckConstraint(
                condition=Q(not_applicable=True, value__isnull=True)
                | Q(not_applicable=False, value__isnull=False),
                name="qa_answer_value_or_na",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {'N/A' if self.not_applicable else self.value}"


class EvaluationTask(models.Model):
    """A contact the weekly random sample queued for evaluation (once per agent and
    contact); done when an evaluation of it is submitted."""

    agent = models.ForeignKey(
        "callcenter.Agent", on_delete=models.CASCADE, related_name="evaluation_tasks"
    )
    contact = models.ForeignKey(
        "callcenter.Contact", on_delete=models.CASCADE, related_name="evaluation_tasks"
    )
    week = models.DateField(_("week (Monday)"))
    form = models.ForeignKey(
        EvaluationForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    evaluation = models.OneToOneField(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="task"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["week", "agent_id", "id"]
        verbose_name = _("evaluation task")
        verbose_name_plural = _("evaluation tasks")
        constraints = [
            models.UniqueConstraint(fields=["agent", "contact"], name="qa_task_once_per_contact"),
            # Django's week_day: 1 = Sunday, 2 = Monday.
            models.CheckConstraint(condition=Q(week__week_day=2), name="qa_task_week_is_monday"),
        ]
        indexes = [models.Index(fields=["week", "agent"], name="qa_task_week_agent")]

    def __str__(self) -> str:
        return f"{self.week} {self.agent} {self.contact}"
