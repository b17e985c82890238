"""Forms of the QA pages: the form builder, the scoring sheet, the agent's answer and the
supervisor's resolution of a dispute."""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.forms import inlineformset_factory
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from callcenter.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
)
from callcenter.services.qa import Answer

NOT_APPLICABLE = "na"


class SecondarySubmit(Submit):
    """A submit button drawn as an outline, beside the primary one."""

    field_classes = "btn btn-outline-primary"


class DangerSubmit(Submit):
    field_classes = "btn btn-outline-danger"


# The scoring sheet's two buttons (their names, as the labels are translated).
SAVE_DRAFT = "save_draft"
SUBMIT = "submit_evaluation"


# --- the form builder ---------------------------------------------------------------------
class EvaluationFormForm(forms.ModelForm):
    """A scorecard's name, description, pass mark and whether it is offered."""

    class Meta:
        model = EvaluationForm
        fields = ["name", "description", "pass_mark", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class _TableRowForm(forms.ModelForm):
    """A row of the builder's tables: Bootstrap classes on the bare widgets (the table
    template labels each one for screen readers)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = css


class SectionForm(_TableRowForm):
    class Meta:
        model = EvaluationSection
        fields = ["title", "order"]


class ItemForm(_TableRowForm):
    class Meta:
        model = EvaluationItem
        fields = [
            "text",
            "guidance",
            "kind",
            "scale_max",
            "weight",
            "allows_na",
            "auto_fail",
            "order",
        ]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 1})}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("auto_fail") and data.get("kind") != EvaluationItem.Kind.YES_NO:
            self.add_error("auto_fail", _("Only a yes/no question can fail the evaluation."))
        return data


SectionFormSet = inlineformset_factory(
    EvaluationForm, EvaluationSection, form=SectionForm, extra=1, can_delete=True
)
ItemFormSet = inlineformset_factory(
    EvaluationSection, EvaluationItem, form=ItemForm, extra=1, can_delete=True
)


def builder_formsets(
    form: EvaluationForm, data=None
) -> tuple[forms.BaseInlineFormSet, list[tuple[EvaluationSection, forms.BaseInlineFormSet]]]:
    """The builder's section formset and one item formset per saved section."""
    sections = SectionFormSet(data, instance=form, prefix="sections")
    items = [
        (section, ItemFormSet(data, instance=section, prefix=f"items-{section.pk}"))
        for section in form.sections.all()
    ]
    return sections, items


# --- scoring a contact --------------------------------------------------------------------
def _item_choices(item: EvaluationItem) -> list[tuple[str, str]]:
    if item.kind == EvaluationItem.Kind.YES_NO:
        choices = [("1", _("Yes")), ("0", _("No"))]
    else:
        choices = [(str(v), str(v)) for v in range(1, item.scale_max + 1)]
    if item.allows_na:
        choices.append((NOT_APPLICABLE, _("N/A")))
    return choices


def _item_label(item: EvaluationItem) -> str:
    badges = format_html(
        ' <span class="badge text-bg-light border">{}</span>',
        _("weight %(weight)s") % {"weight": item.weight},
    )
    if item.auto_fail:
        badges += format_html(' <span class="badge text-bg-danger">{}</span>', _("auto-fail"))
    return format_html("{}{}", item.text, badges)


class _ItemFieldsMixin:
    """One radio group (yes/no, a scale, N/A where allowed) and a comment per item of a
    form, the same for scoring a contact and for re-scoring it when a dispute is upheld."""

    fields: dict
    cleaned_data: dict

    def add_item_fields(self, sections: list[EvaluationSection]) -> list[Fieldset]:
        self.items: dict[int, EvaluationItem] = {}
        fieldsets = []
        for section in sections:
            parts = []
            for item in section.items.all():
                self.items[item.pk] = item
                name = f"item_{item.pk}"
                self.fields[name] = forms.ChoiceField(
                    label=_item_label(item),
                    choices=_item_choices(item),
                    required=False,
                    help_text=item.guidance,
                    widget=forms.RadioSelect(attrs={"data-item": item.pk}),
                )
                self.fields[f"note_{item.pk}"] = forms.CharField(
                    label=_("Comment on this question"),
                    required=False,
                    widget=forms.TextInput(attrs={"class": "form-control-sm"}),
                )
                parts.append(
                    Div(
                        InlineRadios(name),
                        Field(f"note_{item.pk}", wrapper_class="qa-item-note"),
                        css_class="qa-item border-bottom pb-2 mb-3",
                    )
                )
            fieldsets.append(Fieldset(section.title, *parts))
        return fieldsets

    @staticmethod
    def initial_answers(evaluation: Evaluation | None) -> dict:
        """The item fields' initial values from ``evaluation``'s answers."""
        initial: dict = {}
        if evaluation is None:
            return initial
        answer: EvaluationAnswer
        for answer in evaluation.answers.all():
            initial[f"item_{answer.item_id}"] = (
                NOT_APPLICABLE if answer.not_applicable else str(answer.value)
            )
            initial[f"note_{answer.item_id}"] = answer.comment
        return initial

    def answers(self) -> dict:
        """Answers by item id (value None for N/A), for the services."""
        result = {}
        for pk in self.items:
            raw = self.cleaned_data.get(f"item_{pk}")
            if not raw:
                continue
            value = None if raw == NOT_APPLICABLE else int(raw)
            result[pk] = Answer(value=value, comment=self.cleaned_data.get(f"note_{pk}", ""))
        return result


class EvaluateForm(_ItemFieldsMixin, forms.Form):
    """One radio group per item (and a comment), the overall comment and the calibration
    choice. ``submit`` asks for every item; a draft may leave some unanswered."""

    comment = forms.CharField(
        label=_("Overall comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    calibration = forms.BooleanField(
        label=_("Calibration exercise (not shown to the agent)"), required=False
    )

    def __init__(
        self,
        *args,
        sections: list[EvaluationSection],
        submit: bool = False,
        calibration_only: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.submit = submit
        fieldsets = self.add_item_fields(sections)
        if calibration_only:
            self.fields["calibration"].initial = True
            self.fields["calibration"].disabled = True
            self.fields["calibration"].help_text = _(
                "This contact already has an evaluation with this form, so yours calibrates."
            )
        self.helper = FormHelper()
        self.helper.form_id = "qa-evaluate"
        self.helper.layout = Layout(
            *fieldsets,
            "comment",
            "calibration",
        )
        self.helper.add_input(SecondarySubmit(SAVE_DRAFT, _("Save draft")))
        self.helper.add_input(Submit(SUBMIT, _("Submit the evaluation")))

    @classmethod
    def initial_from(cls, evaluation: Evaluation | None) -> dict:
        if evaluation is None:
            return {}
        return {
            "comment": evaluation.comment,
            "calibration": evaluation.calibration,
            **cls.initial_answers(evaluation),
        }

    def clean(self) -> dict:
        data = super().clean()
        if self.submit:
            for pk in self.items:
                if not data.get(f"item_{pk}"):
                    self.add_error(f"item_{pk}", _("Answer this question to submit."))
        return data


# --- the agent's answer and its resolution ------------------------------------------------
class DisputeForm(forms.Form):
    comment = forms.CharField(
        label=_("Why do you dispute this evaluation?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(DangerSubmit("dispute", _("Dispute")))


class ResolveForm(_ItemFieldsMixin, forms.Form):
    """The outcome, a note for the agent and the evaluation's answers, filled in as they
    stand: upholding re-scores with them (every question answered, as when submitting);
    rejecting keeps the evaluation, so it refuses changed answers rather than drop them."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Evaluation.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note for the agent"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, evaluation: Evaluation, sections: list[EvaluationSection], **kwargs):
        kwargs.setdefault("initial", self.initial_answers(evaluation))
        super().__init__(*args, **kwargs)
        fieldsets = self.add_item_fields(sections)
        self.helper = FormHelper()
        # The scoring sheet's id: static/js/qa.js shows the running score of this one too.
        self.helper.form_id = "qa-evaluate"
        self.helper.layout = Layout(
            InlineRadios("outcome"),
            "note",
            Fieldset(
                _("Answers (used when the dispute is upheld)"),
                *fieldsets,
                css_class="qa-rescore",
            ),
        )
        self.helper.add_input(Submit("resolve", _("Resolve the dispute")))

    def clean(self) -> dict:
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == Evaluation.Outcome.UPHELD:
            for pk in self.items:
                if not data.get(f"item_{pk}"):
                    self.add_error(f"item_{pk}", _("Answer this question to uphold the dispute."))
        elif outcome == Evaluation.Outcome.REJECTED:
            answer_fields = {f"item_{pk}" for pk in self.items} | {
                f"note_{pk}" for pk in self.items
            }
            if answer_fields & set(self.changed_data):
                raise forms.ValidationError(
                    _(
                        "You changed answers but rejected the dispute, which keeps the "
                        "evaluation as it was. Uphold the dispute to re-score it, or leave "
                        "the answers unchanged."
                    )
                )
        return data


class ContactLookupForm(forms.Form):
    """Go to the scoring page of any contact by its number."""

    contact = forms.IntegerField(label=_("Contact number"), min_value=1)

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_action = action
        self.helper.form_class = "row row-cols-auto g-2 align-items-end"
        self.helper.add_input(Submit("go", _("Evaluate"), css_class="btn-sm"))
