"""Skills-based routing: queue contacts, offer them to the best agent, accept, end, wrap up.

Rules (issue "The heart"):
- an agent is eligible for a contact when they have every skill the queue requires plus the
  contact's language skill, are ``available``, have no pending offer, and have capacity left
  (voice/video: nothing else at all; chats: fewer than ``max_concurrent_chats`` in hand);
- contacts go out in order: citizens needing assistance first, then higher queue priority,
  then the longest waiting; the longest idle eligible agent gets the offer;
- one pending offer per contact and per agent is a database constraint. A router's pass over
  the queue is one short transaction in the router's turn (an advisory lock): it reads the
  free agents and the queue, pairs them in memory, locks the chosen contacts and agents
  (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), checks them again and writes the
  offers together. So several router processes never offer a contact or an agent twice, and
  the oldest contact goes first even when several processes dispatch at once.

Every change is committed before it is published (callcenter.services.notify).
Agents' presence and sockets: callcenter.services.presence.
"""

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from callcenter.models import (
    OPEN_CONTACT_STATES,
    REALTIME_CHANNELS,
    Agent,
    CallbackRequest,
    Channel,
    ChatSession,
    Contact,
    ContactEvent,
    Message,
    Offer,
    Presence,
    PresenceReason,
    Queue,
    Skill,
    SocketConnection,
    User,
    socket_cutoff,
)
from callcenter.selectors import waiting_by_queue
from callcenter.services import notify, video_relay, voice
from callcenter.services.callbacks import CallbackError, callback_take
from callcenter.services.locking import row_locked, rows_skip_locked
from callcenter.services.messages import message_create
from callcenter.services.offers import offer_close, offer_timeout
from callcenter.services.presence import (
    agent_has_capacity,
    agent_load,
    agent_loads,
    agent_set_presence,
    presence_follow_load,
    sockets_forget_stale,
)
from callcenter.services.scheduler import job_state_swap
from channels_app import events

logger = logging.getLogger(__name__)

# A contact's language needs this skill of the agent (Korean is everyone's).
LANGUAGE_SKILLS = {
    "en": "lang-en",
    "zh": "lang-zh",
    "ja": "lang-ja",
    "vi": "lang-vi",
    "mn": "lang-mn",
    "ksl": "sign-language",
}
DEFAULT_HANDLE_SECONDS = 180


class RoutingError(Exception):
    """A routing action that cannot happen now; the message is shown to the user."""


