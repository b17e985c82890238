"""What a supervisor does from the wallboard: change an agent's state, move a waiting contact
to another queue, take over a conversation.

Each action checks the state it changes under the row's lock, leaves a history row
(an AgentPresenceEvent with the supervisor as ``changed_by`` plus an admin log entry; a
ContactEvent with the supervisor as actor) and tells the consoles and wallboards after commit;
the agent's console names the supervisor who changed their state or took their conversation.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from callcenter.models import (
    REALTIME_CHANNELS,
    Agent,
    CallLeg,
    Channel,
    Contact,
    ContactEvent,
    Offer,
    Presence,
    Queue,
    Skill,
    User,
)
from callcenter.roles import AGENT, user_roles
from callcenter.services import notify, voice
from callcenter.services.locking import row_locked, rows_skip_locked
from callcenter.services.offers import offer_close
from callcenter.services.presence import (
    agent_load,
    agent_set_presence,
    presence_follow_load,
    presence_for_own_call,
)
from callcenter.services.routing import contact_enqueue, system_line_create
from channels_app import events

# What a supervisor may put an agent in. Busy and wrap-up follow the agent's load and
# "not responding" is the router's verdict: none is anyone's choice.
SUPERVISOR_PRESENCES = (Presence.AVAILABLE, Presence.BREAK, Presence.OFFLINE)


class SupervisionError(Exception):
    """A supervisor's action that cannot happen now; the message is shown to them."""


# --- agents' state ----------------------------------------------------------------------
def agent_presence_set_by_supervisor(
    *, agent: Agent, presence: str, reason: str = "", supervisor: User
) -> Agent:
    """Put an agent on a break, back to available, or sign them out.

    Refused: a state only the system sets; a break without a reason; a break or signing out
    while the agent holds contacts (the citizens would wait on nobody: take them over or let
    the agent finish first); available while the agent's console is closed (nobody would
    answer the offers)."""
    if presence not in SUPERVISOR_PRESENCES:
        raise SupervisionError(_("A supervisor can set available, break or offline only."))
    reason = reason.strip()
    if presence == Presence.BREAK and not reason:
        raise SupervisionError(_("A break needs a reason."))
    with transaction.atomic():
        agent = row_locked(agent)
        if presence in (Presence.BREAK, Presence.OFFLINE):
            held = agent_load(agent).total
            if held:
                raise SupervisionError(
                    _(
                        "%(name)s holds %(count)s contact(s): take them over or let them "
                        "finish first."
                    )
                    % {"name": agent.display_name, "count": held}
                )
        if (
            presence == Presence.AVAILABLE
            and not Agent.objects.filter(pk=agent.pk).with_open_console().exists()
        ):
            raise SupervisionError(
                _("%(name)s's console is not open: nobody would answer.")
                % {"name": agent.display_name}
            )
        previous = agent.presence
        agent_set_presence(agent=agent, presence=presence, reason=reason, changed_by=supervisor)
        if presence == Presence.AVAILABLE:
            presence_follow_load(agent)  # busy or wrap-up at once if their hands are full
        LogEntry.objects.log_actions(
            user_id=supervisor.pk,
            queryset=[agent],
            action_flag=CHANGE,
            change_message=_("Presence %(old)s → %(new)s set by a supervisor. %(reason)s")
            % {
                "old": Presence(previous).label,
                "new": Presence(presence).label,
                "reason": reason,
            },
            single_object=True,
        )
    return agent


