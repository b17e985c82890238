from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from callcenter.models import Presence


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Log in"), css_class="w-100"))


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(
        label=_("Presence"),
        choices=[
            (value, label) for value, label in Presence.choices if value != Presence.NOT_RESPONDING
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=80, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row row-cols-auto g-2 align-items-end"
        self.helper.add_input(Submit("submit", _("Change"), css_class="btn-sm"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("presence") == Presence.BREAK and not data.get("reason", "").strip():
            self.add_error("reason", _("Give a reason for the break."))
        return data
