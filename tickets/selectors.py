"""Reads for tickets."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from callcenter.models import Citizen, Contact, Message
from callcenter.privacy import mask_transcript_text
from channels_app.models import OutboundMessage
from tickets.models import (
    ACTIVE_STATUSES,
    Category,
    Department,
    ServiceAttribute,
    SlaAlert,
    SlaPolicy,
    SurveyAnswer,
    Ticket,
    TicketEvent,
)

INBOX_STATUSES = (Ticket.Status.TRANSFERRED, Ticket.Status.OPEN)
# Outbound messages that did not reach the citizen.
OUTBOUND_NOT_DELIVERED = (OutboundMessage.Status.FAILED, OutboundMessage.Status.UNDELIVERED)


def ticket_outbound_messages(ticket: Ticket) -> QuerySet[OutboundMessage]:
    """What was sent to the citizen about this ticket (answers, surveys) and its contacts
    (chat transcripts), oldest first."""
    return OutboundMessage.objects.filter(
        Q(ticket=ticket) | Q(contact__in=ticket.contacts.values("pk"))
    ).order_by("created_at", "id")


def department_inbox(*, department: Department) -> QuerySet[Ticket]:
    """Tickets a department still owes an answer on, soonest due first."""
    return (
        Ticket.objects.filter(department=department, status__in=INBOX_STATUSES)
        .select_related("category", "citizen")
        .order_by("resolution_due", "created_at")
    )


def sla_policy_list() -> list[SlaPolicy]:
    """The active SLA policies with their calendars, for matching many tickets at once."""
    return list(SlaPolicy.objects.filter(is_active=True).select_related("calendar"))


def sla_policy_for(
    *, category, priority: int, channel: str, policies: list[SlaPolicy] | None = None
):
    """The most specific active SLA policy matching a ticket's category (or its parent),
    priority and channel; None when no policy applies. ``policies`` (from
    :func:`sla_policy_list`) spares a query per ticket when the caller matches many."""
    if policies is None:
        policies = sla_policy_list()
    categories = {c.pk for c in (category, category.parent if category else None) if c}
    candidates = [
        policy
        for policy in policies
        if (policy.category_id is None or policy.category_id in categories)
        and (policy.priority is None or policy.priority == priority)
        and policy.channel in ("", channel)
    ]

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


TICKET_SORTS = {
    "created": ("created_at",),
    "-created": ("-created_at",),
    "due": (F("resolution_due").asc(nulls_last=True), "-created_at"),
    "-due": (F("resolution_due").desc(nulls_last=True), "-created_at"),
    "updated": ("updated_at",),
    "-updated": ("-updated_at",),
    "priority": ("-priority", "-created_at"),
}


def category_with_descendants(category: Category) -> list[int]:
    """The ids of ``category`` and every category below it."""
    ids, level = [category.pk], [category.pk]
    while level:
        level = list(Category.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        ids.extend(level)
    return ids


def _text_matches(term: str) -> Q:
    """A ticket whose number, subject, inquiry, answer or one internal note holds ``term``.

    The notes are looked up first, so the ticket condition is a plain OR of indexed
    columns and ids (PostgreSQL answers each from its trigram index, migration 0005)
    instead of a per-ticket subquery that forces a scan of every ticket."""
    in_notes = TicketEvent.objects.filter(
        type=TicketEvent.Type.COMMENTED, data__text__icontains=term
    ).values_list("ticket_id", flat=True)
    return (
        Q(number__icontains=term)
        | Q(subject__icontains=term)
        | Q(description__icontains=term)
        | Q(answer__icontains=term)
        | Q(pk__in=list(in_notes))
    )


def ticket_list(
    *,
    user,
    q: str = "",
    status: str = "",
    category: Category | None = None,
    channel: str = "",
    department: Department | None = None,
    assignee: str = "",
    overdue: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    citizen: str = "",
    sort: str = "-created",
) -> QuerySet[Ticket]:
    """The centre's ticket list, filtered. ``assignee`` is a user id, "me" or "none";
    dates are days in Seoul; every word of ``q`` must appear somewhere in the ticket."""
    # category__parent__parent: each row shows its category's path (the tree is 2–3 deep).
    tickets = Ticket.objects.select_related(
        "category__parent__parent", "citizen", "assignee", "department"
    )
    if status:
        tickets = tickets.filter(status=status)
    if category is not None:
        tickets = tickets.filter(category_id__in=category_with_descendants(category))
    if channel:
        tickets = tickets.filter(channel=channel)
    if department is not None:
        tickets = tickets.filter(department=department)
    if assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee.isdigit():
        tickets = tickets.filter(assignee_id=int(assignee))
    if overdue:
        tickets = tickets.filter(
            status__in=ACTIVE_STATUSES,
            merged_into__isnull=True,
            sla_paused_at__isnull=True,
            resolution_due__lt=timezone.now(),
        )
    seoul = ZoneInfo(settings.TIME_ZONE)
    if date_from is not None:
        tickets = tickets.filter(created_at__gte=datetime.combine(date_from, time.min, seoul))
    if date_to is not None:
        next_day = date_to + timedelta(days=1)
        tickets = tickets.filter(created_at__lt=datetime.combine(next_day, time.min, seoul))
    if citizen.strip():
        value = citizen.strip()
        # The citizens first, then their tickets by index: an OR across the join makes
        # PostgreSQL read every ticket.
        matching = Citizen.objects.by_phone(value) | Citizen.objects.filter(name__icontains=value)
        tickets = tickets.filter(citizen__in=matching)
    for term in q.split():
        tickets = tickets.filter(_text_matches(term))
    return tickets.order_by(*TICKET_SORTS.get(sort, TICKET_SORTS["-created"]))


FCR_WINDOW = timedelta(days=7)


def first_contact_resolutions(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The tickets of ``tickets`` resolved on first contact — the one definition of FCR
    (DESIGN.md) that the dashboard, reports and :func:`first_contact_resolved` share.

    A resolved, unmerged ticket with exactly one contact, never transferred to a department,
    with no repeat contact linked to it, and no new contact (a call, a chat, a ticket from
    any channel) from the same citizen on the same category within 7 days of its resolution.
    """
    resolved_at = OuterRef("resolved_at")
    window = {"created_at__gt": resolved_at, "created_at__lte": resolved_at + FCR_WINDOW}
    later_ticket = Ticket.objects.filter(
        citizen_id=OuterRef("citizen_id"), category_id=OuterRef("category_id"), **window
    ).exclude(pk=OuterRef("pk"))
    later_contact = Contact.objects.filter(
        citizen_id=OuterRef("citizen_id"), tickets__category_id=OuterRef("category_id"), **window
    )
    transferred = TicketEvent.objects.filter(
        ticket_id=OuterRef("pk"), type=TicketEvent.Type.TRANSFERRED
    )
    return (
        tickets.filter(resolved_at__isnull=False, merged_into__isnull=True, repeat_contacts=0)
        .annotate(contact_count=Count("contacts"))
        .filter(contact_count=1)
        .exclude(Exists(transferred))
        .exclude(Exists(later_ticket) | Exists(later_contact))
    )


