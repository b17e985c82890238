"""Call-backs promised to citizens: the one way to create them, their forward-only life, and
the reads behind the work list.

open → taken → called or failed → done; open or taken → cancelled. A taken call-back belongs
to the agent who took it (a supervisor may act for them). Each move is a ``CallbackEvent``
row saying who did what and when.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber, to_python

from callcenter.models import (
    Agent,
    CallbackEvent,
    CallbackRequest,
    Channel,
    Citizen,
    Contact,
    Queue,
    User,
)
from callcenter.pii import mask_registration_numbers
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, user_roles
from callcenter.selectors import queues_for_agent
from callcenter.services.contacts import citizen_find_or_create
from callcenter.services.locking import row_locked, rows_skip_locked
from tickets.models import Ticket

Status = CallbackRequest.Status
Result = CallbackRequest.Result
ACTIVE_STATUSES = (Status.OPEN, Status.TAKEN)
# After this many calls nobody answered, the call-back is given up as failed.
MAX_UNANSWERED_ATTEMPTS = 3


class CallbackError(Exception):
    """A move the call-back's current state does not allow (taken meanwhile, already done)."""


class CallbackForbidden(CallbackError):
    """A move this user may not make: someone else's call-back, or a supervisor's action."""


def phone_normalise(phone: str | PhoneNumber) -> str:
    """The number in E.164 ("+821012345678"), as citizens' phones are stored; Korean
    national numbers ("010-1234-5678") are read in the KR region."""
    number = phone if isinstance(phone, PhoneNumber) else to_python(phone, region="KR")
    if number is None or not number.is_valid():
        raise ValidationError({"phone": _("Enter a valid phone number.")})
    return number.as_e164


def callback_default_queue() -> Queue | None:
    """Where call-backs with no contact behind them wait: the first active phone queue."""
    queues = list(Queue.objects.filter(is_active=True).order_by("-priority", "id"))
    return next((q for q in queues if Channel.VOICE in q.channels), queues[0] if queues else None)


def _queue_for(*, contact: Contact | None, ticket: Ticket | None) -> Queue | None:
    if contact is not None and contact.queue_id:
        return contact.queue
    if ticket is not None:
        latest = (
            Contact.objects.filter(tickets=ticket, queue__isnull=False)
            .select_related("queue")
            .order_by("-id")
            .first()
        )
        if latest is not None:
            return latest.queue
    return callback_default_queue()


def _active_for(*, phone: str, queue: Queue | None) -> CallbackRequest | None:
    return (
        CallbackRequest.objects.select_for_update()
        .filter(phone=phone, queue=queue, status__in=ACTIVE_STATUSES)
        .first()
    )


def callback_request_create(
    *,
    phone: str | PhoneNumber,
    source: CallbackRequest.Source,
    citizen: Citizen | None = None,
    name: str = "",
    contact: Contact | None = None,
    ticket: Ticket | None = None,
    queue: Queue | None = None,
    note: str = "",
    agent: Agent | None = None,
    due_at: datetime | None = None,
    preferred_at: datetime | None = None,
    actor: User | None = None,
    at: datetime | None = None,
) -> CallbackRequest:
    """Promise the citizen a call-back: the phone in E.164, the queue of the contact (or
    ticket) it came from, taken at once when ``agent`` is given; ``name`` names a citizen
    first met here.

    A number already waiting for a call-back in the same queue is not called twice: the
    request joins that call-back (its note added, the citizen's ``preferred_at`` time taking
    the place of an earlier choice) and is recorded as requested again.
    Raises ``ValidationError`` for a number that is not a phone number.
    """
    e164 = phone_normalise(phone)
    note = mask_registration_numbers(note.strip())[:500]
    if preferred_at is not None and due_at is None:
        due_at = preferred_at + PREFERRED_TIME_WINDOW  # booked: due around the chosen time
    queue = queue or _queue_for(contact=contact, ticket=ticket)
    at = at or timezone.now()
    with transaction.atomic():
        if citizen is None:
            citizen = citizen_find_or_create(phone=e164, name=name.strip()[:80])
        existing = _active_for(phone=e164, queue=queue)
        if existing is None:
            try:
                with transaction.atomic():
                    callback = CallbackRequest.objects.create(
                        citizen=citizen,
                        contact=contact,
                        ticket=ticket,
                        queue=queue,
                        source=source,
                        phone=e164,
                        note=note,
                        status=Status.TAKEN if agent else Status.OPEN,
                        assigned_to=agent,
                        due_at=due_at,
                        preferred_at=preferred_at,
                        created_at=at,
                    )
            except IntegrityError:
                # Another request for this number won the race: join it.
                existing = _active_for(phone=e164, queue=queue)
                if existing is None:
                    raise
            else:
                CallbackEvent.objects.create(
                    callback=callback,
                    type=CallbackEvent.Type.CREATED,
                    actor=actor,
                    data={"source": source, "agent": agent.pk if agent else None},
                    created_at=at,
                )
                return callback
        return _request_again(
            existing,
            source=source,
            note=note,
            ticket=ticket,
            due_at=due_at,
            preferred_at=preferred_at,
            actor=actor,
            at=at,
        )