def agents_sign_out_closed_consoles() -> list[Agent]:
    """Agents whose last console has been gone for PRESENCE_GRACE_SECONDS go offline
    ("console disconnected"): their pending offer is withdrawn, nobody counts them."""
    now = timezone.now()
    cutoff = socket_cutoff(now)
    gone = Q(console_seen_at__isnull=True) | Q(console_seen_at__lt=cutoff)
    signed_out = []
    for agent_id in (
        Agent.objects.exclude(presence=Presence.OFFLINE)
        .filter(gone)
        .exclude(pk__in=Agent.objects.with_open_console(now).values("pk"))
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            # Another router may have done it already, or the console may be back.
            agent = (
                rows_skip_locked(
                    Agent.objects.filter(pk=agent_id).exclude(presence=Presence.OFFLINE)
                )
                .filter(gone)
                .exclude(pk__in=Agent.objects.with_open_console(now).values("pk"))
                .first()
            )
            if agent is None:
                continue
            for offer in rows_skip_locked(
                Offer.objects.filter(agent=agent, state=Offer.State.PENDING)
            ):
                offer_close(offer, Offer.State.CANCELLED, now, reason="gone")
            agent_set_presence(
                agent=agent,
                presence=Presence.OFFLINE,
                reason=PresenceReason.CONSOLE_CLOSED,
                dispatch=False,
            )
            signed_out.append(agent)
    return signed_out


def chats_abandon_gone() -> list[Contact]:
    """Waiting web chats and video calls whose citizen has had no socket for
    CHAT_ABANDON_SECONDS leave the queue as abandoned (the others move up); read from the
    database, so a restart keeps it."""
    now = timezone.now()
    gone_since = now - timedelta(seconds=settings.CHAT_ABANDON_SECONDS)
    open_socket = SocketConnection.objects.filter(
        session=OuterRef("session"), seen_at__gte=socket_cutoff(now)
    )
    abandoned = []
    for contact in (
        Contact.objects.waiting()
        .filter(
            # A KakaoTalk citizen's web page may close: Kakao stays. A video page is the call.
            channel__in=(Channel.WEBCHAT, Channel.VIDEO),
            session__isnull=False,
            session__citizen_seen_at__lt=gone_since,
        )
        .exclude(Exists(open_socket))
    ):
        contact = contact_end(contact=contact, by="system")
        if contact.abandoned:
            abandoned.append(contact)
    return abandoned


# --- queueing -----------------------------------------------------------------------------
def contact_enqueue(*, contact: Contact, queue: Queue, announce: bool = True) -> Contact:
    """Put a contact in a queue; the router offers it as soon as the commit lands.

    ``announce``: tell the citizen their place on commit. A web chat being started passes
    False: its page has no socket yet, and the socket's hello gives the place."""
    now = timezone.now()
    with transaction.atomic():
        contact.queue = queue
        contact.queued_at = contact.queued_at or now
        contact.save(update_fields=["queue", "queued_at"])
        ContactEvent.objects.create(
            contact=contact, type=ContactEvent.Type.QUEUED, data={"queue": queue.code}
        )
        transaction.on_commit(router_dispatch_soon)
        if announce:
            # A newcomer joins at the end: only its own place is news (one with precedence,
            # who needs assistance, moves the others at the next router tick).
            transaction.on_commit(
                lambda: queue_positions_publish(
                    queue_ids=[queue.pk], contact_ids={contact.pk}, first=True
                )
            )
    return contact


def _required_skill_ids(queue: Queue, contact: Contact, skill_ids: dict[str, int]) -> set[int]:
    required = {skill.pk for skill in queue.required_skills.all()}
    language_skill = LANGUAGE_SKILLS.get(contact.language)
    if language_skill and language_skill in skill_ids:
        required.add(skill_ids[language_skill])
    return required


def _candidate_queues(contact: Contact, now: datetime) -> list[Queue]:
    queues = [contact.queue]
    overflow = contact.queue.overflow_queue
    waited = (now - contact.queued_at).total_seconds()
    if overflow is not None and waited >= contact.queue.overflow_after_seconds:
        queues.append(overflow)
    return queues


def _citizen_present(now: datetime) -> Q:
    """Contacts without a chat session (calls, Kakao), or whose citizen has a chat socket
    open or had one moments ago (a reload, the start of the chat): nobody rings for a page
    that is gone."""
    grace = timedelta(seconds=settings.CHAT_OFFER_GRACE_SECONDS)
    open_socket = SocketConnection.objects.filter(
        session=OuterRef("session"), seen_at__gte=socket_cutoff(now)
    )
    return (
        Q(session__isnull=True)
        # a Kakao citizen who also opened the web chat
        | ~Q(channel__in=(Channel.WEBCHAT, Channel.VIDEO))
        | Q(session__citizen_seen_at__gte=now - grace)
        | Q(Exists(open_socket))
    )


def _waiting_contacts():
    return (
        Contact.objects.waiting()
        .filter(queue__isnull=False, queued_at__isnull=False)
        .filter(_citizen_present(timezone.now()))
        .exclude(offers__state=Offer.State.PENDING)
        .select_related("queue", "queue__overflow_queue", "citizen")
        .prefetch_related("queue__required_skills", "queue__overflow_queue__required_skills")
        .order_by(
            "direction",  # "inbound" first: a call-back waits for every caller waiting
            F("citizen__needs_assistance").desc(nulls_last=True),
            "-queue__priority",
            "queued_at",
            "id",
        )
    )


def _routing_snapshot() -> tuple[dict[str, int], frozenset[int], list[Agent], dict[int, set[int]]]:
    """Skill ids by code, the sign-language skills' ids, the available agents longest-idle
    first, and their skills."""
    rows = list(Skill.objects.values_list("code", "id", "kind"))
    skill_ids = {code: pk for code, pk, _kind in rows}
    sign_ids = frozenset(pk for _code, pk, kind in rows if kind == Skill.Kind.SIGN_LANGUAGE)
    agents = list(
        Agent.objects.filter(presence=Presence.AVAILABLE)
        .with_open_console()
        .exclude(offers__state=Offer.State.PENDING)
        .order_by("idle_since", "id")
    )
    skills: dict[int, set[int]] = {agent.pk: set() for agent in agents}
    for agent_id, skill_id in Agent.skills.through.objects.filter(
        agent_id__in=list(skills)
    ).values_list("agent_id", "skill_id"):
        skills[agent_id].add(skill_id)
    return skill_ids, sign_ids, agents, skills


def _recent_refusers(contact_ids: list[int], now: datetime) -> dict[int, set[int]]:
    """Agents who declined or missed each contact lately: offer it to someone else first."""
    since = now - timedelta(seconds=settings.ROUTING_REOFFER_AFTER_SECONDS)
    refusers: dict[int, set[int]] = {pk: set() for pk in contact_ids}
    for contact_id, agent_id in Offer.objects.filter(
        contact_id__in=contact_ids,
        state__in=[Offer.State.DECLINED, Offer.State.TIMED_OUT],
        responded_at__gte=since,
    ).values_list("contact_id", "agent_id"):
        refusers[contact_id].add(agent_id)
    return refusers


# pg_advisory_xact_lock key for the router's turn ("120" in ASCII).
DISPATCH_LOCK_KEY = 0x313230


def _take_dispatch_turn() -> None:
    """Let one router at a time pair contacts with agents, until its transaction ends.

    Only routers make offers, so inside the turn what a router reads of pending offers stays
    true until it commits: it never offers a contact or an agent another router is offering,
    and never skips an older contact that another router holds."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DISPATCH_LOCK_KEY])


@dataclass
class _Pair:
    contact: Contact
    agent: Agent
    queue: Queue


def _dispatch_pass() -> tuple[list[Offer], bool]:
    """One pass over the waiting contacts, oldest (and assisted) first, each offered to the
    longest-idle eligible agent still free in this pass: (the offers, whether another pass
    may find more).

    The whole pass is one short transaction in the router's turn, whatever the number of
    offers: the free agents, their loads and the queue are read once, the pairs made in
    memory, then the chosen contacts and agents locked (rows another transaction holds are
    skipped: a citizen leaving, an agent changing presence) and checked again, and the
    offers written together. So a burst of chats costs a few queries per pass, not per
    offer, and the router keeps up however fast chats arrive."""
    with transaction.atomic():
        _take_dispatch_turn()
        now = timezone.now()
        skill_ids, sign_ids, agents, agent_skills = _routing_snapshot()
        if not agents:
            return [], False
        loads = agent_loads([agent.pk for agent in agents])
        pairs = _pairs(agents, agent_skills, skill_ids, sign_ids, loads, now)
        if not pairs:
            return [], False
        kept = _still_free(pairs)
        offers = _offers_create(kept, now)
    # A pair lost to another transaction (the citizen left, the agent changed presence): the
    # next pass pairs that contact again, as long as passes make progress (a row held for
    # long would otherwise spin the router; the tick tries again).
    return offers, bool(kept) and len(kept) < len(pairs)


def _pairs(agents, agent_skills, skill_ids, sign_ids, loads, now) -> list[_Pair]:
    free = list(agents)
    pairs: list[_Pair] = []
    for chunk in _waiting_in_order(chunk=max(8, 2 * len(agents))):
        refusers = _recent_refusers([contact.pk for contact in chunk], now)
        for contact in chunk:
            if not free:
                return pairs
            for queue in _candidate_queues(contact, now):
                required = _required_skill_ids(queue, contact, skill_ids)
                # A video call is signed: only an agent with a sign-language skill, whatever
                # the queue asks (nobody, when the centre has no such skill).
                signing = contact.channel == Channel.VIDEO
                agent = next(
                    (
                        a
                        for a in free
                        if required <= agent_skills[a.pk]
                        and (not signing or agent_skills[a.pk] & sign_ids)
                        and a.pk not in refusers[contact.pk]
                        and agent_has_capacity(a, loads[a.pk], contact)
                    ),
                    None,
                )
                if agent is not None:
                    pairs.append(_Pair(contact, agent, queue))
                    free.remove(agent)
                    break
    return pairs


def _still_free(pairs: list[_Pair]) -> list[_Pair]:
    """The pairs whose contact still waits and whose agent is still available with room,
    both locked until the offers are written."""
    contacts = set(
        rows_skip_locked(
            Contact.objects.waiting().filter(pk__in=[pair.contact.pk for pair in pairs])
        ).values_list("pk", flat=True)
    )
    agents = set(
        rows_skip_locked(
            Agent.objects.filter(
                pk__in=[pair.agent.pk for pair in pairs], presence=Presence.AVAILABLE
            )
        ).values_list("pk", flat=True)
    )
    loads = agent_loads(list(agents))  # under the agents' locks: a transfer may have added
    return [
        pair
        for pair in pairs
        if pair.contact.pk in contacts
        and pair.agent.pk in agents
        and agent_has_capacity(pair.agent, loads[pair.agent.pk], pair.contact)
    ]


def _waiting_in_order(*, chunk: int, most: int = 200):
    """The waiting contacts in routing order, ``chunk`` at a time (a pass with three free
    agents rarely needs more than the first few of a long queue)."""
    if not chunk:
        return
    seen: list[int] = []
    while len(seen) < most:
        rows = list(_waiting_contacts().exclude(pk__in=seen)[: min(chunk, most - len(seen))])
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        seen.extend(row.pk for row in rows)


def _offers_create(pairs: list[_Pair], now: datetime) -> list[Offer]:
    expires_at = now + offer_timeout()
    offers = Offer.objects.bulk_create(
        [
            Offer(contact=pair.contact, agent=pair.agent, created_at=now, expires_at=expires_at)
            for pair in pairs
        ]
    )
    first_offers = [pair.contact for pair in pairs if pair.contact.offered_at is None]
    if first_offers:
        Contact.objects.filter(pk__in=[c.pk for c in first_offers]).update(offered_at=now)
        for contact in first_offers:
            contact.offered_at = now
    events_ = [
        ContactEvent(
            contact=pair.contact,
            type=ContactEvent.Type.OFFERED,
            agent=pair.agent,
            data={"offer": offer.pk},
        )
        for pair, offer in zip(pairs, offers, strict=True)
    ]
    events_ += [
        ContactEvent(
            contact=pair.contact, type=ContactEvent.Type.OVERFLOWED, data={"queue": pair.queue.code}
        )
        for pair in pairs
        if pair.queue != pair.contact.queue
    ]
    ContactEvent.objects.bulk_create(events_)
    for offer in offers:
        notify.publish_offer_created(offer)
    return offers


def router_dispatch_soon() -> None:
    """Offer waiting contacts now that a commit may have made a pair (a contact queued, an
    agent free). From a socket's or a view's worker thread the dispatch is handed to the
    process's event loop, which runs one dispatch at a time and folds the requests that
    arrive meanwhile into the next run: request threads never queue for the router's turn
    (holding database connections while they wait), and a burst of chat starts costs a few
    dispatches, not one each. Elsewhere (Celery, commands, sync tests) it dispatches here."""
    loop = events.calling_loop()
    if loop is None:
        router_dispatch()
        return
    try:
        loop.call_soon_threadsafe(_dispatch_on_loop)
    except RuntimeError:  # the loop closed meanwhile: the router tick offers it
        logger.warning("dispatch not scheduled: the event loop has closed")


@dataclass
class _Dispatcher:
    task: asyncio.Task | None = None
    again: bool = False


_dispatchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _dispatch_on_loop() -> None:
    loop = asyncio.get_running_loop()
    dispatcher = _dispatchers.setdefault(loop, _Dispatcher())
    dispatcher.again = True
    if dispatcher.task is None or dispatcher.task.done():
        dispatcher.task = loop.create_task(_dispatch_while_asked(dispatcher))


async def _dispatch_while_asked(dispatcher: _Dispatcher) -> None:
    while dispatcher.again:
        dispatcher.again = False
        try:
            # A pool thread that closes its database connection around the call (returns it
            # to the pool), as the consumers' calls do.
            await database_sync_to_async(router_dispatch, thread_sensitive=False)()
        except Exception:
            logger.exception("dispatch failed; the router tick tries again")


def router_dispatch() -> list[Offer]:
    """Offer waiting contacts to eligible agents until no pair is left."""
    offers: list[Offer] = []
    again = True
    while again:
        batch, again = _dispatch_pass()
        offers.extend(batch)
    return offers


# --- offers -------------------------------------------------------------------------------
def _get_pending_offer(offer_id: int, agent: Agent) -> Offer:
    offer = (
        Offer.objects.select_for_update()
        .select_related("contact")
        .filter(pk=offer_id, agent=agent)
        .first()
    )
    if offer is None:
        raise RoutingError(_("No such offer."))
    if offer.state != Offer.State.PENDING:
        raise RoutingError(_("The offer is no longer open."))
    return offer


def offer_accept(*, offer_id: int, agent: Agent) -> Contact:
    """The agent takes the offered contact: it is theirs and the citizen hears so."""
    now = timezone.now()
    with transaction.atomic():
        offer = _get_pending_offer(offer_id, agent)
        if offer.expires_at <= now:
            offer_close(offer, Offer.State.TIMED_OUT, now, reason="timeout")
            raise RoutingError(_("The offer has expired."))
        contact = row_locked(offer.contact)
        if contact.state != Contact.State.WAITING:
            offer_close(offer, Offer.State.CANCELLED, now, reason="gone")
            raise RoutingError(_("The citizen has left."))
        offer.state = Offer.State.ACCEPTED
        offer.responded_at = now
        offer.save(update_fields=["state", "responded_at"])
        contact.agent = agent
        contact.answered_at = now
        contact.save(update_fields=["agent", "answered_at"])
        ContactEvent.objects.create(contact=contact, type=ContactEvent.Type.ACCEPTED, agent=agent)
        system_line_create(
            contact, gettext_noop("Agent %(name)s has joined the chat."), name=agent.display_name
        )
        notify.publish_contact_assigned(contact)
        notify.publish_chat_state(contact)
        if contact.channel == Channel.VOICE:
            if contact.direction == Contact.Direction.OUTBOUND:
                _callback_accepted(contact, agent)
            else:
                voice.call_bridge(contact, agent)
            voice.publish_call(contact)
        presence_follow_load(agent)
        # The others move up: the router tick tells them (within ROUTER_TICK_SECONDS, one
        # pass over the queue however many left it meanwhile). An agent with room for more
        # chats may take the next one now: a pending offer kept them out of every pass.
        transaction.on_commit(router_dispatch_soon)
    return contact


def _callback_call(contact: Contact) -> CallbackRequest | None:
    """The call-back a queued outbound call is for (its provider id until dialled)."""
    _prefix, _sep, callback_id = contact.provider_id.partition("callback-")
    return (
        CallbackRequest.objects.filter(pk=int(callback_id)).first()
        if callback_id.isdigit()
        else None
    )


def _callback_accepted(contact: Contact, agent: Agent) -> None:
    """The agent accepted a call-back the router offered: it is theirs on the work list
    too, and Twilio dials the citizen from the city's number into the agent's call."""
    callback = _callback_call(contact)
    if callback is None:
        raise RoutingError(_("This call-back is no longer open."))
    try:
        callback = callback_take(callback=callback, agent=agent)
    except CallbackError as error:
        raise RoutingError(str(error)) from error
    voice.call_back_dial(contact, agent, phone=str(callback.phone))


def callback_call_withdraw(callback: CallbackRequest) -> Contact | None:
    """Take a call-back's queued call out of the queue (someone took, dialled or cancelled
    the call-back from the work list): ended, not abandoned, its offers cancelled."""
    contact = Contact.objects.filter(
        channel=Channel.VOICE, provider_id=f"callback-{callback.pk}"
    ).first()
    if contact is None or contact.state != Contact.State.WAITING:
        return None
    return contact_end(contact=contact, by="callback")


def offer_decline(*, offer_id: int, agent: Agent) -> None:
    with transaction.atomic():
        offer = _get_pending_offer(offer_id, agent)
        offer_close(offer, Offer.State.DECLINED, timezone.now(), reason="declined")
        transaction.on_commit(router_dispatch_soon)


def offers_expire() -> int:
    """Time out unanswered offers: the agent goes 'not responding', the contact moves on."""
    now = timezone.now()
    overdue = Offer.objects.filter(state=Offer.State.PENDING, expires_at__lte=now)
    if not overdue.exists():  # every tick asks; one query, not a locking transaction
        return 0
    expired = 0
    with transaction.atomic():
        for offer in rows_skip_locked(overdue.select_related("agent")):
            offer_close(offer, Offer.State.TIMED_OUT, now, reason="timeout")
            agent_set_presence(
                agent=offer.agent,
                presence=Presence.NOT_RESPONDING,
                reason=PresenceReason.OFFER_MISSED,
                dispatch=False,
            )
            expired += 1
        if expired:
            transaction.on_commit(router_dispatch_soon)
    return expired


# --- conversation -------------------------------------------------------------------------
def system_line_create(contact: Contact, text: str, **params) -> Message:
    """A system line in the citizen's language (Korean, else English), stored once."""
    # A video call's contact speaks sign language: its page's language is the session's.
    language = contact.language
    if contact.channel == Channel.VIDEO and contact.session_id:
        language = (
            ChatSession.objects.filter(pk=contact.session_id)
            .values_list("language", flat=True)
            .first()
            or "ko"
        )
    with translation.override("ko" if language == "ko" else "en"):
        line = _(text) % params if params else _(text)
    return message_create(contact=contact, sender=Message.Sender.SYSTEM, text=line)


