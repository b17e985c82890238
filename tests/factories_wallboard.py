"""A centre caught at one moment, for the wallboard's tests: queues with skills, agents in
chosen states since chosen times, contacts waiting or in hand, tickets near their SLA."""

import itertools
from datetime import datetime, timedelta

from callcenter.models import Agent, Contact, Queue, Skill
from tests import factories
from tickets.models import Ticket

_numbers = itertools.count(1)


def skill(code: str) -> Skill:
    return factories.SkillFactory(code=code, name=code, kind=Skill.Kind.LANGUAGE)


def queue(code: str, name: str, *, channels: list[str], skills: list[Skill] = ()) -> Queue:
    made = factories.QueueFactory(code=code, name=name, channels=channels)
    made.required_skills.set(skills)
    return made


def agent(
    name: str,
    *,
    presence: str,
    since: datetime,
    skills: list[Skill] = (),
    reason: str = "",
    console: bool = True,
) -> Agent:
    closed = {} if console else {"console": False}
    made = factories.AgentFactory(display_name=name, skills=list(skills), **closed)
    Agent.objects.filter(pk=made.pk).update(
        presence=presence, presence_reason=reason, presence_changed_at=since
    )
    made.refresh_from_db()
    return made


def waiting(queue: Queue, *, since: datetime, channel: str = "voice", citizen=None) -> Contact:
    return factories.ContactFactory(
        queue=queue, channel=channel, queued_at=since, created_at=since, citizen=citizen
    )


def in_hand(
    agent: Agent,
    queue: Queue,
    *,
    queued: datetime,
    answered: datetime,
    channel: str = "voice",
    citizen=None,
    ended: datetime | None = None,
    wrapped: datetime | None = None,
) -> Contact:
    return factories.ContactFactory(
        queue=queue,
        agent=agent,
        channel=channel,
        citizen=citizen,
        created_at=queued,
        queued_at=queued,
        answered_at=answered,
        ended_at=ended,
        wrapup_ended_at=wrapped,
    )


def ticket(
    *,
    created: datetime,
    first_response_due: datetime | None = None,
    resolution_due: datetime | None = None,
    status: str = Ticket.Status.OPEN,
    **fields,
) -> Ticket:
    return Ticket.objects.create(
        number=f"W{next(_numbers):07d}",
        subject="민원",
        channel="voice",
        created_at=created,
        first_response_due=first_response_due,
        resolution_due=resolution_due,
        status=status,
        **fields,
    )


def ago(now: datetime, **delta) -> datetime:
    return now - timedelta(**delta)
