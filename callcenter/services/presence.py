"""Agents' presence and the sockets that prove someone is there.

Presence is the agent's own choice (available, break, …) or the system's (busy and wrap-up
follow the load; offline when the console is gone). Every change is kept as history and
told to the consoles and wallboards after commit.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    REALTIME_CHANNELS,
    SYSTEM_ONLY_PRESENCES,
    Agent,
    AgentPresenceEvent,
    ChatSession,
    Contact,
    Offer,
    Presence,
    SocketConnection,
    User,
    socket_cutoff,
)
from callcenter.services import notify
from callcenter.services.locking import rows_skip_locked
from callcenter.services.offers import offer_close


def _dispatch_after_commit() -> None:
    """Ask the router to offer waiting contacts once this transaction commits."""
    # Local import: a change here may make a pair for the router, and the router moves
    # presences (busy, wrap-up, offline): the two call each other by nature.
    from callcenter.services.routing import router_dispatch_soon

    transaction.on_commit(router_dispatch_soon)


# Presences the system may move by itself; the others are the agent's own choice.
SYSTEM_PRESENCES = {Presence.AVAILABLE, Presence.BUSY, Presence.WRAPUP}


# --- presence -----------------------------------------------------------------------------
def agent_set_presence(
    *,
    agent: Agent,
    presence: str,
    reason: str = "",
    dispatch: bool = True,
    chosen_by_agent: bool = False,
    changed_by: User | None = None,
) -> Agent:
    """Move an agent to ``presence``, keep the change as history and tell the consoles.

    ``chosen_by_agent``: the agent picked it (console form or socket), so presences only the
    system sets are refused. ``changed_by``: the supervisor who chose it for the agent, kept
    on the history row and named to the agent's console; None for the agent's own choice and
    the system's.
    """
    if presence not in Presence.values:
        raise ValueError(f"Unknown presence {presence!r}.")
    if chosen_by_agent and presence in SYSTEM_ONLY_PRESENCES:
        raise ValueError(_("Only the system sets this presence."))
    if presence == Presence.BREAK and not reason.strip():
        raise ValueError(_("A break needs a reason."))
    now = timezone.now()
    with transaction.atomic():
        was_free = agent.presence == Presence.AVAILABLE
        agent.presence = presence
        agent.presence_reason = reason.strip()
        agent.presence_changed_at = now
        fields = ["presence", "presence_reason", "presence_changed_at"]
        if presence == Presence.AVAILABLE and not was_free:
            agent.idle_since = now
            fields.append("idle_since")
        agent.save(update_fields=fields)
        AgentPresenceEvent.objects.create(
            agent=agent,
            presence=presence,
            reason=agent.presence_reason,
            created_at=now,
            changed_by=changed_by,
        )
        notify.publish_presence_changed(agent, changed_by=changed_by)
        if presence != Presence.AVAILABLE:
            # Nobody should ring while on a break: withdraw a pending offer.
            for offer in rows_skip_locked(
                Offer.objects.filter(agent=agent, state=Offer.State.PENDING)
            ):
                offer_close(offer, Offer.State.CANCELLED, now, reason="presence")
        if dispatch:
            _dispatch_after_commit()
    return agent


@dataclass(frozen=True)
class Load:
    """What an agent holds now: contacts answered and not yet wrapped up."""

    realtime: int
    chats: int
    active: int

    @property
    def total(self) -> int:
        return self.realtime + self.chats


_LOAD_COUNTS = {
    "realtime": Count("id", filter=Q(channel__in=list(REALTIME_CHANNELS))),
    "chats": Count("id", filter=~Q(channel__in=list(REALTIME_CHANNELS))),
    "active": Count("id", filter=Q(ended_at__isnull=True)),
}


def _held() -> models.QuerySet:
    return Contact.objects.filter(answered_at__isnull=False, wrapup_ended_at__isnull=True)


def agent_load(agent: Agent) -> Load:
    return Load(**_held().filter(agent=agent).aggregate(**_LOAD_COUNTS))


def agent_loads(agent_ids: list[int]) -> dict[int, Load]:
    """``agent_load`` of several agents in one query (an agent holding nothing: all zero)."""
    loads = dict.fromkeys(agent_ids, Load(realtime=0, chats=0, active=0))
    rows = _held().filter(agent_id__in=agent_ids).values("agent_id").annotate(**_LOAD_COUNTS)
    for row in rows.order_by():
        agent_id = row.pop("agent_id")
        loads[agent_id] = Load(**row)
    return loads


def agent_has_capacity(agent: Agent, load: Load, contact: Contact) -> bool:
    if load.realtime:
        return False
    if contact.is_realtime:
        return load.total == 0
    return load.chats < agent.max_concurrent_chats


def presence_follow_load(agent: Agent) -> None:
    """Follow the agent's load: busy when full, wrap-up when only wrap-up remains."""
    agent.refresh_from_db(fields=["presence", "max_concurrent_chats"])
    if agent.presence not in SYSTEM_PRESENCES:
        return
    load = agent_load(agent)
    if load.realtime or load.chats >= agent.max_concurrent_chats:
        target = Presence.BUSY if load.active else Presence.WRAPUP
    else:
        target = Presence.AVAILABLE
    if target != agent.presence:
        agent_set_presence(agent=agent, presence=target, dispatch=False)


