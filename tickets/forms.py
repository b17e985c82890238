from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row, Submit
from django import forms
from django.db import models
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from callcenter.models import Channel, User
from callcenter.roles import AGENT, SUPERVISOR
from tickets.models import Category, Department, Ticket


class CategoryChoiceIterator(ModelChoiceIterator):
    """Categories in path order (교통/도로, 교통/주정차, 세무/…), not the order of leaf names."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for category in sorted(self.queryset, key=lambda node: node.path_sort_key):
            yield self.choice(category)


class CategoryChoiceField(forms.ModelChoiceField):
    iterator = CategoryChoiceIterator

    def label_from_instance(self, obj: Category) -> str:
        return obj.path


class TicketOutcome(models.TextChoices):
    """What the agent's ticket panel does with the ticket on save."""

    KEEP_OPEN = "open", _("Keep open")
    RESOLVE = "resolve", _("Resolved on this contact")
    TRANSFER = "transfer", _("Transfer to a department")


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
        choices=TicketOutcome.choices,
        # Nothing is resolved unless the agent says so.
        initial=TicketOutcome.KEEP_OPEN,
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
            HTML('<div class="d-flex gap-2 ticket-actions">'),
            Submit("save", _("Save ticket"), css_class="btn-primary"),
            Submit("wrapup", _("Save and finish wrap-up"), css_class="btn-success"),
            HTML("</div>"),
        )

    def clean(self) -> dict:
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == TicketOutcome.TRANSFER and not data.get("department"):
            self.add_error("department", _("Choose the department to transfer to."))
        if outcome == TicketOutcome.TRANSFER and not (data.get("transfer_note") or "").strip():
            self.add_error("transfer_note", _("Write a note for the department."))
        if outcome == TicketOutcome.RESOLVE and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer given to resolve the ticket."))
        if data.get("callback") and not (data.get("callback_phone") or "").strip():
            self.add_error("callback_phone", _("Enter the number to call back."))
        return data


def centre_staff():
    """Users a ticket can be assigned to: the centre's agents and supervisors."""
    return (
        User.objects.filter(groups__name__in=[AGENT, SUPERVISOR], is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class TicketFilterForm(forms.Form):
    """The ticket list's filters, read from the query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + Ticket.Status.choices
    )
    category = CategoryChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.none()
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any"))] + Channel.choices
    )
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.all()
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    citizen = forms.CharField(
        label=_("Citizen"), required=False, max_length=80, help_text=_("Name or phone number")
    )
    date_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Created until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("due", _("Due soonest")),
            ("-due", _("Due latest")),
            ("-updated", _("Recently updated")),
            ("updated", _("Least recently updated")),
            ("priority", _("Highest priority")),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.select_related("parent__parent")
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *((str(user.pk), user.display_name) for user in centre_staff()),
        ]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "ticket-filters"
        self.helper.attrs = {"role": "search"}
        self.helper.layout = Layout(
            Row(
                Column("q", css_class="col-md-4"),
                Column("status", css_class="col-md-2"),
                Column("category", css_class="col-md-3"),
                Column("channel", css_class="col-md-3"),
            ),
            Row(
                Column("department", css_class="col-md-3"),
                Column("assignee", css_class="col-md-3"),
                Column("citizen", css_class="col-md-3"),
                Column("sort", css_class="col-md-3"),
            ),
            Row(
                Column("date_from", css_class="col-md-3"),
                Column("date_to", css_class="col-md-3"),
                Column("overdue", css_class="col-md-3 pt-md-4"),
                Column(
                    HTML(
                        f'<button type="submit" class="btn btn-primary">{_("Filter")}</button>'
                        f'<a class="btn btn-outline-secondary ms-2" href="?">{_("Clear")}</a>'
                    ),
                    css_class="col-md-3 pt-md-4",
                ),
            ),
        )

    def filters(self) -> dict:
        """The cleaned filters as keyword arguments of ``selectors.ticket_list``."""
        data = self.cleaned_data
        return {
            "q": data["q"],
            "status": data["status"],
            "category": data["category"],
            "channel": data["channel"],
            "department": data["department"],
            "assignee": data["assignee"],
            "overdue": data["overdue"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "citizen": data["citizen"],
            "sort": data["sort"] or "-created",
        }


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)


class TicketBulkForm(forms.Form):
    """A supervisor's change to the tickets ticked in the list."""

    tickets = forms.ModelMultipleChoiceField(queryset=Ticket.objects.all())
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("assign", _("Assign to")),
            ("category", _("Change category to")),
            ("close", _("Close")),
        ],
    )
    assignee = StaffChoiceField(label=_("Assignee"), required=False, queryset=User.objects.none())
    category = CategoryChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.none()
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = centre_staff()
        self.fields["category"].queryset = Category.objects.select_related("parent__parent")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets the tickets."))
        if data.get("action") == "category" and not data.get("category"):
            self.add_error("category", _("Choose the new category."))
        return data


class TicketNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TicketResolveForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer given to the citizen"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TicketAssignForm(forms.Form):
    assignee = StaffChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = centre_staff()


class TicketReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class TicketAttachmentForm(forms.Form):
    file = forms.FileField(label=_("File (image or PDF)"))
    public = forms.BooleanField(label=_("The citizen may see this file"), required=False)


class TicketMergeForm(forms.Form):
    target = forms.CharField(
        label=_("Merge into ticket number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "120-2026-000123"}),
    )

    def clean_target(self) -> Ticket:
        number = self.cleaned_data["target"].strip()
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is None:
            raise forms.ValidationError(_("No ticket has this number."))
        return ticket
