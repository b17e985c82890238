"""The wallboard's action forms: an agent's state, a waiting contact's queue."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from callcenter.models import Presence, Queue
from callcenter.services.supervision import SUPERVISOR_PRESENCES


class AgentPresenceForm(forms.Form):
    presence = forms.ChoiceField(
        label=_("State"),
        choices=[(value, Presence(value).label) for value in SUPERVISOR_PRESENCES],
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=80,
        required=False,
        help_text=_("Shown to the agent; a break needs one."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ContactQueueForm(forms.Form):
    queue = forms.ModelChoiceField(
        label=_("Move to queue"),
        queryset=Queue.objects.filter(is_active=True),
        error_messages={"invalid_choice": _("Choose an open queue.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
