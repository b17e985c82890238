"""Reads for the contact centre: service metrics, queue overviews, an agent's day.

Metric definitions are DESIGN.md's, computed in the database so they hold at scale.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from callcenter.models import REALTIME_CHANNELS, Agent, Contact, Presence, Queue
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, user_roles

VOICE_THRESHOLD = timedelta(seconds=20)
CHAT_THRESHOLD = timedelta(seconds=60)
SHORT_ABANDON = timedelta(seconds=5)


@dataclass(frozen=True)
class ContactMetrics:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_in_threshold: int
    total_wait: timedelta
    handled: int
    total_handle: timedelta

    @property
    def service_level(self) -> float | None:
        """Answered within T ÷ (offered − abandoned within 5 s)."""
        base = self.offered - self.short_abandoned
        return self.answered_in_threshold / base if base else None

    @property
    def asa(self) -> timedelta | None:
        return self.total_wait / self.answered if self.answered else None

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def aht(self) -> timedelta | None:
        return self.total_handle / self.handled if self.handled else None


def _duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def contact_metrics(contacts: QuerySet[Contact]) -> ContactMetrics:
    """Service level, ASA, abandonment and AHT of queued ``contacts``."""
    realtime = Q(channel__in=list(REALTIME_CHANNELS))
    answered = Q(answered_at__isnull=False)
    handled = answered & Q(ended_at__isnull=False)
    row = (
        contacts.filter(queued_at__isnull=False)
        .annotate(
            wait=_duration("answered_at", "queued_at"),
            abandon_wait=_duration("ended_at", "queued_at"),
            talk=_duration("ended_at", "answered_at"),
            wrapup=_duration("wrapup_ended_at", "ended_at"),
        )
        .aggregate(
            n_offered=Count("id"),
            n_answered=Count("id", filter=answered),
            n_abandoned=Count("id", filter=Q(abandoned=True, abandon_wait__gt=SHORT_ABANDON)),
            n_short_abandoned=Count(
                "id", filter=Q(abandoned=True, abandon_wait__lte=SHORT_ABANDON)
            ),
            n_in_threshold=Count(
                "id",
                filter=answered
                & (
                    (realtime & Q(wait__lte=VOICE_THRESHOLD))
                    | (~realtime & Q(wait__lte=CHAT_THRESHOLD))
                ),
            ),
            n_total_wait=Sum("wait", filter=answered),
            n_handled=Count("id", filter=handled),
            n_total_talk=Sum("talk", filter=handled),
            n_total_wrapup=Sum("wrapup", filter=handled & Q(wrapup_ended_at__isnull=False)),
        )
    )
    return ContactMetrics(
        offered=row["n_offered"],
        answered=row["n_answered"],
        abandoned=row["n_abandoned"],
        short_abandoned=row["n_short_abandoned"],
        answered_in_threshold=row["n_in_threshold"],
        total_wait=row["n_total_wait"] or timedelta(),
        handled=row["n_handled"],
        total_handle=(row["n_total_talk"] or timedelta()) + (row["n_total_wrapup"] or timedelta()),
    )


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of a calendar day in Asia/Seoul, as aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def contacts_on(day: date) -> QuerySet[Contact]:
    start, end = local_day_bounds(day)
    return Contact.objects.filter(queued_at__gte=start, queued_at__lt=end)


def queue_for_language(*, language: str, channel: str) -> Queue | None:
    """The queue a contact in ``language`` waits in on ``channel``: Korean ones in the
    channel's own queue (``chat`` for chats, ``general`` for calls), the others in the
    foreign-language queue; without those, any active queue that takes the channel."""
    korean = "chat" if channel != "voice" else "general"
    code = korean if language == "ko" else "foreign"
    queue = Queue.objects.filter(code=code, is_active=True).first()
    if queue is None:
        queue = next(
            (q for q in Queue.objects.filter(is_active=True) if channel in q.channels), None
        )
    return queue


def waiting_by_queue() -> dict[int, int]:
    """Contacts waiting right now, by queue id."""
    return dict(
        Contact.objects.waiting()
        .filter(queue__isnull=False, queued_at__isnull=False)
        .values_list("queue")
        .annotate(n=Count("id"))
    )


def queue_overview() -> list[dict]:
    """Each active queue with its waiting contacts and today's service figures."""
    waiting = waiting_by_queue()
    today = contacts_on(timezone.localdate())
    rows = []
    for queue in Queue.objects.filter(is_active=True).prefetch_related("required_skills"):
        metrics = contact_metrics(today.filter(queue=queue))
        rows.append({"queue": queue, "waiting": waiting.get(queue.pk, 0), "metrics": metrics})
    return rows


def queues_for_agent(agent: Agent) -> list[Queue]:
    """Active queues whose required skills the agent has all of."""
    own = set(agent.skills.values_list("pk", flat=True))
    return [
        queue
        for queue in Queue.objects.filter(is_active=True).prefetch_related("required_skills")
        if {skill.pk for skill in queue.required_skills.all()} <= own
    ]


def presence_counts() -> dict[str, int]:
    """Agents by presence; one whose console is gone counts as offline, whatever it says."""
    counts = dict(
        Agent.objects.signed_in().order_by().values_list("presence").annotate(n=Count("id"))
    )
    counts[Presence.OFFLINE] = Agent.objects.count() - sum(counts.values())
    return {value: counts.get(value, 0) for value in Presence.values}


def daily_contact_counts(*, days: int) -> list[dict]:
    """Contacts per Seoul calendar day for the last ``days`` days, oldest first, zeros kept."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    start, _end = local_day_bounds(first)
    rows = (
        Contact.objects.filter(queued_at__gte=start)
        .annotate(day=TruncDate("queued_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(offered=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)))
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(
            {"day": day, "offered": row.get("offered", 0), "answered": row.get("answered", 0)}
        )
    return result


def live_contacts(limit: int = 100) -> QuerySet[Contact]:
    """Contacts waiting or in conversation now, longest running first (the wallboard list)."""
    return (
        Contact.objects.filter(ended_at__isnull=True, abandoned=False, queued_at__isnull=False)
        .select_related("queue", "agent", "citizen")
        .order_by("queued_at")[:limit]
    )


def citizen_phone_revealable(*, user, citizen) -> bool:
    """Whether ``user`` may see ``citizen``'s full phone: supervisors and administrators,
    or the agent serving the citizen right now (answered, not yet through wrap-up)."""
    if user_roles(user) & {SUPERVISOR, ADMINISTRATOR}:
        return True
    return citizen.contacts.filter(
        agent__user=user, answered_at__isnull=False, wrapup_ended_at__isnull=True
    ).exists()
