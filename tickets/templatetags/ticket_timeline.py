"""How a ticket's history reads: the fields an "updated" event names, in the UI's words."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket

register = template.Library()

# The labels of the staff forms, so the timeline names a field as the agent saw it.
FIELD_LABELS = {
    "subject": _("Subject"),
    "description": _("Inquiry"),
    "answer": _("Answer given"),
    "category": _("Category"),
    "priority": _("Priority"),
    "assignee": _("Assignee"),
}


@register.filter
def ticket_field_label(field: str) -> str:
    """'answer' → 'Answer given' (안내한 답변); an unknown field keeps its name."""
    if field in FIELD_LABELS:
        return str(FIELD_LABELS[field])
    try:
        return str(Ticket._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a field since removed still shows its stored name
        return field


@register.filter
def ticket_field_value(value: str | None, field: str) -> str | None:
    """A recorded value as shown: priorities by their label ('3' → 'High')."""
    if field == "priority" and value is not None and value.isdigit():
        choices = dict(Ticket.Priority.choices)
        return str(choices.get(int(value), value))
    return value
