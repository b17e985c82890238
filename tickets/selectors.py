"""Reads for tickets."""

from django.db.models import QuerySet

from tickets.models import Department, Ticket

INBOX_STATUSES = (Ticket.Status.TRANSFERRED, Ticket.Status.OPEN)


def department_inbox(*, department: Department) -> QuerySet[Ticket]:
    """Tickets a department still owes an answer on, soonest due first."""
    return (
        Ticket.objects.filter(department=department, status__in=INBOX_STATUSES)
        .select_related("category", "citizen")
        .order_by("resolution_due", "created_at")
    )
