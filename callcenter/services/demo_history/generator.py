"""The generator itself: ``HistoryGenerator`` sets up the reference data (categories,
departments, SLA clocks), creates the citizens, runs the days in transactions (the
simulation and the rows are its two parts in ``simulation`` and ``rows``) and resets the
sequences; ``HistoryCounts`` is what a run made."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from callcenter.models import Agent, Channel, Citizen, Contact, Queue, User
from callcenter.services.demo_history.rows import _HistoryRows, _Writer
from callcenter.services.demo_history.shapes import (
    DAY_NOISE,
    _citizen_name,
    _Clock,
    _day_weight,
    _new_citizen_language,
)
from callcenter.services.demo_history.simulation import _QueueSimulation
from knowledge.models import Article
from tickets.models import Category, Department, Officer, Survey, Ticket, TicketCounter
from tickets.selectors import sla_policy_for, sla_policy_list
from tickets.sla import SEOUL


@dataclass
class HistoryCounts:
    contacts: int = 0
    tickets: int = 0
    citizens: int = 0
    rows: int = 0

    def as_text(self) -> str:
        return (
            f"{self.contacts:,} contacts, {self.tickets:,} tickets, {self.citizens:,} citizens "
            f"({self.rows:,} rows)"
        )


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


class HistoryGenerator(_QueueSimulation, _HistoryRows):
    """Writes ``contacts`` (about) over the Seoul days ``start``…``end`` ending before
    ``now``. ``agents`` answer them (signing ones the video queue), ``citizens`` (existing
    rows) come first among the callers, ``citizen_pool`` more are created. Provider ids
    start with ``prefix`` (how a second run recognises the history)."""

    def __init__(
        self,
        *,
        start: date,
        end: date,
        contacts: int,
        seed: int,
        prefix: str,
        agents: list[Agent],
        queues: dict[str, Queue],
        inquiries: dict[str, list[dict]],
        now: datetime,
        citizens: Iterable[Citizen] = (),
        citizen_pool: int | None = None,
        messages: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if end < start:
            raise ValueError("end must not be before start")
        self.start, self.end, self.now = start, end, now
        self.contacts, self.seed, self.prefix = contacts, seed, prefix
        self.rng = random.Random(f"{seed}-history")  # noqa: S311 - demo data, not secrets
        self.queues = queues
        self.inquiries = inquiries
        self.messages = messages
        self.progress = progress or (lambda n: None)
        self.counts = HistoryCounts()
        self.writer = _Writer()
        self.existing_citizens = [c.pk for c in citizens]
        self.citizen_pool = citizen_pool if citizen_pool is not None else max(contacts // 3, 50)
        self.agents = agents
        self.users = {agent.pk: agent.user_id for agent in agents}

    # --- set-up ------------------------------------------------------------------------
    def _reference(self) -> None:
        paths = sorted(self.inquiries)
        categories = {}
        for category in Category.objects.select_related("parent__parent"):
            categories[category.path] = category
        self.categories = [categories[path] for path in paths if path in categories]
        if not self.categories:
            raise ValueError("No demo categories: load the demo reference data first.")
        self.category_inquiries = [self.inquiries[p] for p in paths if p in categories]
        # Frequent subjects first: parking, rubbish and certificates come up most.
        self.category_weights = [
            3.0 if any(word in c.name for word in ("주정차", "생활쓰레기", "민원서류", "대중교통"))
            else 1.0
            for c in self.categories
        ]  # fmt: skip
        self.departments = self._category_departments()
        self.officers = dict(
            Officer.objects.values_list("department_id", "user_id").order_by("-pk")
        )
        supervisors = User.objects.filter(groups__name="supervisor").order_by("pk")
        self.supervisor = supervisors.values_list("pk", flat=True).first()
        policies = sla_policy_list()
        calendars: dict[int, _Clock] = {}
        horizon = self.end + timedelta(days=60)
        self.policy = {}
        for index, category in enumerate(self.categories):
            for channel in Channel.values:
                policy = sla_policy_for(
                    category=category, priority=Ticket.Priority.NORMAL, channel=channel,
                    policies=policies,
                )  # fmt: skip
                if policy is None:
                    self.policy[index, channel] = None
                    continue
                if policy.calendar_id not in calendars:
                    calendars[policy.calendar_id] = _Clock(
                        policy.calendar.working_time(), self.start - timedelta(days=1), horizon
                    )
                self.policy[index, channel] = (
                    calendars[policy.calendar_id],
                    policy.first_response_minutes,
                    policy.resolution_minutes,
                )

    def _category_departments(self) -> list[Department | None]:
        """The department a category's transfers go to: the owner of the category's first
        knowledge-base article, else the first department."""
        owners: dict[int, int] = {}
        for category_id, department_id in (
            Article.objects.exclude(department=None)
            .order_by("pk")
            .values_list("category_id", "department_id")
        ):
            owners.setdefault(category_id, department_id)
        departments = {d.pk: d for d in Department.objects.order_by("pk")}
        fallback = next(iter(departments.values()), None)
        return [departments.get(owners.get(c.pk), fallback) for c in self.categories]

    def _make_citizens(self) -> list[int]:
        rng = random.Random(f"{self.seed}-citizens")  # noqa: S311 - demo data, not secrets
        first = _next_id(Citizen)
        phones = Citizen.objects.filter(phone__startswith="+82100").count()
        ids = []
        for index in range(self.citizen_pool):
            pk = first + index
            # 010-0xxx-xxxx: a block no Korean mobile number is given from (demo phones).
            number = 1_000_000 + phones + index
            self.writer.add(
                Citizen,
                {
                    "id": pk,
                    "name": _citizen_name(rng),
                    "phone": f"+8210{number:08d}",
                    "preferred_language": _new_citizen_language(index),
                    "consent_privacy": True,
                    "consent_contact": True,
                    "consented_at": datetime.combine(self.start, time(9), SEOUL),
                    "created_at": datetime.combine(self.start, time(0), SEOUL),
                    "kakao_user_key": "",
                },
            )
            ids.append(pk)
        self.counts.citizens = len(ids)
        return ids

    # --- the run -------------------------------------------------------------------------
    def run(self) -> HistoryCounts:
        self._reference()
        days = [
            self.start + timedelta(days=offset)
            for offset in range((self.end - self.start).days + 1)
        ]
        weights = [_day_weight(day) * (1 + self.rng.uniform(-DAY_NOISE, DAY_NOISE)) for day in days]
        unit = self.contacts / sum(weights)  # contacts of a day of weight 1
        self.pools = self._pools(unit)
        self.pool_agents = {name: [a.pk for a in pool.agents] for name, pool in self.pools.items()}
        self.cutoff = self.now - timedelta(hours=2)
        self.counters = dict(TicketCounter.objects.values_list("year", "last"))
        self.next_ticket = _next_id(Ticket)
        self.next_contact = _next_id(Contact)
        self.next_survey = _next_id(Survey)
        self.serial = 0
        self.free_until: dict[int, float] = {}
        self.on_duty: dict[int, bool] = {}
        self.slot_free: dict[tuple[int, int], float] = {}
        self.recent: list[list[tuple[int, int]]] = []  # per day: (citizen, category) ticketed
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # This session only: a day's commit need not wait for the disk.
                cursor.execute("SET synchronous_commit TO OFF")
        with transaction.atomic():
            citizen_ids = self.existing_citizens + self._make_citizens()
            self.writer.flush()
        self.citizen_ids = citizen_ids
        self.citizen_language = self._citizen_languages(citizen_ids)
        for index, day in enumerate(days):
            with transaction.atomic():
                made = self._day(index, day, round(unit * weights[index]))
                self.writer.flush()
            self.progress(made)
        with transaction.atomic():
            for year, last in self.counters.items():
                TicketCounter.objects.update_or_create(year=year, defaults={"last": last})
        self._reset_sequences()
        self._analyze()
        self.counts.rows = self.writer.written
        return self.counts

    def _citizen_languages(self, ids: list[int]) -> dict[int, str]:
        """Existing citizens keep their language; about 4 % of the new ones speak another."""
        languages = dict(
            Citizen.objects.filter(pk__in=self.existing_citizens).values_list(
                "pk", "preferred_language"
            )
        )
        for index, pk in enumerate(ids[len(self.existing_citizens) :]):
            languages[pk] = _new_citizen_language(index)
        return languages

    def _reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(
            no_style(), [Citizen, Contact, Ticket, Survey]
        )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _analyze(self) -> None:
        """Fresh planner statistics, as autovacuum would give them later: without them
        PostgreSQL plans the reports' joins over these tables as if they were empty."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in self.writer.models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
