"""The live wallboard's snapshot: queues, agents and alerts now, with today's figures.

One read builds the whole picture (a handful of queries whatever the number of agents), so
the page's first render and every socket frame show the same thing (``wallboard.snapshot``
in docs/realtime.md). Today's figures come from ``callcenter.metrics`` (raw, since Seoul
midnight), the same definitions as every other screen.

Agents per queue count those signed in (console open, not offline) who have every skill the
queue requires. "break" counts agents away from their console's work: on a break or not
responding; "wrapup" counts wrap-up and after-call work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, Exists, F, Min, OuterRef, Q, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter import metrics
from callcenter.models import Agent, Channel, Contact, Presence, Queue
from callcenter.privacy import mask_phone
from tickets.models import ACTIVE_STATUSES, SlaAlert, Ticket

SERVICE_LEVEL_TARGET = metrics.SERVICE_LEVEL_TARGET
SERVICE_LEVEL_MIN_OFFERED = 5  # fewer contacts say nothing about a queue's service level
SERVICE_LEVEL_DANGER = 0.6
TICKET_DUE_SOON = timedelta(minutes=30)
MOST_WAITING = 50  # the longest waiting contacts listed (for moving them between queues)
MOST_WAIT_ALERTS = 10
MOST_TICKET_ALERTS = 10

# Presence → the wallboard's four agent columns (offline agents are not counted).
STATE_COLUMNS = {
    Presence.AVAILABLE: "available",
    Presence.BUSY: "busy",
    Presence.WRAPUP: "wrapup",
    Presence.AFTER_CALL: "wrapup",
    Presence.BREAK: "break",
    Presence.NOT_RESPONDING: "break",
}


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _seconds(value: timedelta | None) -> int | None:
    return round(value.total_seconds()) if value is not None else None


def _ratio(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def citizen_masked(citizen) -> str:
    """A citizen as a wall may show them: the name's first and last letters ("홍*동"), else
    the masked phone number; "" when unknown."""
    if citizen is None:
        return ""
    name = citizen.name.strip()
    if len(name) >= 3:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    if len(name) == 2:
        return name[0] + "*"
    if name:
        return "*"
    return mask_phone(citizen.phone.as_national) if citizen.phone else ""


@dataclass(frozen=True)
class _Today:
    """Today's sums so far, by queue and by agent."""

    by_queue: dict[int, metrics.Measures]
    by_agent: dict[int, metrics.Measures]


def _today_figures(now: datetime) -> _Today:
    midnight, _tomorrow = metrics.day_bounds(
        now.astimezone(metrics.SEOUL).date(), now.astimezone(metrics.SEOUL).date()
    )
    return _Today(
        by_queue=metrics.by_group_between(midnight, now, group="queue"),
        by_agent=metrics.by_group_between(midnight, now, group="agent"),
    )


def _skill_sets(agents: list[Agent], queues: list[Queue]):
    agent_skills: dict[int, set[int]] = {agent.pk: set() for agent in agents}
    for agent_id, skill_id in Agent.skills.through.objects.filter(
        agent_id__in=list(agent_skills)
    ).values_list("agent_id", "skill_id"):
        agent_skills[agent_id].add(skill_id)
    queue_skills: dict[int, set[int]] = {queue.pk: set() for queue in queues}
    for queue_id, skill_id in Queue.required_skills.through.objects.filter(
        queue_id__in=list(queue_skills)
    ).values_list("queue_id", "skill_id"):
        queue_skills[queue_id].add(skill_id)
    return agent_skills, queue_skills


def _waiting(now: datetime) -> tuple[dict[int, tuple[int, datetime]], list[Contact]]:
    """(queue id → (waiting, oldest queued_at)), and the longest waiting contacts."""
    waiting = Contact.objects.waiting().filter(queue__isnull=False, queued_at__isnull=False)
    by_queue = {
        row["queue"]: (row["n"], row["oldest"])
        for row in waiting.order_by()
        .values("queue")
        .annotate(n=Count("id"), oldest=Min("queued_at"))
    }
    longest = list(
        waiting.select_related("citizen", "queue").order_by("queued_at", "id")[:MOST_WAITING]
    )
    return by_queue, longest