# --- sockets: who is really there ----------------------------------------------------------
def socket_open(
    *, channel_name: str, agent: Agent | None = None, session: ChatSession | None = None
) -> None:
    """A console (``agent``) or a citizen's chat (``session``) socket opened in a process."""
    now = timezone.now()
    with transaction.atomic():
        SocketConnection.objects.update_or_create(
            channel_name=channel_name,
            defaults={"agent": agent, "session": session, "opened_at": now, "seen_at": now},
        )
        _mark_seen(
            agent_ids=[agent.pk] if agent else [],
            session_ids=[session.pk] if session else [],
            now=now,
        )
        if session is not None or (agent is not None and agent.presence == Presence.AVAILABLE):
            # A citizen's page is there (a waiting chat may be offered now), or an available
            # agent's console is back (they may be offered again).
            _dispatch_after_commit()


def socket_close(*, channel_name: str) -> None:
    """The socket closed: forget it; its owner's grace period starts now."""
    now = timezone.now()
    with transaction.atomic():
        row = SocketConnection.objects.filter(channel_name=channel_name).first()
        if row is None:
            return
        row.delete()
        _mark_seen(
            agent_ids=[row.agent_id] if row.agent_id else [],
            session_ids=[row.session_id] if row.session_id else [],
            now=now,
        )


def sockets_heartbeat(*, sockets: dict[str, tuple[int | None, int | None]]) -> None:
    """Refresh the sockets a process holds open: ``{channel_name: (agent_id, session_id)}``.

    A row another process swept while this one stalled is written again."""
    if not sockets:
        return
    now = timezone.now()
    with transaction.atomic():
        known = set(
            SocketConnection.objects.filter(channel_name__in=list(sockets)).values_list(
                "channel_name", flat=True
            )
        )
        SocketConnection.objects.filter(channel_name__in=list(known)).update(seen_at=now)
        missing = {name: ids for name, ids in sockets.items() if name not in known}
        agents = set(
            Agent.objects.filter(pk__in=[a for a, _s in missing.values() if a]).values_list(
                "pk", flat=True
            )
        )
        sessions = set(
            ChatSession.objects.filter(pk__in=[s for _a, s in missing.values() if s]).values_list(
                "pk", flat=True
            )
        )
        SocketConnection.objects.bulk_create(
            [
                SocketConnection(
                    channel_name=name, agent_id=agent_id, session_id=session_id, seen_at=now
                )
                for name, (agent_id, session_id) in missing.items()
                if agent_id in agents or session_id in sessions  # not deleted meanwhile
            ],
            ignore_conflicts=True,
        )
        _mark_seen(
            agent_ids=[a for a, _s in sockets.values() if a],
            session_ids=[s for _a, s in sockets.values() if s],
            now=now,
        )


def _mark_seen(*, agent_ids: list[int], session_ids: list[int], now: datetime) -> None:
    if agent_ids:
        Agent.objects.filter(pk__in=agent_ids).update(console_seen_at=now)
    if session_ids:
        ChatSession.objects.filter(pk__in=session_ids).update(citizen_seen_at=now)


def sockets_forget_stale() -> int:
    """Forget sockets no process has refreshed within the grace period (a process died)."""
    deleted, _by_model = SocketConnection.objects.filter(seen_at__lt=socket_cutoff()).delete()
    return deleted


def presence_for_own_call(agent: Agent) -> None:
    """The agent started a conversation themselves (dialled a call-back; a citizen opened
    the video link they sent): their presence follows the load where the system set it,
    and is busy from a break or signed out (calling a citizen back is work)."""
    if agent.presence in SYSTEM_PRESENCES:
        presence_follow_load(agent)
    else:
        agent_set_presence(agent=agent, presence=Presence.BUSY, dispatch=False)