def _request_again(
    callback: CallbackRequest, *, source, note, ticket, due_at, preferred_at, actor, at
) -> CallbackRequest:
    changed = []
    if preferred_at is not None and preferred_at != callback.preferred_at:
        callback.preferred_at = preferred_at
        callback.due_at = due_at  # the citizen chose another time: due around that one
        changed += ["preferred_at", "due_at"]
        due_at = None
    if note and note not in callback.note:
        callback.note = f"{callback.note} / {note}"[:500] if callback.note else note
        changed.append("note")
    if ticket is not None and callback.ticket_id is None:
        callback.ticket = ticket
        changed.append("ticket")
    if due_at is not None and (callback.due_at is None or due_at < callback.due_at):
        callback.due_at = due_at
        changed.append("due_at")
    if changed:
        callback.save(update_fields=changed)
    CallbackEvent.objects.create(
        callback=callback,
        type=CallbackEvent.Type.REQUESTED_AGAIN,
        actor=actor,
        data={"source": source, "note": note},
        created_at=at,
    )
    return callback


def is_callback_supervisor(user: User) -> bool:
    return bool(user_roles(user) & {SUPERVISOR, ADMINISTRATOR})


def _check_owner(callback: CallbackRequest, user: User) -> None:
    owner = callback.assigned_to
    if (owner is None or owner.user_id != user.pk) and not is_callback_supervisor(user):
        raise CallbackForbidden(_("This call-back was taken by another agent."))


def _event(callback: CallbackRequest, type_: str, actor: User | None, **data) -> CallbackEvent:
    return CallbackEvent.objects.create(callback=callback, type=type_, actor=actor, data=data)


def callback_take(*, callback: CallbackRequest, agent: Agent) -> CallbackRequest:
    """The agent takes an open call-back; refused once someone else has."""
    with transaction.atomic():
        callback = row_locked(callback)
        if callback.status != Status.OPEN:
            if callback.status == Status.TAKEN and callback.assigned_to_id == agent.pk:
                return callback
            if callback.status == Status.TAKEN:
                raise CallbackError(
                    _("%(agent)s has already taken this call-back.")
                    % {"agent": callback.assigned_to.display_name}
                )
            raise CallbackError(_("This call-back is no longer open."))
        callback.status = Status.TAKEN
        callback.assigned_to = agent
        callback.save(update_fields=["status", "assigned_to"])
        _event(callback, CallbackEvent.Type.TAKEN, agent.user, agent=agent.pk)
    return callback


# A call-back booked for a time (a sign-language video call) is due within this window after
# it, and is handed out by "take next" from a few minutes before it.
PREFERRED_TIME_WINDOW = timedelta(minutes=30)
PREFERRED_TIME_EARLY = timedelta(minutes=10)


def callback_take_next(*, agent: Agent) -> CallbackRequest | None:
    """The agent takes the most urgent open call-back of their queues; None when none waits."""
    for _attempt in range(5):
        with transaction.atomic():
            soon = timezone.now() + PREFERRED_TIME_EARLY
            candidate = rows_skip_locked(
                callback_list_for_agent(agent=agent)
                .filter(status=Status.OPEN)
                .exclude(preferred_at__gt=soon)  # booked for later: not yet
                .order_by(F("due_at").asc(nulls_last=True), "created_at", "id")
            ).first()
            if candidate is None:
                return None
            try:
                return callback_take(callback=candidate, agent=agent)
            except CallbackError:
                continue
    return None


