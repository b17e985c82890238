"""The rows of the history: a batch writer (COPY on PostgreSQL) and the contact, chat
message, ticket, ticket event and survey rows made from a simulated contact. A part of
``HistoryGenerator``; the contacts come from ``simulation``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, models

from callcenter.models import Channel, Contact, Message
from callcenter.services.demo_history.shapes import (
    DEPARTMENT_ANSWERS,
    GREETING,
    LEFT_OPEN,
    SCORE_WEIGHTS,
    SCORE_WEIGHTS_AFTER_WAIT,
    SCORES,
    SURVEY_ANSWERED,
    THANKS,
    TICKET_SHARE,
    TRANSFER_DUE,
    TRANSFER_SHARE,
    _lognormal,
    _send_after,
)
from callcenter.services.demo_history.simulation import _Arrival
from tickets.models import Survey, SurveyAnswer, Ticket, TicketEvent
from tickets.sla import SEOUL

BATCH = 5000


class _Writer:
    """Buffers rows per model and writes them in batches: COPY on PostgreSQL, executemany
    with the values adapted here on SQLite (Django's per-value adaptation is most of a
    bulk_create's time), bulk_create elsewhere. Rows are dicts of field attnames; missing
    fields take their default."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.buffers: dict[type[models.Model], list[dict]] = defaultdict(list)
        self.written = 0

    @property
    def models(self) -> list[type[models.Model]]:
        return list(self.buffers)

    def add(self, model: type[models.Model], row: dict) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush_model(model)

    def flush(self) -> None:
        for model in list(self.buffers):
            self.flush_model(model)

    def flush_model(self, model: type[models.Model]) -> None:
        rows = self.buffers[model]
        if not rows:
            return
        self.buffers[model] = []
        self.written += len(rows)
        if self.vendor == "postgresql":
            self._copy(model, rows)
        elif self.vendor == "sqlite":
            self._executemany(model, rows)
        else:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)

    @staticmethod
    def _fields(model: type[models.Model], row: dict) -> list[models.Field]:
        """The columns to write: all, without the primary key when the rows have none."""
        return [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in row)]

    @staticmethod
    def _values(fields: list[models.Field], rows: list[dict], adapt=None) -> Iterable[list]:
        pairs = [(f.attname, f.get_default()) for f in fields]
        json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
        for row in rows:
            values = [row.get(name, default) for name, default in pairs]
            if adapt is not None:
                values = [adapt(value) for value in values]
            for index in json_columns:
                values[index] = json.dumps(values[index], ensure_ascii=False)
            yield values

    def _copy(self, model: type[models.Model], rows: list[dict]) -> None:
        fields = self._fields(model, rows[0])
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for values in self._values(fields, rows):
                copy.write_row(values)

    def _executemany(self, model: type[models.Model], rows: list[dict]) -> None:
        fields = self._fields(model, rows[0])
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        marks = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - model names
                list(self._values(fields, rows, _sqlite_value)),
            )


