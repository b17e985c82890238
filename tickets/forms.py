from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Category, Department


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.path


class ContactTicketForm(forms.Form):
    """The agent's ticket panel: what was asked, what was answered, where it goes next."""

    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Inquiry"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    answer = forms.CharField(
        label=_("Answer given"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("open", _("Keep open")),
            ("resolve", _("Resolved on this contact")),
            ("transfer", _("Transfer to a department")),
        ],
        initial="resolve",
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True), required=False
    )
    transfer_note = forms.CharField(label=_("Transfer note"), max_length=500, required=False)
    callback = forms.BooleanField(label=_("Citizen asks for a call-back"), required=False)
    callback_phone = forms.CharField(label=_("Call-back phone"), max_length=30, required=False)

    def __init__(self, *args, contact_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            children__isnull=True
        ).select_related("parent__parent")
        self.helper = FormHelper()
        self.helper.form_id = f"ticket-form-{contact_id}"
        self.helper.attrs = {
            "hx-post": f"/agent/contacts/{contact_id}/ticket/",
            "hx-target": f"#ticket-panel-{contact_id}",
            "hx-swap": "innerHTML",
        }
        self.helper.layout = Layout(
            Field("category"),
            Field("subject"),
            Field("description"),
            Field("answer", css_class="js-answer-box"),
            Field("outcome"),
            Div(Field("department"), Field("transfer_note"), css_class="js-transfer-fields"),
            Field("callback"),
            Field("callback_phone"),
            HTML('<div class="d-flex gap-2">'),
            Submit("save", _("Save ticket"), css_class="btn-primary"),
            Submit("wrapup", _("Save and finish wrap-up"), css_class="btn-success"),
            HTML("</div>"),
        )

    def clean(self) -> dict:
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == "transfer" and not data.get("department"):
            self.add_error("department", _("Choose the department to transfer to."))
        if outcome == "resolve" and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer given to resolve the ticket."))
        if data.get("callback") and not (data.get("callback_phone") or "").strip():
            self.add_error("callback_phone", _("Enter the number to call back."))
        return data