# The line a conversation's end leaves in it: [a call?][ended by the citizen?].
_END_LINES = {
    False: {
        True: gettext_noop("The citizen has ended the chat."),
        False: gettext_noop("The chat has ended."),
    },
    True: {
        True: gettext_noop("The caller has hung up."),
        False: gettext_noop("The call has ended."),
    },
}


# Ends that come from the caller's side: the call is already over (or about to be) at Twilio.
CALLER_ENDS = frozenset({"citizen", "callback", "voicemail"})


def contact_end(*, contact: Contact, by: str, actor: User | None = None) -> Contact:
    """End a conversation. A waiting contact the citizen leaves is abandoned.

    ``by`` is who ended it: "citizen", "agent", "system", "callback" (the citizen left
    a call-back request instead of waiting) or "voicemail" (the caller's queue was closed:
    they may leave a message instead; there was nobody to wait for).
    """
    now = timezone.now()
    with transaction.atomic():
        contact = row_locked(contact)
        state = contact.state
        if state not in OPEN_CONTACT_STATES:
            return contact
        contact.ended_at = now
        fields = ["ended_at"]
        # Leaving the queue is abandoning it, unless the citizen chose a call-back instead
        # or the queue was closed.
        abandoned = state == Contact.State.WAITING and by not in ("callback", "voicemail")
        if state == Contact.State.WAITING:
            for offer in rows_skip_locked(contact.offers.filter(state=Offer.State.PENDING)):
                offer_close(offer, Offer.State.CANCELLED, now, reason="abandoned")
        if abandoned:
            contact.abandoned = True
            fields.append("abandoned")
        contact.save(update_fields=fields)
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.ABANDONED if abandoned else ContactEvent.Type.ENDED,
            actor=actor,
            agent=contact.agent,
            data={"by": by},
        )
        system_line_create(contact, _END_LINES[contact.channel == Channel.VOICE][by == "citizen"])
        if contact.channel == Channel.VOICE:
            voice.call_ended(contact, hang_up=by not in CALLER_ENDS)
        elif contact.channel == Channel.VIDEO:
            video_relay.relay_contact_ended(contact)
        notify.publish_chat_ended(contact, by=by)
        if contact.agent_id:
            notify.publish_contact_updated(contact)
            presence_follow_load(contact.agent)
        # A waiting contact that leaves moves the others up: the router tick tells them.
    return contact


