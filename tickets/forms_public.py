"""Forms citizens fill in without logging in: the happy-call survey and ticket tracking."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.formfields import PhoneNumberField

SCORE_CHOICES = [
    (1, pgettext_lazy("satisfaction", "Very dissatisfied")),
    (2, pgettext_lazy("satisfaction", "Dissatisfied")),
    (3, pgettext_lazy("satisfaction", "Neutral")),
    (4, pgettext_lazy("satisfaction", "Satisfied")),
    (5, pgettext_lazy("satisfaction", "Very satisfied")),
]
SOLVED_CHOICES = [("yes", _("Yes")), ("no", _("No"))]


class SurveyForm(forms.Form):
    """Rendered by hand in survey.html: large touch targets for the radios."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your inquiry?"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how satisfied you are."),
            "invalid_choice": _("Choose a satisfaction score from 1 to 5."),
        },
    )
    solved = forms.ChoiceField(
        label=_("Was your problem solved?"),
        choices=SOLVED_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us whether your problem was solved.")},
    )
    comment = forms.CharField(
        label=_("Anything else you would like to tell us? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
    )


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("Inquiry number"),
        max_length=20,
        help_text=_("As given to you, e.g. 120-2026-000123."),
        validators=[
            RegexValidator(
                r"^120-\d{4}-\d{6}$", _("Enter the number as given, e.g. 120-2026-000123.")
            )
        ],
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    phone = PhoneNumberField(
        label=_("Phone number you gave us"),
        region="KR",
        error_messages={"invalid": _("Enter a valid phone number, e.g. 010-1234-5678.")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