def callback_attempt_record(
    *, callback: CallbackRequest, user: User, result: str, note: str = ""
) -> CallbackRequest:
    """What came of a call: reached → called; wrong number → failed; no answer counts an
    attempt, and the third unanswered one gives the call-back up as failed."""
    result = Result(result)
    with transaction.atomic():
        callback = row_locked(callback)
        _check_owner(callback, user)
        if callback.status != Status.TAKEN:
            raise CallbackError(_("Only a taken call-back can be called."))
        previous = callback.status
        if result == Result.REACHED:
            callback.status = Status.CALLED
        elif result == Result.WRONG_NUMBER:
            callback.status = Status.FAILED
        else:
            callback.attempts += 1
            if callback.attempts >= MAX_UNANSWERED_ATTEMPTS:
                callback.status = Status.FAILED
        callback.result = result
        callback.save(update_fields=["status", "attempts", "result"])
        _event(
            callback,
            CallbackEvent.Type.ATTEMPTED,
            user,
            result=result,
            note=mask_registration_numbers(note.strip())[:500],
            attempts=callback.attempts,
            **{"from": previous, "to": callback.status},
        )
    return callback


def callback_complete(*, callback: CallbackRequest, user: User, note: str = "") -> CallbackRequest:
    """Close a called or failed call-back once the follow-up is written down."""
    with transaction.atomic():
        callback = row_locked(callback)
        _check_owner(callback, user)
        if callback.status not in (Status.CALLED, Status.FAILED):
            raise CallbackError(_("Record the call's outcome before closing the call-back."))
        previous = callback.status
        callback.status = Status.DONE
        callback.save(update_fields=["status"])
        _event(
            callback,
            CallbackEvent.Type.DONE,
            user,
            note=mask_registration_numbers(note.strip())[:500],
            **{"from": previous},
        )
    return callback


def _check_supervisor(user: User) -> None:
    if not is_callback_supervisor(user):
        raise CallbackForbidden(_("Only a supervisor can do this."))


def callback_cancel(*, callback: CallbackRequest, user: User, reason: str) -> CallbackRequest:
    """A supervisor drops a call-back still to do (the citizen was reached another way)."""
    _check_supervisor(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the call-back is cancelled.")})
    with transaction.atomic():
        callback = row_locked(callback)
        if callback.status not in ACTIVE_STATUSES:
            raise CallbackError(_("This call-back is no longer open."))
        previous = callback.status
        callback.status = Status.CANCELLED
        callback.save(update_fields=["status"])
        _event(
            callback, CallbackEvent.Type.CANCELLED, user, reason=reason[:500], **{"from": previous}
        )
    return callback


def callback_reassign(*, callback: CallbackRequest, agent: Agent, user: User) -> CallbackRequest:
    """A supervisor gives a call-back still to do to an agent (it is then taken by them)."""
    _check_supervisor(user)
    with transaction.atomic():
        callback = row_locked(callback)
        if callback.status not in ACTIVE_STATUSES:
            raise CallbackError(_("This call-back is no longer open."))
        previous_agent = callback.assigned_to_id
        callback.status = Status.TAKEN
        callback.assigned_to = agent
        callback.save(update_fields=["status", "assigned_to"])
        _event(
            callback,
            CallbackEvent.Type.REASSIGNED,
            user,
            from_agent=previous_agent,
            to_agent=agent.pk,
        )
    return callback


# --- Reads ---------------------------------------------------------------------------------


def callback_list(*, status: str = "", queue: Queue | None = None) -> QuerySet[CallbackRequest]:
    """The work list: ``status`` is a state, "active" (open or taken, the default) or "all"."""
    callbacks = CallbackRequest.objects.select_related("queue", "citizen", "assigned_to", "ticket")
    if status in ("", "active"):
        callbacks = callbacks.filter(status__in=ACTIVE_STATUSES)
    elif status != "all":
        callbacks = callbacks.filter(status=status)
    if queue is not None:
        callbacks = callbacks.filter(queue=queue)
    return callbacks.order_by(F("due_at").asc(nulls_last=True), "created_at", "id")


def callback_list_for_agent(*, agent: Agent) -> QuerySet[CallbackRequest]:
    """Call-backs in the queues the agent can serve (and those with no queue)."""
    queues = [queue.pk for queue in queues_for_agent(agent)]
    return CallbackRequest.objects.filter(Q(queue_id__in=queues) | Q(queue__isnull=True))


def callback_open_count(*, agent: Agent) -> int:
    return callback_list_for_agent(agent=agent).filter(status=Status.OPEN).count()


def callback_phone_revealable(*, user: User, callback: CallbackRequest) -> bool:
    """Only the agent who has taken the call-back sees the full number, to dial it."""
    return (
        callback.status == Status.TAKEN
        and callback.assigned_to is not None
        and callback.assigned_to.user_id == user.pk
    )