def contact_wrapup_complete(*, contact: Contact, agent: Agent, forced: bool = False) -> Contact:
    """Finish after-contact work. Without ``forced`` the contact must have its ticket."""
    now = timezone.now()
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.agent_id != agent.pk:
            raise RoutingError(_("This contact is not yours."))
        if contact.state == Contact.State.ACTIVE:
            raise RoutingError(_("End the conversation before finishing wrap-up."))
        if contact.state != Contact.State.WRAPUP:
            return contact
        if not forced and not contact.tickets.exists():
            raise RoutingError(_("Save the ticket before finishing wrap-up."))
        contact.wrapup_ended_at = now
        contact.save(update_fields=["wrapup_ended_at"])
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.WRAPUP_ENDED,
            agent=agent,
            data={"forced": forced},
        )
        notify.publish_contact_removed(contact, reason="wrapup_done")
        presence_follow_load(agent)
        transaction.on_commit(router_dispatch_soon)
    return contact


def wrapups_expire() -> int:
    """End wrap-ups that ran past the configured limit."""
    limit = timezone.now() - timedelta(seconds=settings.ROUTING_WRAPUP_LIMIT_SECONDS)
    overdue = Contact.objects.filter(
        ended_at__lte=limit,
        answered_at__isnull=False,
        wrapup_ended_at__isnull=True,
        agent__isnull=False,
    ).select_related("agent")
    count = 0
    for contact in overdue:
        contact_wrapup_complete(contact=contact, agent=contact.agent, forced=True)
        count += 1
    return count


