"""SLA clocks: due times from the matching policy, pauses, moves, and the periodic check.

A ticket has two clocks, first response and resolution. Both start when the ticket is
created and run in the working time of the matching policy's calendar; a ticket with no
matching policy has no clocks, and a due time set by hand (a transfer's explicit due) runs
on ``DEFAULT_CALENDAR`` (Mon–Fri 09:00–18:00, Korean public holidays closed).

Rules, in working time:
- a pause (waiting for the citizen) stops both clocks; resuming moves each due time not yet
  met by the working time the pause covered, so a holiday inside the pause costs nothing;
- a move (another category or priority, or a transfer without an explicit due) restarts
  nothing: the clocks keep the working time they have used since creation, pauses not
  counted, and the new policy's target is measured from the creation;
- a clock warns once 80 % of its span (creation → due, pauses not counted; for the
  resolution clock of a reopened ticket, reopening → due) has elapsed and is breached once
  its due time has passed. Each alert is one ``SlaAlert`` row per ticket,
  clock, level and due time: concurrent checks notify once, and a moved due time can warn
  again.

The check reads only tickets due within 20 % of the longest policy target from now (in that
policy's calendar) plus overdue ones not yet marked breached, so its cost follows the
tickets near their due time, not all open tickets. A due time set by hand that is longer
than every policy's target therefore warns only once it is that close.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from callcenter.models import User
from callcenter.services.locking import row_locked
from callcenter.services.notify import publish_ticket_notice
from tickets.models import (
    ACTIVE_STATUSES,
    Category,
    SlaAlert,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from tickets.selectors import sla_policy_for, sla_policy_list
from tickets.sla import WorkingTime

DEFAULT_CALENDAR = WorkingTime()
WARNING_RATIO = 0.8

Clock = SlaAlert.Clock
Level = SlaAlert.Level
DUE_FIELDS = {Clock.FIRST_RESPONSE: "first_response_due", Clock.RESOLUTION: "resolution_due"}


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def sla_due_times(
    *, category: Category | None, priority: int, channel: str, start: datetime
) -> dict[str, datetime | None]:
    """The first-response and resolution due times of a ticket opened at ``start``
    (None for both when no policy matches), ready to be set on the ticket."""
    policy = sla_policy_for(category=category, priority=priority, channel=channel)
    if policy is None:
        return {"first_response_due": None, "resolution_due": None}
    calendar = policy.calendar.working_time()
    return {
        "first_response_due": calendar.add(start, timedelta(minutes=policy.first_response_minutes)),
        "resolution_due": calendar.add(start, timedelta(minutes=policy.resolution_minutes)),
    }


def _ticket_calendar(ticket: Ticket) -> WorkingTime:
    policy = sla_policy_for(
        category=ticket.category, priority=ticket.priority, channel=ticket.channel
    )
    return policy.calendar.working_time() if policy else DEFAULT_CALENDAR


def _open_clocks(ticket: Ticket) -> list[str]:
    """The due-time fields of the clocks still running (first response until answered)."""
    fields = []
    if ticket.first_response_due and ticket.first_responded_at is None:
        fields.append("first_response_due")
    if ticket.resolution_due:
        fields.append("resolution_due")
    return fields


def ticket_sla_pause(
    *, ticket: Ticket, actor: User | None, reason: str = "", at: datetime | None = None
) -> Ticket:
    """Stop the SLA clocks while the ticket waits for the citizen (two clicks pause once)."""
    at = at or timezone.now()
    with transaction.atomic():
        ticket = row_locked(ticket)
        if not ticket.is_active:
            raise ValueError(_("Only an active ticket can be paused."))
        if ticket.sla_paused_at is not None:
            raise ValueError(_("The SLA clocks of this ticket are already paused."))
        ticket.sla_paused_at = at
        ticket.save(update_fields=["sla_paused_at", "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.PAUSED,
            actor=actor,
            data={"reason": reason.strip()},
            created_at=at,
        )
    return ticket


def ticket_sla_resume(*, ticket: Ticket, actor: User | None, at: datetime | None = None) -> Ticket:
    """Restart the SLA clocks: each due time not yet met moves by the working time the
    pause covered. A due time already passed when the pause began stays breached."""
    at = at or timezone.now()
    with transaction.atomic():
        ticket = row_locked(ticket)
        paused_at = ticket.sla_paused_at
        if paused_at is None:
            raise ValueError(_("The SLA clocks of this ticket are not paused."))
        if at < paused_at:
            raise ValueError(_("The clocks cannot resume before they were paused."))
        calendar = _ticket_calendar(ticket)
        changed = {}
        for field in _open_clocks(ticket):
            old = getattr(ticket, field)
            if old > paused_at:
                new = calendar.resume(old, paused_at, at)
                changed[field] = {"from": _iso(old), "to": _iso(new)}
                setattr(ticket, field, new)
        ticket.sla_paused_at = None
        ticket.save(update_fields=["sla_paused_at", *changed, "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.RESUMED,
            actor=actor,
            data={"paused_at": _iso(paused_at), "changed": changed},
            created_at=at,
        )
    return ticket


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime


def _completed_pauses(events: Iterable[TicketEvent]) -> list[Pause]:
    """Pauses that have ended, from the ticket's RESUMED events, oldest first."""
    pauses = [
        Pause(parse_datetime(event.data["paused_at"]), event.created_at)
        for event in events
        if event.type == TicketEvent.Type.RESUMED and event.data.get("paused_at")
    ]
    return sorted(pauses, key=lambda pause: pause.start)


