"""Forms of the department transfer work: the officer's answer, question and return, and the
centre's transfer and reply to a question."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Department


def _text(label: str, *, rows: int = 3, max_length: int = 4000) -> forms.CharField:
    """A required text area whose whitespace-only input counts as empty."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class DepartmentAnswerForm(forms.Form):
    answer = _text(_("Answer for the citizen"), rows=5)


class InfoRequestForm(forms.Form):
    question = _text(_("What does the department need to know?"), max_length=1000)


class DepartmentReturnForm(forms.Form):
    reason = _text(_("Why is this ticket not for your department?"), rows=2, max_length=500)


class DepartmentTransferForm(forms.Form):
    prefix = "transfer"

    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True)
    )
    note = _text(_("Note for the department"), rows=2, max_length=500)


class InfoProvideForm(forms.Form):
    prefix = "info"

    text = _text(_("Information for the department"), rows=2, max_length=1000)