def _transfer_note(contact: Contact, from_agent: Agent, note: str) -> None:
    """The transferring agent's note, for whoever takes over (staff only)."""
    if not note.strip():
        return
    message_create(
        contact=contact,
        sender=Message.Sender.AGENT,
        sender_user=from_agent.user,
        text=_("[Transfer note] %(note)s") % {"note": note.strip()},
        internal=True,
    )


def contact_transfer_to_agent(
    *, contact: Contact, from_agent: Agent, to_agent: Agent, note: str = ""
) -> Contact:
    """Hand an active conversation to a colleague, who must be free to take it."""
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.agent_id != from_agent.pk or contact.state != Contact.State.ACTIVE:
            raise RoutingError(_("Only an active contact you hold can be transferred."))
        target = row_locked(to_agent)
        if target.pk == from_agent.pk:
            raise RoutingError(_("Choose another agent."))
        if target.presence != Presence.AVAILABLE or not agent_has_capacity(
            target, agent_load(target), contact
        ):
            raise RoutingError(
                _("%(name)s cannot take a contact now.") % {"name": target.display_name}
            )
        if (
            contact.channel == Channel.VIDEO
            and not target.skills.filter(kind=Skill.Kind.SIGN_LANGUAGE).exists()
        ):
            raise RoutingError(
                _("%(name)s does not sign: a video call goes to a signing colleague.")
                % {"name": target.display_name}
            )
        contact.agent = target
        contact.save(update_fields=["agent"])
        if contact.channel == Channel.VIDEO:
            # The colleague's console joins the call; the first agent's video socket leaves.
            events.send_after_commit(
                [events.video_group(contact.pk, "agent")],
                {"type": "video.reassigned", "agent_user_id": target.user_id},
            )
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.TRANSFERRED,
            agent=target,
            actor=from_agent.user,
            data={"from_agent": from_agent.pk, "to_agent": target.pk, "note": note},
        )
        _transfer_note(contact, from_agent, note)
        system_line_create(
            contact,
            gettext_noop("Agent %(name)s is taking over the chat."),
            name=target.display_name,
        )
        notify.publish_contact_removed(contact, reason="transferred", agent_id=from_agent.pk)
        notify.publish_contact_assigned(contact)
        notify.publish_chat_state(contact)
        presence_follow_load(from_agent)
        presence_follow_load(target)
    return contact


