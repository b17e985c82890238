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


def sla_policy_for(*, category, priority: int, channel: str):
    """The most specific active SLA policy matching a ticket's category (or its parent),
    priority and channel; None when no policy applies."""
    from django.db.models import Q

    from tickets.models import SlaPolicy

    categories = [c.pk for c in (category, category.parent if category else None) if c]
    candidates = (
        SlaPolicy.objects.filter(is_active=True)
        .filter(
            Q(category__isnull=True) | Q(category__in=categories),
            Q(priority__isnull=True) | Q(priority=priority),
            Q(channel="") | Q(channel=channel),
        )
        .select_related("calendar")
    )

    def specificity(policy) -> tuple:
        exact_category = category is not None and policy.category_id == category.pk
        return (
            policy.category_id is not None,
            exact_category,
            policy.priority is not None,
            bool(policy.channel),
            -policy.pk,
        )

    return max(candidates, key=specificity, default=None)