def _paused_within(
    calendar: WorkingTime, pauses: list[Pause], start: datetime, end: datetime
) -> timedelta:
    """Working time of ``start``–``end`` that the clocks spent paused."""
    return sum(
        (calendar.between(max(p.start, start), min(p.end, end)) for p in pauses), timedelta()
    )


def _due_after_pauses(
    calendar: WorkingTime, start: datetime, target: timedelta, pauses: list[Pause]
) -> datetime:
    """When a clock started at ``start`` uses up ``target``, standing still in ``pauses``."""
    left = target
    for pause in pauses:
        due = calendar.add(start, left)
        if due <= pause.start:
            return due
        left -= calendar.between(start, pause.start)
        start = max(start, pause.end)
    return calendar.add(start, left)


def ticket_sla_recompute(
    *, ticket: Ticket, actor: User | None, at: datetime | None = None
) -> Ticket:
    """Due times from the policy matching the ticket now (after a move), with the working
    time used since creation kept: due = creation + new target, pauses not counted.

    A ticket no policy matches has no clocks any more; a first response already given
    keeps its due time (it no longer matters). Records old → new as an ``updated`` event.
    """
    at = at or timezone.now()
    policy = sla_policy_for(
        category=ticket.category, priority=ticket.priority, channel=ticket.channel
    )
    due: dict[str, datetime | None] = {"first_response_due": None, "resolution_due": None}
    if policy is not None:
        calendar = policy.calendar.working_time()
        pauses = _completed_pauses(ticket.events.filter(type=TicketEvent.Type.RESUMED))
        targets = {
            "first_response_due": policy.first_response_minutes,
            "resolution_due": policy.resolution_minutes,
        }
        due = {
            field: _due_after_pauses(calendar, ticket.created_at, timedelta(minutes=m), pauses)
            for field, m in targets.items()
        }
    if ticket.first_responded_at is not None:
        del due["first_response_due"]
    changed = {}
    for field, new in due.items():
        old = getattr(ticket, field)
        if new != old:
            changed[field] = {"from": _iso(old), "to": _iso(new)}
            setattr(ticket, field, new)
    if not changed:
        return ticket
    with transaction.atomic():
        ticket.save(update_fields=[*changed, "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            type=TicketEvent.Type.UPDATED,
            actor=actor,
            data={"changed": changed, "sla_policy": policy.name if policy else None},
            created_at=at,
        )
    return ticket


# --- the periodic check ---------------------------------------------------------------------
def _working_times(policies: list[SlaPolicy]) -> dict[int, WorkingTime]:
    """Each policy calendar as a calculator, by calendar id (one read of its closures)."""
    working_times: dict[int, WorkingTime] = {}
    for policy in policies:
        if policy.calendar_id not in working_times:
            working_times[policy.calendar_id] = policy.calendar.working_time()
    return working_times


def _warning_horizon(
    now: datetime, policies: list[SlaPolicy], working_times: dict[int, WorkingTime]
) -> datetime:
    """The latest due time that can be at 80 % now: 20 % of the longest target of each
    active policy ahead, in that policy's calendar. Later due times are not looked at."""
    horizon = now
    for policy in policies:
        longest = max(policy.first_response_minutes, policy.resolution_minutes)
        reach = timedelta(minutes=longest) * (1 - WARNING_RATIO)
        horizon = max(horizon, working_times[policy.calendar_id].add(now, reach))
    return horizon


def _breached(clock: str) -> Exists:
    return Exists(
        SlaAlert.objects.filter(
            ticket=OuterRef("pk"),
            clock=clock,
            level=Level.BREACH,
            due_at=OuterRef(DUE_FIELDS[clock]),
        )
    )


def sla_candidates(
    *,
    now: datetime,
    policies: list[SlaPolicy] | None = None,
    working_times: dict[int, WorkingTime] | None = None,
) -> QuerySet[Ticket]:
    """Active, running tickets with a clock due within the warning horizon and not yet
    breached at that due time: the only ones a check needs to look at."""
    policies = sla_policy_list() if policies is None else policies
    working_times = _working_times(policies) if working_times is None else working_times
    horizon = _warning_horizon(now, policies, working_times)
    first_response = Q(
        first_responded_at__isnull=True, first_response_due__lte=horizon
    ) & ~_breached(Clock.FIRST_RESPONSE)
    resolution = Q(resolution_due__lte=horizon) & ~_breached(Clock.RESOLUTION)
    return (
        Ticket.objects.filter(
            first_response | resolution,
            status__in=ACTIVE_STATUSES,
            merged_into__isnull=True,
            sla_paused_at__isnull=True,
        )
        .select_related("category__parent", "department")
        .order_by("pk")
    )


def _level(
    *, calendar: WorkingTime, start: datetime, due: datetime, now: datetime, pauses: list[Pause]
) -> str | None:
    """Which alert a clock from ``start`` to ``due`` has reached at ``now``, if any."""
    if now >= due:
        return Level.BREACH
    span = calendar.between(start, due) - _paused_within(calendar, pauses, start, due)
    used = calendar.between(start, now) - _paused_within(calendar, pauses, start, now)
    if span <= timedelta() or used >= span * WARNING_RATIO:
        return Level.WARNING
    return None


def _alert_message(ticket: Ticket, clock: str, level: str) -> str:
    values = {"number": ticket.number, "clock": Clock(clock).label}
    if level == Level.BREACH:
        return _("Ticket %(number)s: the %(clock)s target was missed.") % values
    return _("Ticket %(number)s: 80 %% of the %(clock)s target has passed.") % values


def _alert_create(
    ticket: Ticket, *, clock: str, level: str, due: datetime, now: datetime
) -> SlaAlert | None:
    """The alert row, its event and the notice, once: None when another check made it."""
    with transaction.atomic():
        alert, created = SlaAlert.objects.get_or_create(
            ticket=ticket,
            clock=clock,
            level=level,
            due_at=due,
            defaults={
                "assignee_id": ticket.assignee_id,
                "department_id": ticket.department_id,
                "created_at": now,
            },
        )
        if not created:
            return None
        event_type = (
            TicketEvent.Type.SLA_BREACHED if level == Level.BREACH else TicketEvent.Type.SLA_WARNING
        )
        TicketEvent.objects.create(
            ticket=ticket,
            type=event_type,
            data={"clock": clock, "due": _iso(due)},
            created_at=now,
        )
        publish_ticket_notice(
            ticket,
            kind="sla_breached" if level == Level.BREACH else "sla_warning",
            message=_alert_message(ticket, clock, level),
            department=ticket.status == Ticket.Status.TRANSFERRED,
        )
    return alert


def sla_check(*, now: datetime | None = None) -> list[SlaAlert]:
    """Warn at 80 % and record breaches at 100 % of every running clock; returns the alerts
    this call created (another process running at the same time creates the rest)."""
    now = now or timezone.now()
    policies = sla_policy_list()
    working_times = _working_times(policies)
    tickets = list(sla_candidates(now=now, policies=policies, working_times=working_times))
    if not tickets:
        return []
    known = set(
        SlaAlert.objects.filter(ticket__in=tickets).values_list(
            "ticket_id", "clock", "level", "due_at"
        )
    )
    resumed: dict[int, list[TicketEvent]] = {}
    reopened: dict[int, datetime] = {}  # a reopening restarts the resolution clock
    steps = TicketEvent.objects.filter(
        ticket__in=tickets, type__in=[TicketEvent.Type.RESUMED, TicketEvent.Type.REOPENED]
    ).order_by("id")
    for event in steps:
        if event.type == TicketEvent.Type.RESUMED:
            resumed.setdefault(event.ticket_id, []).append(event)
        else:
            reopened[event.ticket_id] = event.created_at
    calendars: dict[tuple, WorkingTime] = {}  # one policy match per kind of ticket
    created = []
    for ticket in tickets:
        key = (ticket.category_id, ticket.priority, ticket.channel)
        if key not in calendars:
            policy = sla_policy_for(
                category=ticket.category,
                priority=ticket.priority,
                channel=ticket.channel,
                policies=policies,
            )
            calendars[key] = (
                working_times[policy.calendar_id] if policy is not None else DEFAULT_CALENDAR
            )
        calendar = calendars[key]
        pauses = _completed_pauses(resumed.get(ticket.pk, []))
        for field in _open_clocks(ticket):
            clock = Clock.FIRST_RESPONSE if field == "first_response_due" else Clock.RESOLUTION
            due = getattr(ticket, field)
            start = ticket.created_at
            if clock == Clock.RESOLUTION:
                start = reopened.get(ticket.pk, start)
            level = _level(calendar=calendar, start=start, due=due, now=now, pauses=pauses)
            if level is None or (ticket.pk, clock, level, due) in known:
                continue
            alert = _alert_create(ticket, clock=clock, level=level, due=due, now=now)
            if alert is not None:
                created.append(alert)
    return created