def contact_transfer_to_queue(
    *, contact: Contact, from_agent: Agent, queue: Queue, note: str = ""
) -> Contact:
    """Send a conversation to another queue (e.g. 외국어) as a new leg.

    The new contact keeps the citizen, the chat session and the ticket; the agent's leg ends
    and goes to wrap-up (where the ticket is already linked).
    """
    now = timezone.now()
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.agent_id != from_agent.pk or contact.state != Contact.State.ACTIVE:
            raise RoutingError(_("Only an active contact you hold can be transferred."))
        if contact.channel not in queue.channels:
            raise RoutingError(
                _("%(queue)s does not take %(channel)s.")
                % {"queue": queue.name, "channel": contact.get_channel_display()}
            )
        if contact.channel == Channel.VIDEO:
            raise RoutingError(_("A video call is handed to a signing colleague, not to a queue."))
        leg = Contact.objects.create(
            channel=contact.channel,
            citizen=contact.citizen,
            language=contact.language,
            session=contact.session,
            transferred_from=contact,
        )
        for ticket in contact.tickets.all():
            ticket.contacts.add(leg)
        if contact.session_id:
            contact.session.contact = leg
            contact.session.save(update_fields=["contact"])
        contact.ended_at = now
        contact.save(update_fields=["ended_at"])
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.TRANSFERRED,
            actor=from_agent.user,
            data={"to_queue": queue.code, "new_contact": leg.pk, "note": note},
        )
        _transfer_note(leg, from_agent, note)
        system_line_create(
            contact,
            gettext_noop("Connecting you to the %(queue)s queue. Please wait a moment."),
            queue=queue.name,
        )
        notify.publish_chat_moved(contact, leg)
        notify.publish_contact_updated(contact)
        presence_follow_load(from_agent)
        contact_enqueue(contact=leg, queue=queue)
    return leg


def contact_joined_by(*, contact: Contact, user: User) -> bool:
    """Whether ``user`` has joined this conversation (listening alone is not joining)."""
    return contact.events.filter(type=ContactEvent.Type.JOINED, actor=user).exists()