def fcr_rate(*, start: datetime, end: datetime) -> tuple[int, int]:
    """(resolved on first contact, resolved) for tickets resolved in [start, end); merged
    duplicates are not counted. See :func:`first_contact_resolutions`."""
    resolved = Ticket.objects.filter(
        resolved_at__gte=start, resolved_at__lt=end, merged_into__isnull=True
    )
    return first_contact_resolutions(resolved).count(), resolved.count()


def first_contact_resolved(ticket: Ticket) -> bool:
    """Whether ``ticket`` counts as resolved on first contact (see :func:`fcr_rate`)."""
    return first_contact_resolutions(Ticket.objects.filter(pk=ticket.pk)).exists()


def csat(*, start: datetime, end: datetime) -> tuple[int, int]:
    """Satisfaction answers given in [start, end): (scored 4–5, all answers) — DESIGN.md's
    CSAT. Happy-call surveys and chat ratings both count."""
    answers = SurveyAnswer.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = answers.aggregate(satisfied=Count("pk", filter=Q(score__gte=4)), answered=Count("pk"))
    return counts["satisfied"], counts["answered"]


def survey_fcr(*, start: datetime, end: datetime) -> tuple[int, int]:
    """The citizens' own word on first-contact resolution, from answers given in
    [start, end): (said "solved", answered the question)."""
    answers = SurveyAnswer.objects.filter(
        created_at__gte=start, created_at__lt=end, solved__isnull=False
    )
    counts = answers.aggregate(solved=Count("pk", filter=Q(solved=True)), answered=Count("pk"))
    return counts["solved"], counts["answered"]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def ticket_overview(*, days: int = 30, now: datetime | None = None) -> dict:
    """The supervisor's ticket figures: what is open now, late now, and how the last
    ``days`` went (SLA breaches, FCR, CSAT as DESIGN.md defines them)."""
    now = now or timezone.now()
    start = now - timedelta(days=days)
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES, merged_into=None)
    counts = active.aggregate(
        active=Count("pk"),
        transferred=Count("pk", filter=Q(status=Ticket.Status.TRANSFERRED)),
        overdue=Count(
            "pk", filter=Q(resolution_due__lt=now, sla_paused_at=None, resolution_due__isnull=False)
        ),
    )
    first_contact, resolved = fcr_rate(start=start, end=now)
    satisfied, answered = csat(start=start, end=now)
    return {
        **counts,
        "breaches": SlaAlert.objects.filter(
            level=SlaAlert.Level.BREACH, created_at__gte=start
        ).count(),
        "resolved": resolved,
        "fcr": _ratio(first_contact, resolved),
        "survey_answers": answered,
        "csat": _ratio(satisfied, answered),
        "days": days,
    }