# --- waiting contacts ---------------------------------------------------------------------
def contact_move_to_queue(*, contact: Contact, queue: Queue, supervisor: User) -> Contact:
    """Move a contact still waiting to another queue: a pending offer is withdrawn, the
    contact keeps its place in time (its wait counts from when it first queued) and the
    router offers it from the new queue."""
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.state != Contact.State.WAITING or contact.queued_at is None:
            raise SupervisionError(_("Only a waiting contact can be moved to another queue."))
        if not queue.is_active:
            raise SupervisionError(_("%(queue)s is closed.") % {"queue": queue.name})
        if contact.queue_id == queue.pk:
            raise SupervisionError(
                _("The contact already waits in %(queue)s.") % {"queue": queue.name}
            )
        if contact.channel not in queue.channels:
            raise SupervisionError(
                _("%(queue)s does not take %(channel)s.")
                % {"queue": queue.name, "channel": contact.get_channel_display()}
            )
        now = timezone.now()
        for offer in rows_skip_locked(contact.offers.filter(state=Offer.State.PENDING)):
            offer_close(offer, Offer.State.CANCELLED, now, reason="moved")
        if contact.offers.filter(state=Offer.State.PENDING).exists():
            # An agent is accepting it this instant (their transaction holds the offer).
            raise SupervisionError(_("An agent is answering this contact right now."))
        from_queue = contact.queue
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.TRANSFERRED,
            actor=supervisor,
            data={
                "from_queue": from_queue.code if from_queue else None,
                "to_queue": queue.code,
                "by": "supervisor",
            },
        )
        if contact.channel != Channel.VOICE:  # a caller hears the wait music's place
            system_line_create(
                contact,
                gettext_noop("Connecting you to the %(queue)s queue. Please wait a moment."),
                queue=queue.name,
            )
        contact_enqueue(contact=contact, queue=queue)
        events.wallboard_nudge_after_commit()  # a waiting call's move tells nobody else
    return contact


# --- taking over --------------------------------------------------------------------------
def supervisor_agent(supervisor: User) -> Agent:
    """The agent profile a supervisor answers citizens with; SupervisionError without one
    (or without the agent role, whose console is where the conversation goes)."""
    agent = Agent.objects.filter(user=supervisor).first()
    if agent is None or AGENT not in user_roles(supervisor):
        raise SupervisionError(
            _(
                "You need an agent profile and the agent role to take over a conversation: "
                "ask an administrator."
            )
        )
    return agent


def contact_take_over(*, contact: Contact, supervisor: User) -> Contact:
    """The supervisor becomes the agent of a conversation in progress; the former agent's
    console drops it (told who took it over) and the citizen reads who took over."""
    taker = supervisor_agent(supervisor)
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.state != Contact.State.ACTIVE or contact.agent_id is None:
            raise SupervisionError(_("Only a conversation in progress can be taken over."))
        if contact.agent_id == taker.pk:
            raise SupervisionError(_("This conversation is already yours."))
        taker = row_locked(taker)
        if contact.channel in REALTIME_CHANNELS and agent_load(taker).realtime:
            raise SupervisionError(_("You are on another call."))
        if (
            contact.channel == Channel.VIDEO
            and not taker.skills.filter(kind=Skill.Kind.SIGN_LANGUAGE).exists()
        ):
            raise SupervisionError(_("A video call is signed: it needs a signing colleague."))
        former = contact.agent
        contact.agent = taker
        contact.save(update_fields=["agent"])
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.TRANSFERRED,
            agent=taker,
            actor=supervisor,
            data={"from_agent": former.pk, "to_agent": taker.pk, "by": "supervisor"},
        )
        if contact.channel == Channel.VOICE:
            former_leg = voice.live_leg(contact, CallLeg.Role.AGENT, agent=former)
            voice.agent_leg_add(contact, taker)
            if former_leg is not None:
                voice.leg_remove(former_leg)
            voice.publish_call(contact)
        elif contact.channel == Channel.VIDEO:
            events.send_after_commit(
                [events.video_group(contact.pk, "agent")],
                {"type": "video.reassigned", "agent_user_id": taker.user_id},
            )
        system_line_create(
            contact,
            gettext_noop("Supervisor %(name)s has taken over the chat."),
            name=taker.display_name,
        )
        notify.publish_contact_removed(
            contact, reason="taken_over", agent_id=former.pk, by_name=taker.display_name
        )
        notify.publish_contact_assigned(contact)
        notify.publish_chat_state(contact)
        presence_follow_load(former)
        presence_for_own_call(taker)
    return contact