def contact_join(*, contact: Contact, user: User) -> Contact:
    """A supervisor conferences into a live conversation: citizen and agent read one
    "… has joined" line. Joining again (a reconnecting page) changes nothing; the database
    holds one join per supervisor and contact."""
    with transaction.atomic():
        contact = row_locked(contact)
        if contact_joined_by(contact=contact, user=user):
            return contact
        if contact.state not in OPEN_CONTACT_STATES:
            raise RoutingError(_("The conversation is over."))
        try:
            with transaction.atomic():
                ContactEvent.objects.create(
                    contact=contact, type=ContactEvent.Type.JOINED, actor=user
                )
        except IntegrityError:
            return contact  # joined a moment ago from another socket
        system_line_create(
            contact,
            gettext_noop("Supervisor %(name)s has joined the chat."),
            name=user.display_name,
        )
    return contact


def contact_whisper(*, contact: Contact, user: User, text: str, client_id: str = "") -> Message:
    """A supervisor's note to the agent: stored as an internal message, so it never reaches
    the citizen's socket, resume or transcript; the console shows it as a whisper."""
    if contact.state not in (*OPEN_CONTACT_STATES, Contact.State.WRAPUP):
        raise RoutingError(_("The conversation is over."))
    return message_create(
        contact=contact,
        sender=Message.Sender.SUPERVISOR,
        sender_user=user,
        text=text,
        client_id=client_id,
        internal=True,
    )


# --- queue positions ----------------------------------------------------------------------
def agents_logged_in_for(queue: Queue, language: str) -> int:
    """Agents logged in (not offline) who could serve this queue and language."""
    required = {skill.code for skill in queue.required_skills.all()}  # prefetched or read
    if language in LANGUAGE_SKILLS:
        required.add(LANGUAGE_SKILLS[language])
    agents = Agent.objects.signed_in()
    for code in required:
        agents = agents.filter(skills__code=code)
    return agents.distinct().count()


def average_handle_seconds(queue: Queue) -> float:
    since = timezone.now() - timedelta(hours=2)
    recent = Contact.objects.filter(
        queue=queue, wrapup_ended_at__gte=since, answered_at__isnull=False
    ).values_list("answered_at", "wrapup_ended_at")[:200]
    spans = [(end - start).total_seconds() for start, end in recent]
    return sum(spans) / len(spans) if spans else DEFAULT_HANDLE_SECONDS


# The (position, wait) announced while nobody who could answer is logged in.
NO_AGENTS_ANNOUNCED = (0, 0)


def _seconds_per_place(queue: Queue, servers: int | None = None) -> float:
    """The estimated wait for each place ahead: the average handle time over the agents who
    could serve the queue (two chats at a time each). ``servers``: the Korean-speaking
    agents logged in for it, when the caller has counted them already."""
    servers = max(1, agents_logged_in_for(queue, "ko") if servers is None else servers)
    capacity_per_agent = 1 if set(queue.channels) <= REALTIME_CHANNELS else 2
    return average_handle_seconds(queue) / (servers * capacity_per_agent)


# What queue_positions loads of each waiting contact: what the announcements read.
POSITION_FIELDS = ("id", "channel", "queue_id", "language", "announced_position", "announced_eta")


def queue_positions(queue: Queue) -> list[tuple[Contact, int, int]]:
    """Each waiting contact of ``queue`` with its position and estimated wait (seconds):
    citizens who need assistance first, then by the time they joined. The contacts carry
    only what announcing needs (POSITION_FIELDS): the router tick lists every queue each
    second, and whole rows with their citizens cost 60 ms per 500 waiting."""
    waiting = list(
        Contact.objects.waiting()
        .filter(queue=queue, queued_at__isnull=False)
        .only(*POSITION_FIELDS)
        .order_by(F("citizen__needs_assistance").desc(nulls_last=True), "queued_at", "id")
    )
    if not waiting:
        return []
    per_place = _seconds_per_place(queue)
    return [
        (contact, position, round(position * per_place))
        for position, contact in enumerate(waiting, start=1)
    ]


def queue_position(contact: Contact, *, servers: int | None = None) -> tuple[int, int] | None:
    """One waiting contact's (position, estimated wait) in its queue, by counting who is ahead
    (the order of queue_positions) instead of listing the whole queue; None when not waiting.
    ``servers``: as for _seconds_per_place."""
    if contact.queue_id is None or contact.queued_at is None:
        return None
    waiting = Contact.objects.waiting().filter(queue_id=contact.queue_id, queued_at__isnull=False)
    if not waiting.filter(pk=contact.pk).exists():
        return None
    earlier = Q(queued_at__lt=contact.queued_at) | Q(queued_at=contact.queued_at, pk__lt=contact.pk)
    assisted = Q(citizen__needs_assistance=True)
    ahead = waiting.filter(
        (assisted & earlier)
        if contact.citizen_id and contact.citizen.needs_assistance
        else (assisted | earlier)
    ).exclude(pk=contact.pk)
    position = ahead.count() + 1
    return position, round(position * _seconds_per_place(contact.queue, servers))