def ticket_attribute_answers(ticket: Ticket) -> list[tuple[str, str]]:
    """The Open311 attribute answers as (question, answer) for staff to read: questions from
    the category's service definition in its order, list keys shown by their names; answers
    to questions no longer defined keep their code as the question."""
    answers = ticket.attributes if isinstance(ticket.attributes, dict) else {}
    if not answers:
        return []
    definitions = (
        list(ServiceAttribute.objects.filter(category_id=ticket.category_id))
        if ticket.category_id
        else []
    )
    rows = []
    for definition in definitions:
        if definition.code in answers:
            value = answers[definition.code]
            rows.append((definition.description, _attribute_display(definition, value)))
    known = {definition.code for definition in definitions}
    for code, value in answers.items():
        if code not in known:
            rows.append((code, _attribute_display(None, value)))
    return rows


def _attribute_display(definition: ServiceAttribute | None, value) -> str:
    names = {}
    if definition is not None and isinstance(definition.values, list):
        names = {
            str(option["key"]): str(option.get("name") or option["key"])
            for option in definition.values
            if isinstance(option, dict) and "key" in option
        }
    values = value if isinstance(value, list) else [value]
    return ", ".join(names.get(str(item), str(item)) for item in values)


def ticket_department_transcripts(ticket: Ticket) -> list[dict]:
    """The linked contacts' conversations as a department officer may read them: only what
    the citizen and the agent said to each other (no internal notes, bot or system lines),
    registration and phone numbers masked."""
    said = Message.objects.filter(
        internal=False, sender__in=[Message.Sender.CITIZEN, Message.Sender.AGENT]
    ).order_by("created_at", "id")
    contacts = ticket.contacts.order_by("created_at").prefetch_related(
        Prefetch("messages", queryset=said, to_attr="said")
    )
    return [
        {
            "contact": contact,
            "messages": [
                {
                    "sender": message.get_sender_display(),
                    "sender_code": message.sender,
                    "text": mask_transcript_text(message.text),
                    "created_at": message.created_at,
                }
                for message in contact.said
            ],
        }
        for contact in contacts
    ]