def _sqlite_value(value):
    """What Django stores on SQLite: datetimes as naive UTC text, booleans as 0/1."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    if isinstance(value, bool):
        return int(value)
    return value


class _HistoryRows:
    """HistoryGenerator's rows for one simulated contact: the contact, its chat
    transcript, a ticket with its events and a happy-call survey."""

    def _write_contact(self, row: dict, ticketed: list[tuple[int, int]]) -> None:
        arrival: _Arrival = row["arrival"]
        pool = self.pools[arrival.pool]
        inquiry = self.category_inquiries[arrival.category][row["inquiry"]]
        pk = self.next_contact
        self.next_contact += 1
        self.serial += 1
        stamp = datetime.fromtimestamp
        queued = stamp(row["queued_at"], SEOUL)
        agent = row["agent"]
        contact = {
            "id": pk,
            "channel": arrival.channel,
            "direction": Contact.Direction.INBOUND,
            "provider_id": f"{self.prefix}{self.serial:07d}",
            "citizen_id": arrival.citizen,
            "queue_id": pool.queue.pk,
            "agent_id": agent,
            "language": arrival.language,
            "created_at": queued,
            "queued_at": queued,
            "hold_seconds": row.get("hold", 0),
            "abandoned": agent is None,
        }
        chat = arrival.channel not in (Channel.VOICE, Channel.VIDEO)
        if agent is None:
            contact["ended_at"] = stamp(row["abandoned_at"], SEOUL)
            self.writer.add(Contact, contact)
            if chat and self.messages:
                self._message(pk, Message.Sender.CITIZEN, None, inquiry["utterance"], queued)
            return
        answered = stamp(row["answered"], SEOUL)
        ended = stamp(row["ended"], SEOUL)
        wrapped = stamp(row["wrapped"], SEOUL)
        contact |= {
            "offered_at": stamp(row["answered"] - row["ring"], SEOUL),
            "answered_at": answered,
            "ended_at": ended,
            "wrapup_ended_at": wrapped,
        }
        self.writer.add(Contact, contact)
        user = self.users[agent]
        if chat and self.messages:
            talk = ended - answered
            for sender, who, text, at in (
                (Message.Sender.CITIZEN, None, inquiry["utterance"], queued),
                (Message.Sender.AGENT, user, GREETING, answered + timedelta(seconds=2)),
                (Message.Sender.AGENT, user, inquiry["answer"], answered + talk * 0.6),
                (Message.Sender.CITIZEN, None, THANKS, ended - timedelta(seconds=5)),
            ):  # fmt: skip
                self._message(pk, sender, who, text, at)
        if self.rng.random() < TICKET_SHARE:
            self._ticket(contact, arrival, inquiry, user, ended, wrapped, row)
            ticketed.append((arrival.citizen, arrival.category))

    def _message(self, contact: int, sender: str, user: int | None, text: str, at: datetime):
        self.writer.add(
            Message,
            {
                "contact_id": contact,
                "sender": sender,
                "sender_user_id": user,
                "text": text,
                "attachments": [],
                "created_at": at,
                "delivered_at": at,
            },
        )

    def _ticket(self, contact, arrival, inquiry, user, ended, wrapped, row) -> None:
        rng = self.rng
        pk = self.next_ticket
        self.next_ticket += 1
        created = contact["answered_at"] + timedelta(
            seconds=min(60.0, (row["ended"] - row["answered"]) / 2)
        )
        year = created.year
        self.counters[year] = self.counters.get(year, 0) + 1
        policy = self.policy.get((arrival.category, arrival.channel))
        first_due = resolution_due = None
        if policy is not None:
            clock, first_minutes, resolution_minutes = policy
            first_due = clock.add(created, first_minutes)
            resolution_due = clock.add(created, resolution_minutes)
        department = self.departments[arrival.category]
        ticket = {
            "id": pk,
            "number": f"120-{year}-{self.counters[year]:06d}",
            "citizen_id": arrival.citizen,
            "category_id": self.categories[arrival.category].pk,
            "subject": inquiry["subject"],
            "description": inquiry["utterance"],
            "status": Ticket.Status.OPEN,
            "priority": Ticket.Priority.NORMAL,
            "channel": arrival.channel,
            "created_by_id": user,
            "assignee_id": user,
            "first_response_due": first_due,
            "resolution_due": resolution_due,
            "created_at": created,
            "updated_at": created,
        }
        events = [
            (
                TicketEvent.Type.CREATED,
                user,
                {"channel": arrival.channel, "contacts": [contact["id"]]},
                created,
                False,
            )
        ]
        resolved_at = None
        resolver = user
        previous = Ticket.Status.OPEN
        if inquiry.get("transfer") and department and rng.random() < TRANSFER_SHARE:
            due = ended + TRANSFER_DUE
            ticket |= {
                "status": Ticket.Status.TRANSFERRED,
                "department_id": department.pk,
                "transferred_at": ended,
                "resolution_due": due,
                "first_responded_at": ended,
            }
            note = inquiry["utterance"]
            events.append(
                (
                    TicketEvent.Type.TRANSFERRED,
                    user,
                    {"department": department.code, "note": note, "due": due.isoformat()},
                    ended,
                    False,
                )
            )
            previous = Ticket.Status.TRANSFERRED
            if rng.random() < DEPARTMENT_ANSWERS:
                answered = ended + timedelta(days=_lognormal(rng, 3.0, 0.7, 0.1, 20.0))
                if answered < self.now:
                    resolved_at = answered
                    resolver = self.officers.get(department.pk, self.supervisor)
                    ticket["answered_at"] = answered
        elif rng.random() >= LEFT_OPEN:
            resolved_at = wrapped
        if resolved_at is not None:
            ticket |= {
                "status": Ticket.Status.RESOLVED,
                "answer": inquiry["answer"],
                "resolved_at": resolved_at,
                "first_responded_at": ticket.get("first_responded_at") or resolved_at,
                "updated_at": resolved_at,
            }
            answer = {"answer": inquiry["answer"]}
            events.append((TicketEvent.Type.ANSWERED, resolver, answer, resolved_at, True))
            events.append(
                (
                    TicketEvent.Type.STATUS_CHANGED,
                    resolver,
                    {"from": previous, "to": Ticket.Status.RESOLVED},
                    resolved_at,
                    False,
                )
            )
        self.writer.add(Ticket, ticket)
        self.writer.add(Ticket.contacts.through, {"ticket_id": pk, "contact_id": contact["id"]})
        if resolved_at is not None:
            self._survey(ticket, contact, row, resolved_at, events)
        for kind, actor, data, at, public in events:
            self.writer.add(
                TicketEvent,
                {
                    "ticket_id": pk,
                    "type": kind,
                    "actor_id": actor,
                    "data": data,
                    "public": public,
                    "created_at": at,
                },
            )
        self.counts.tickets += 1

    def _survey(self, ticket, contact, row, resolved_at, events) -> None:
        rng = self.rng
        pk = self.next_survey
        self.next_survey += 1
        method = Survey.Method.KAKAO if contact["channel"] == Channel.KAKAO else Survey.Method.SMS
        send_after = _send_after(resolved_at)
        survey = {
            "id": pk,
            "ticket_id": ticket["id"],
            "citizen_id": ticket["citizen_id"],
            "method": method,
            "status": Survey.Status.SCHEDULED,
            "send_after": send_after,
            "created_at": resolved_at,
        }
        answered_at = send_after + timedelta(minutes=5 + rng.expovariate(1 / 90))
        if send_after < self.now:
            survey |= {"status": Survey.Status.SENT, "sent_at": send_after}
            if rng.random() < SURVEY_ANSWERED and answered_at < self.now:
                waited = row["answered"] - row["queued_at"] > 60
                late = (
                    ticket["resolution_due"] is not None and resolved_at > ticket["resolution_due"]
                )
                weights = SCORE_WEIGHTS_AFTER_WAIT if waited or late else SCORE_WEIGHTS
                score = rng.choices(SCORES, weights)[0]
                survey |= {"status": Survey.Status.ANSWERED, "answered_at": answered_at}
                self.writer.add(Survey, survey)
                self.writer.add(
                    SurveyAnswer,
                    {
                        "survey_id": pk,
                        "contact_id": contact["id"],
                        "ticket_id": ticket["id"],
                        "score": score,
                        "solved": score >= 4 or rng.random() < 0.3,
                        "comment": "",
                        "channel": Channel.KAKAO if method == Survey.Method.KAKAO else Channel.SMS,
                        "created_at": answered_at,
                    },
                )
                events.append(
                    (
                        TicketEvent.Type.SURVEY_ANSWERED,
                        None,
                        {"survey": pk, "score": score, "solved": score >= 4},
                        answered_at,
                        False,
                    )
                )
                return
        self.writer.add(Survey, survey)