def _announcement_claim(contact: Contact, position: int, eta: int, *, first: bool = True) -> bool:
    """True for the one caller (in any process) that announces this change to the citizen:
    the last announcement is kept on the contact and moved with one conditional UPDATE.

    ``first=False`` (the router tick): only a change to a place already told. The first
    place is told by whoever puts the citizen before the queue: the enqueue, or the chat
    page's hello once its socket is open; a tick in between would tell it twice."""
    if (contact.announced_position, contact.announced_eta) == (position, eta):
        return False
    if not first and contact.announced_position is None:
        return False
    claim = Contact.objects.filter(pk=contact.pk)
    if not first:
        claim = claim.filter(announced_position__isnull=False)
    return bool(
        claim.exclude(announced_position=position, announced_eta=eta).update(
            announced_position=position, announced_eta=eta
        )
    )


def queue_positions_publish(
    *, queue_ids: list[int] | None = None, contact_ids: set[int] | None = None, first: bool = False
) -> None:
    """Tell every waiting citizen (of ``contact_ids`` when given) where they stand, or that
    no agent can serve them; each change once (see _announcement_claim, and ``first``)."""
    queues = Queue.objects.filter(is_active=True)
    if queue_ids is not None:
        queues = queues.filter(pk__in=[q for q in queue_ids if q])
    for queue in queues.prefetch_related("required_skills"):
        servers: dict[str, int] = {}
        if contact_ids is None:
            places = queue_positions(queue)
        else:  # a few contacts: count who is ahead of each, do not list the queue
            contacts = Contact.objects.filter(pk__in=contact_ids, queue=queue)
            places = [
                (contact, *place)
                for contact in contacts.select_related("citizen", "queue")
                if (place := queue_position(contact)) is not None
            ]
        for contact, position, eta in places:
            if contact.channel == Channel.VOICE:
                continue  # a caller hears the place from the wait music (the wait URL)
            if contact.language not in servers:
                servers[contact.language] = agents_logged_in_for(queue, contact.language)
            if servers[contact.language] == 0:
                _announce_no_agents(contact)
            elif _announcement_claim(contact, position, eta, first=first):
                notify.publish_queue_position(contact, position=position, eta_seconds=eta)


def citizen_queue_status(contact: Contact) -> tuple[int | None, int | None, bool]:
    """(position, estimated wait, no agent logged in) for a citizen's page that just opened
    its socket. What it tells is recorded as announced, so the router tick does not send the
    same again and does send the next change."""
    if contact.state != Contact.State.WAITING or not contact.queue_id:
        return None, None, False
    servers = agents_logged_in_for(contact.queue, contact.language)
    if servers == 0:
        _no_agents_claim(contact)
        return None, None, True  # a place in a queue nobody serves would mislead
    place = queue_position(contact, servers=servers if contact.language == "ko" else None)
    if place is None:
        return None, None, False
    _announcement_claim(contact, *place)
    return *place, False


def _announce_no_agents(contact: Contact) -> None:
    """No agent with the skill is logged in: offer a call-back (recorded once per contact).

    The position is withheld meanwhile; once an agent is back it is sent again.
    """
    if _no_agents_claim(contact):
        notify.publish_no_agents(contact)


def _no_agents_claim(contact: Contact) -> bool:
    """Record (once) that this citizen is told nobody can answer; True for the one caller
    that tells it."""
    if not _announcement_claim(contact, *NO_AGENTS_ANNOUNCED):
        return False
    if not contact.events.filter(type=ContactEvent.Type.NO_AGENTS).exists():
        ContactEvent.objects.create(contact=contact, type=ContactEvent.Type.NO_AGENTS)
    return True


def queue_counts_publish(waiting: dict[int, int] | None = None) -> None:
    """Tell the consoles how many wait in each queue, when that changed (compared with what
    any process last told them). ``waiting``: waiting_by_queue(), when the caller has it."""
    counts = dict.fromkeys(Queue.objects.filter(is_active=True).values_list("pk", flat=True), 0)
    counts.update(waiting_by_queue() if waiting is None else waiting)
    told = {str(queue): n for queue, n in counts.items()}  # JSON keys are strings
    if job_state_swap("router", "queue_counts", told) != told:
        notify.publish_queue_counts(counts)


def router_housekeeping() -> None:
    """What only needs doing every few seconds: forget dead processes' sockets, sign out
    agents whose console has been closed, drop abandoned chats, end overdue wrap-ups (their
    limits are tens of seconds or more)."""
    sockets_forget_stale()
    agents_sign_out_closed_consoles()
    chats_abandon_gone()
    wrapups_expire()


def router_tick(*, housekeeping: bool = True) -> None:
    """One beat of the router loop: expire offers, offer, announce positions and counts; and,
    with ``housekeeping`` (every ROUTER_HOUSEKEEPING_SECONDS in the loop), router_housekeeping.

    With nobody waiting a beat costs a few queries: the beat runs beside live conversations
    in the same processes, and every query it makes delays their messages a little."""
    if housekeeping:
        router_housekeeping()
    offers_expire()
    waiting = waiting_by_queue()
    if waiting:
        router_dispatch()
        queue_positions_publish(queue_ids=list(waiting))
    queue_counts_publish(waiting)
