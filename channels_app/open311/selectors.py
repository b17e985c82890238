"""What Open311 apps may read: public services and the requests filed through Open311.

Services are the public leaves of the category tree: a public category none of whose
children is public, under public parents only (a parent is a group, not a service; hiding a
parent hides its branch). Requests are the tickets of channel open311 only: tickets from
calls and chats hold citizens' private questions and are never shown to third parties.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from callcenter.models import Channel
from tickets.models import Category, ServiceAttribute, Ticket, TicketEvent

MAX_REQUESTS = 1000
CLOSED_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def services() -> list[Category]:
    """The services offered, in tree order; each with ``group`` (its parent's name or None)
    and ``has_attributes`` set."""
    categories = list(
        Category.objects.annotate(
            has_attributes=Exists(ServiceAttribute.objects.filter(category=OuterRef("pk")))
        )
    )
    by_id = {category.pk: category for category in categories}
    with_public_children = {c.parent_id for c in categories if c.is_public and c.parent_id}

    def lineage(category: Category) -> list[Category]:
        chain = [category]
        while chain[-1].parent_id is not None:
            chain.append(by_id[chain[-1].parent_id])
        return chain[::-1]

    offered = []
    for category in categories:
        chain = lineage(category)
        if category.pk in with_public_children or not all(c.is_public for c in chain):
            continue
        category.group = by_id[category.parent_id].name if category.parent_id else None
        category.tree_key = [(c.sort_order, c.name) for c in chain]
        offered.append(category)
    return sorted(offered, key=lambda category: category.tree_key)


def service_get(code: str) -> Category | None:
    """The offered service with this code, or None (unknown, hidden or a group)."""
    return next((category for category in services() if category.code == code), None)


def service_attributes(service: Category) -> list[ServiceAttribute]:
    return list(service.attributes.order_by("order", "id"))


def attribute_options(attribute: ServiceAttribute) -> list[tuple[str, str]]:
    """A list attribute's (key, name) pairs; entries not shaped {"key", "name"} are skipped."""
    values = attribute.values if isinstance(attribute.values, list) else []
    return [
        (str(option["key"]), str(option.get("name", "")))
        for option in values
        if isinstance(option, dict) and "key" in option
    ]


def _closed() -> Q:
    return Q(status__in=CLOSED_STATUSES) | Q(merged_into__isnull=False)


# What a request record shows; loading only these keeps a 1,000-request answer quick.
REQUEST_FIELDS = (
    "number",
    "status",
    "merged_into_id",
    "description",
    "address",
    "address_id",
    "latitude",
    "longitude",
    "media_url",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "resolution_due",
    "category__name",
    "category__code",
    "department__name",
)


def open311_tickets() -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(channel=Channel.OPEN311)
        .select_related("category", "department")
        .only(*REQUEST_FIELDS)
        .order_by("-created_at", "-id")
    )


def service_requests(
    *,
    ids: list[str],
    service_codes: list[str],
    statuses: list[str],
    start: datetime | None,
    end: datetime | None,
) -> list[Ticket]:
    """The requests matching GET requests' filters, newest first, at most 1,000.
    Listing ``ids`` overrides the other filters."""
    tickets = open311_tickets()
    if ids:
        return list(tickets.filter(number__in=ids)[:MAX_REQUESTS])
    if start is not None:
        tickets = tickets.filter(created_at__gte=start)
    if end is not None:
        tickets = tickets.filter(created_at__lte=end)
    if service_codes:
        tickets = tickets.filter(category__code__in=service_codes)
    if set(statuses) == {"closed"}:
        tickets = tickets.filter(_closed())
    elif set(statuses) == {"open"}:
        tickets = tickets.exclude(_closed())
    return list(tickets[:MAX_REQUESTS])


def service_request_get(number: str) -> Ticket | None:
    return open311_tickets().filter(number=number).first()


def status_notes(tickets: list[Ticket]) -> dict[int, str]:
    """Each ticket's latest answer given to the citizen (public ANSWERED events only, never
    an internal note), by ticket id."""
    answers = (
        TicketEvent.objects.filter(
            ticket__in=[ticket.pk for ticket in tickets],
            type=TicketEvent.Type.ANSWERED,
            public=True,
        )
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "data")
    )
    notes = {}
    for ticket_id, data in answers:
        if isinstance(data, dict) and data.get("answer"):
            notes[ticket_id] = str(data["answer"])
    return notes


def is_closed(ticket: Ticket) -> bool:
    return ticket.status in CLOSED_STATUSES or ticket.merged_into_id is not None
