"""Rows with chosen times for the metrics tests: contacts, tickets, transfers, surveys and
presence changes, each placed exactly where a test wants it (Seoul wall-clock times)."""

import itertools
import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from callcenter.metrics import SEOUL
from callcenter.models import Agent, AgentPresenceEvent, Citizen, Contact, Queue
from tests import factories
from tickets.models import Category, Department, SurveyAnswer, Ticket, TicketEvent

_numbers = itertools.count(1)


def seoul(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SEOUL)


def contact(
    at: datetime,
    *,
    channel: str = "voice",
    answer_after: float | None = None,
    talk: float | None = None,
    hold: int = 0,
    wrap: float | None = None,
    abandon_after: float | None = None,
    agent: Agent | None = None,
    queue: Queue | None = None,
    citizen: Citizen | None = None,
    direction: str = Contact.Direction.INBOUND,
) -> Contact:
    """A contact queued at ``at``: answered after ``answer_after`` s, talked ``talk`` s
    (hold included), wrapped up ``wrap`` s; or abandoned after ``abandon_after`` s."""
    answered = at + timedelta(seconds=answer_after) if answer_after is not None else None
    ended = None
    if abandon_after is not None:
        ended = at + timedelta(seconds=abandon_after)
    elif answered is not None and talk is not None:
        ended = answered + timedelta(seconds=talk)
    fields = {"queue": queue} if queue is not None else {}
    return factories.ContactFactory(
        channel=channel,
        direction=direction,
        queued_at=at,
        created_at=at,
        answered_at=answered,
        ended_at=ended,
        wrapup_ended_at=ended + timedelta(seconds=wrap) if wrap is not None else None,
        hold_seconds=hold,
        abandoned=abandon_after is not None,
        agent=agent if answered is not None else None,
        citizen=citizen,
        **fields,
    )


def ticket(
    at: datetime,
    *,
    channel: str = "voice",
    contacts: tuple[Contact, ...] = (),
    category: Category | None = None,
    department: Department | None = None,
    created_by=None,
    citizen: Citizen | None = None,
    resolved_at: datetime | None = None,
    resolution_due: datetime | None = None,
    merged_into: Ticket | None = None,
) -> Ticket:
    made = Ticket.objects.create(
        number=f"M{next(_numbers):07d}",
        subject="민원",
        channel=channel,
        category=category,
        department=department,
        created_by=created_by,
        citizen=citizen,
        created_at=at,
        resolved_at=resolved_at,
        status=Ticket.Status.RESOLVED if resolved_at else Ticket.Status.OPEN,
        resolution_due=resolution_due,
        merged_into=merged_into,
    )
    made.contacts.add(*contacts)
    return made


def transfer(made: Ticket, at: datetime, *, department: Department, actor=None) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=made,
        type=TicketEvent.Type.TRANSFERRED,
        actor=actor,
        data={"department": department.code, "note": "", "due": None},
        created_at=at,
    )


def survey(
    at: datetime,
    score: int,
    *,
    channel: str = "sms",
    contact: Contact | None = None,
    ticket: Ticket | None = None,
) -> SurveyAnswer:
    return SurveyAnswer.objects.create(
        score=score, channel=channel, contact=contact, ticket=ticket, created_at=at
    )


def presence(agent: Agent, at: datetime, state: str) -> AgentPresenceEvent:
    return AgentPresenceEvent.objects.create(agent=agent, presence=state, created_at=at)


