from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from callcenter.models import SYSTEM_ONLY_PRESENCES, Agent, CallbackRequest, Presence, Queue


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Log in"), css_class="w-100"))


class _SystemOnlyOptionsSelect(forms.Select):
    """Shows every presence, so the list always agrees with the badge, but greys out those
    only the system sets (nobody chooses "not responding")."""

    system_only = SYSTEM_ONLY_PRESENCES

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.system_only:
            option["attrs"]["disabled"] = True
        return option


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(
        label=_("Presence"),
        choices=Presence.choices,
        widget=_SystemOnlyOptionsSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=80, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row row-cols-auto g-2 align-items-end"
        self.helper.add_input(Submit("submit", _("Change"), css_class="btn-sm"))

    def clean_presence(self) -> str:
        presence = self.cleaned_data["presence"]
        if presence in SYSTEM_ONLY_PRESENCES:
            raise forms.ValidationError(_("Only the system sets this presence."))
        return presence

    def clean(self) -> dict:
        data = super().clean()
        if data.get("presence") == Presence.BREAK and not data.get("reason", "").strip():
            self.add_error("reason", _("Give a reason for the break."))
        return data


class CallbackFilterForm(forms.Form):
    """The call-back work list's filters, read from the query string."""

    status = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("active", _("Open or taken")), ("all", _("All"))]
        + list(CallbackRequest.Status.choices),
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"), required=False, queryset=Queue.objects.filter(is_active=True)
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-auto g-2 align-items-end"
        self.helper.add_input(Submit("filter", _("Filter"), css_class="btn-sm"))


class CallbackOutcomeForm(forms.Form):
    """What came of the call the agent just made."""

    result = forms.ChoiceField(
        label=_("Result"), choices=CallbackRequest.Result.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("record", _("Record the outcome")))


class CallbackCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CallbackReassignForm(forms.Form):
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=Agent.objects.all())