def _queue_alert(queue: Queue, measures: metrics.Measures) -> dict | None:
    level = measures.service_level
    if level is None or measures.offered < SERVICE_LEVEL_MIN_OFFERED:
        return None
    if level >= SERVICE_LEVEL_TARGET:
        return None
    return {
        "kind": "service_level",
        "level": "danger" if level < SERVICE_LEVEL_DANGER else "warning",
        "text": _("%(queue)s: service level today %(level)s %% (target %(target)s %%).")
        % {
            "queue": queue.name,
            "level": round(level * 100),
            "target": round(SERVICE_LEVEL_TARGET * 100),
        },
        "queue_id": queue.pk,
    }


def _wait_alerts(longest: list[Contact], now: datetime) -> list[dict]:
    threshold = settings.WALLBOARD_WAIT_ALERT_SECONDS
    alerts = []
    for contact in longest:
        waited = (now - contact.queued_at).total_seconds()
        if waited <= threshold or len(alerts) >= MOST_WAIT_ALERTS:
            break  # oldest first: the rest waited less
        alerts.append(
            {
                "kind": "wait",
                "level": "danger" if waited > 2 * threshold else "warning",
                "text": _("%(channel)s #%(id)s has waited %(wait)s in %(queue)s.")
                % {
                    "channel": contact.get_channel_display(),
                    "id": contact.pk,
                    "wait": _mmss(waited),
                    "queue": contact.queue.name,
                },
                "queue_id": contact.queue_id,
                "contact_id": contact.pk,
            }
        )
    return alerts


def _warned(clock: str, due_field: str) -> Exists:
    """A warning at the clock's current due time (80 % of it used)."""
    return Exists(
        SlaAlert.objects.filter(
            ticket=OuterRef("pk"),
            clock=clock,
            level=SlaAlert.Level.WARNING,
            due_at=OuterRef(due_field),
        )
    )


def ticket_sla_soon(now: datetime) -> list[tuple[Ticket, str, datetime]]:
    """Running tickets whose SLA is about to be missed: a clock due within 30 minutes, or
    warned (80 % used) and not yet past its due time. (ticket, clock, due), soonest first."""
    soon = now + TICKET_DUE_SOON
    first_response_open = Q(first_responded_at__isnull=True, first_response_due__gt=now)
    first_response = first_response_open & (
        Q(first_response_due__lte=soon)
        | _warned(SlaAlert.Clock.FIRST_RESPONSE, "first_response_due")
    )
    resolution = Q(resolution_due__gt=now) & (
        Q(resolution_due__lte=soon) | _warned(SlaAlert.Clock.RESOLUTION, "resolution_due")
    )
    tickets = Ticket.objects.filter(
        first_response | resolution,
        status__in=ACTIVE_STATUSES,
        merged_into__isnull=True,
        sla_paused_at__isnull=True,
    ).annotate(
        due=_earliest(now),
    )
    found = []
    for ticket in tickets.order_by(F("due").asc(nulls_last=True), "pk")[:MOST_TICKET_ALERTS]:
        clocks = []
        first_due = ticket.first_response_due
        if ticket.first_responded_at is None and first_due and first_due > now:
            clocks.append((first_due, SlaAlert.Clock.FIRST_RESPONSE))
        if ticket.resolution_due and ticket.resolution_due > now:
            clocks.append((ticket.resolution_due, SlaAlert.Clock.RESOLUTION))
        due, clock = min(clocks)
        found.append((ticket, clock, due))
    return found


def _earliest(now: datetime):
    """The ticket's next due time still ahead (first response while unanswered, resolution)."""
    first = Case(
        When(
            first_responded_at__isnull=True,
            first_response_due__gt=now,
            then=F("first_response_due"),
        )
    )
    resolution = Case(When(resolution_due__gt=now, then=F("resolution_due")))
    # Least() is NULL on SQLite when either is: give each the other as a fallback.
    return Least(Coalesce(first, resolution), Coalesce(resolution, first))