def random_centre(*, seed: int, first: date, days: int) -> None:
    """A varied few days of a centre, deterministic with ``seed``: every channel, queues and
    agents, short and long abandons, transfers to new contacts, tickets with one or more
    contacts, repeat callers, transfers to departments, overdue tickets, surveys, and
    agents changing presence across bucket and day edges."""
    rng = random.Random(seed)
    queues = [factories.QueueFactory(code=f"rq-{n}", name=f"큐{n}") for n in range(3)]
    agents = [factories.AgentFactory(display_name=f"상담{n}") for n in range(4)]
    categories = [factories.CategoryFactory() for _n in range(3)]
    departments = [factories.DepartmentFactory() for _n in range(2)]
    citizens = [factories.CitizenFactory() for _n in range(6)]
    channels = ["voice", "video", "webchat", "kakao", "sms"]
    start = seoul(first, 0)
    span = days * 86_400
    for agent in agents:
        moment = start - timedelta(hours=rng.randint(1, 5))
        while moment < start + timedelta(seconds=span):
            presence(agent, moment, rng.choice(["available", "available", "break", "offline"]))
            moment += timedelta(minutes=rng.randint(5, 180), seconds=rng.randint(0, 59))
    made: list[Contact] = []
    for _n in range(160):
        at = start + timedelta(seconds=rng.randint(0, span - 1), microseconds=rng.randint(0, 999))
        kind = rng.random()
        kwargs = {
            "channel": rng.choice(channels),
            "queue": rng.choice(queues + [None]),
            "citizen": rng.choice(citizens + [None]),
        }
        if kind < 0.15:
            made.append(contact(at, abandon_after=rng.choice([2, 5, 6, 40]), **kwargs))
            continue
        if kind < 0.2:
            made.append(contact(at, **kwargs))  # still waiting
            continue
        talk = rng.choice([None, 30, 200.5, 900]) if kind < 0.3 else rng.choice([45, 200.5, 900])
        made.append(
            contact(
                at,
                answer_after=rng.choice([0, 5, 19.5, 20, 21, 59, 60, 61, 300]),
                talk=talk,
                hold=rng.choice([0, 0, 10, 2000]),
                wrap=rng.choice([None, 0, 30, 120.25]) if talk is not None else None,
                agent=rng.choice(agents),
                direction=rng.choice(["inbound"] * 9 + ["outbound"]),
                **kwargs,
            )
        )
    for source in rng.sample(made, 10):
        if source.ended_at is not None:
            moved = contact(
                source.ended_at,
                channel=source.channel,
                answer_after=rng.choice([3, 30]),
                talk=60,
                wrap=10,
                agent=rng.choice(agents),
                queue=rng.choice(queues),
                citizen=source.citizen,
            )
            Contact.objects.filter(pk=moved.pk).update(transferred_from=source)
    surveyed: set[int] = set()
    for _n in range(50):
        linked = tuple(rng.sample(made, rng.choice([0, 1, 1, 1, 2])))
        at = linked[0].queued_at if linked else start + timedelta(seconds=rng.randint(0, span))
        resolved = at + timedelta(minutes=rng.randint(1, 3000)) if rng.random() < 0.6 else None
        creator = rng.choice(agents + [None])
        made_ticket = ticket(
            at,
            channel=linked[0].channel if linked else rng.choice(channels + ["open311"]),
            contacts=linked,
            category=rng.choice(categories + [None]),
            department=rng.choice(departments + [None]),
            created_by=creator.user if creator else None,
            citizen=linked[0].citizen if linked else rng.choice(citizens),
            resolved_at=resolved,
            resolution_due=at + timedelta(hours=rng.choice([1, 8, 30])),
        )
        if rng.random() < 0.25:
            transfer(
                made_ticket,
                at + timedelta(minutes=rng.randint(0, 600)),
                department=rng.choice(departments),
                actor=rng.choice(agents).user,
            )
        if rng.random() < 0.5:
            about = linked[0] if linked and linked[0].pk not in surveyed else None
            if about is not None:
                surveyed.add(about.pk)
            survey(
                at + timedelta(hours=rng.randint(0, 40)),
                rng.randint(1, 5),
                channel=rng.choice(channels),
                contact=about,
                ticket=made_ticket,
            )
        if rng.random() < 0.05:
            ticket(at, merged_into=made_ticket, resolved_at=resolved)


def stop_clock(monkeypatch, at: datetime) -> datetime:
    """Make ``timezone.now()`` answer ``at`` for the test, so "today" and "so far" never
    straddle a Seoul midnight whenever the suite runs."""
    monkeypatch.setattr(timezone, "now", lambda: at)
    return at