def _ticket_alerts(now: datetime) -> list[dict]:
    alerts = []
    for ticket, clock, due in ticket_sla_soon(now):
        alerts.append(
            {
                "kind": "ticket_sla",
                "level": "danger" if due - now <= TICKET_DUE_SOON else "warning",
                "text": _("Ticket %(number)s: the %(clock)s target is due at %(time)s.")
                % {
                    "number": ticket.number,
                    "clock": SlaAlert.Clock(clock).label,
                    "time": timezone.localtime(due).strftime("%H:%M"),
                },
                "ticket_id": ticket.pk,
            }
        )
    return alerts


def _contact_row(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "channel": contact.channel,
        "channel_label": str(contact.get_channel_display()),
        "state": contact.state,
        "since": _iso(contact.answered_at),
        "queue_id": contact.queue_id,
        "citizen_masked": citizen_masked(contact.citizen),
    }


def wallboard_snapshot(*, now: datetime | None = None) -> dict:
    """The ``wallboard.snapshot`` frame: queues, agents, the longest waiting, alerts."""
    now = now or timezone.now()
    today = _today_figures(now)
    queues = list(Queue.objects.filter(is_active=True))
    agents = list(Agent.objects.signed_in(now).order_by("display_name", "pk"))
    agent_skills, queue_skills = _skill_sets(agents, queues)
    waiting, longest = _waiting(now)

    held: dict[int, list[dict]] = {agent.pk: [] for agent in agents}
    for contact in (
        Contact.objects.filter(
            agent_id__in=list(held), answered_at__isnull=False, wrapup_ended_at__isnull=True
        )
        .select_related("citizen")
        .order_by("answered_at", "id")
    ):
        held[contact.agent_id].append(_contact_row(contact))

    queue_rows, alerts = [], []
    for queue in queues:
        measures = today.by_queue.get(queue.pk, metrics.Measures())
        count, oldest = waiting.get(queue.pk, (0, None))
        columns = dict.fromkeys(("available", "busy", "wrapup", "break"), 0)
        for agent in agents:
            column = STATE_COLUMNS.get(agent.presence)
            if column and queue_skills[queue.pk] <= agent_skills[agent.pk]:
                columns[column] += 1
        queue_rows.append(
            {
                "id": queue.pk,
                "name": queue.name,
                "channels": list(queue.channels),
                "waiting": count,
                "longest_wait_seconds": _seconds(now - oldest) if oldest else 0,
                "oldest_queued_at": _iso(oldest),
                "agents": columns,
                "service_level": _ratio(measures.service_level),
                "asa_seconds": _seconds(measures.asa),
                "abandonment_rate": _ratio(measures.abandonment_rate),
                "offered": measures.offered,
                "answered": measures.answered,
            }
        )
        alert = _queue_alert(queue, measures)
        if alert:
            alerts.append(alert)

    agent_rows = []
    for agent in agents:
        measures = today.by_agent.get(agent.pk, metrics.Measures())
        agent_rows.append(
            {
                "id": agent.pk,
                "name": agent.display_name,
                "state": agent.presence,
                "state_label": str(Presence(agent.presence).label),
                "state_reason": agent.presence_reason_label,
                "state_since": _iso(agent.presence_changed_at),
                "contacts": held[agent.pk],
                "handled_today": measures.handled,
                "aht_seconds": _seconds(measures.aht),
            }
        )

    alerts += _wait_alerts(longest, now)
    alerts += _ticket_alerts(now)
    return {
        "type": "wallboard.snapshot",
        "at": _iso(now),
        "queues": queue_rows,
        "agents": agent_rows,
        "waiting": [
            {
                "id": contact.pk,
                "channel": contact.channel,
                "channel_label": str(Channel(contact.channel).label),
                "queue_id": contact.queue_id,
                "queued_at": _iso(contact.queued_at),
                "citizen_masked": citizen_masked(contact.citizen),
                "needs_assistance": bool(contact.citizen and contact.citizen.needs_assistance),
            }
            for contact in longest
        ],
        "alerts": alerts,
    }
