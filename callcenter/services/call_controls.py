"""An agent's controls of a call in conversation, and the call-backs dialled from the console.

Each control checks who asks (the call's own agent) and the call's state on the locked
contact, records what changed (hold time, transfer and conference events), and queues the
REST commands through ``callcenter.services.voice`` (sent after commit, in order per call).
The inbound side (the IVR, the queue, Twilio's callbacks) is ``callcenter.services.calls``.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    Agent,
    CallbackRequest,
    CallLeg,
    Channel,
    Contact,
    ContactEvent,
    Presence,
    Queue,
    VoiceCall,
)
from callcenter.services import notify, voice
from callcenter.services.calls import CallError
from callcenter.services.locking import row_locked
from callcenter.services.presence import (
    presence_for_own_call,
)
from callcenter.services.routing import (
    RoutingError,
    callback_call_withdraw,
    contact_end,
    contact_transfer_to_agent,
    contact_transfer_to_queue,
)

Role = CallLeg.Role


def _my_call(contact: Contact, agent: Agent) -> tuple[Contact, CallLeg, CallLeg]:
    """``contact`` locked, with its caller and the agent's own leg; CallError unless it is
    the agent's call in conversation."""
    contact = row_locked(contact)
    if contact.channel != Channel.VOICE or contact.agent_id != agent.pk:
        raise CallError(_("This call is not yours."))
    if contact.state != Contact.State.ACTIVE:
        raise CallError(_("The call is not in conversation."))
    caller = voice.live_leg(contact, Role.CALLER)
    mine = voice.live_leg(contact, Role.AGENT, agent=agent)
    if caller is None or mine is None or mine.state != CallLeg.State.JOINED:
        raise CallError(_("The call is not connected yet."))
    return contact, caller, mine


def call_hold(*, contact: Contact, agent: Agent, hold: bool) -> Contact:
    """Put the caller on hold (they hear hold music) or take them off it; hold time counts
    towards the contact's handle time. Asking for the state it is in changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        contact, caller, _mine = _my_call(contact, agent)
        if caller.on_hold == hold:
            return contact
        _caller_hold(contact, caller, hold, agent, now)
        voice.publish_call(contact)
    return contact


def _caller_hold(contact: Contact, caller: CallLeg, hold: bool, agent: Agent, now) -> None:
    caller.on_hold = hold
    caller.save(update_fields=["on_hold"])
    call = voice.voice_call(contact)
    if hold:
        call.hold_started_at = now
        call.save(update_fields=["hold_started_at"])
    else:
        voice.hold_close(contact, now)
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.HELD if hold else ContactEvent.Type.RESUMED,
        agent=agent,
        actor=agent.user,
    )
    voice.leg_update(caller, hold=hold)


def call_mute(*, contact: Contact, agent: Agent, muted: bool) -> Contact:
    """Mute the agent's own microphone in the conference (the caller hears nothing)."""
    with transaction.atomic():
        contact, _caller, mine = _my_call(contact, agent)
        if mine.muted == muted:
            return contact
        mine.muted = muted
        mine.save(update_fields=["muted"])
        voice.leg_update(mine, muted=muted)
        voice.publish_call(contact)
    return contact


def _routing(action, **kwargs):
    try:
        return action(**kwargs)
    except RoutingError as error:
        raise CallError(str(error)) from error


def call_transfer_to_agent(
    *, contact: Contact, agent: Agent, to_agent: Agent, note: str = ""
) -> Contact:
    """Blind transfer: the colleague's softphone is dialled in and the agent leaves."""
    with transaction.atomic():
        contact, _caller, mine = _my_call(contact, agent)
        _routing(
            contact_transfer_to_agent,
            contact=contact,
            from_agent=agent,
            to_agent=to_agent,
            note=note,
        )
        voice.agent_leg_add(contact, to_agent)
        voice.leg_remove(mine)
        voice.publish_call(contact)
    return contact


def call_transfer_to_queue(
    *, contact: Contact, agent: Agent, queue: Queue, note: str = ""
) -> Contact:
    """Blind transfer to a queue: the caller goes back to waiting (in that queue, with its
    wait music) as a new leg of the same call, and the agent leaves for wrap-up."""
    with transaction.atomic():
        contact, caller, mine = _my_call(contact, agent)
        voice.hold_close(contact, timezone.now())
        leg = _routing(
            contact_transfer_to_queue, contact=contact, from_agent=agent, queue=queue, note=note
        )
        call = voice.voice_call(contact)
        VoiceCall.objects.create(
            contact=leg, call_sid=call.call_sid, ivr_path=[*call.ivr_path, f"transfer:{queue.code}"]
        )
        CallLeg.objects.create(
            contact=leg,
            role=Role.CALLER,
            call_sid=caller.call_sid,
            state=CallLeg.State.JOINED,
            joined_at=timezone.now(),
        )
        voice.call_redirect(
            leg,
            voice.public_url("twilio-voice-requeue", contact=leg.pk),
            key=f"voice:{leg.pk}:requeue",
        )
        CallLeg.objects.filter(contact=contact).exclude(state=CallLeg.State.LEFT).update(
            state=CallLeg.State.LEFT, left_at=timezone.now(), on_hold=False
        )
        voice.command(
            contact,
            "participant_remove",
            {"leg": mine.pk},
            key=f"voice:{contact.pk}:leg:{mine.pk}:remove",
        )
        voice.publish_call(contact)
    return leg


def call_consult(*, contact: Contact, agent: Agent, to_agent: Agent) -> Contact:
    """Warm transfer, first step: the caller waits on hold while the colleague's softphone
    is dialled into the conference to hear what the call is about."""
    now = timezone.now()
    with transaction.atomic():
        contact, caller, _mine = _my_call(contact, agent)
        target = row_locked(to_agent)
        if target.pk == agent.pk:
            raise CallError(_("Choose another agent."))
        if target.presence != Presence.AVAILABLE:
            raise CallError(
                _("%(name)s cannot take a contact now.") % {"name": target.display_name}
            )
        if voice.live_leg(contact, Role.CONSULT) is not None:
            raise CallError(_("A colleague is already on the line."))
        if not caller.on_hold:
            _caller_hold(contact, caller, True, agent, now)
        voice.agent_leg_add(contact, target, role=Role.CONSULT)
        voice.publish_call(contact)
    return contact


def call_consult_complete(*, contact: Contact, agent: Agent, note: str = "") -> Contact:
    """Warm transfer, second step: the colleague takes the call, the caller comes off
    hold to them, and the agent leaves."""
    now = timezone.now()
    with transaction.atomic():
        contact, caller, mine = _my_call(contact, agent)
        consult = voice.live_leg(contact, Role.CONSULT)
        if consult is None:
            raise CallError(_("No colleague is on the line."))
        _routing(
            contact_transfer_to_agent,
            contact=contact,
            from_agent=agent,
            to_agent=consult.agent,
            note=note,
        )
        consult.role = Role.AGENT
        consult.save(update_fields=["role"])
        if caller.on_hold:
            _caller_hold(contact, caller, False, agent, now)
        voice.leg_remove(mine)
        voice.publish_call(contact)
    return contact


def call_consult_cancel(*, contact: Contact, agent: Agent) -> Contact:
    """Warm transfer called off: the colleague leaves and the caller comes back."""
    now = timezone.now()
    with transaction.atomic():
        contact, caller, _mine = _my_call(contact, agent)
        consult = voice.live_leg(contact, Role.CONSULT)
        if consult is not None:
            voice.leg_remove(consult)
        if caller.on_hold:
            _caller_hold(contact, caller, False, agent, now)
        voice.publish_call(contact)
    return contact


def interpreter_line(language: str) -> str | None:
    return settings.VOICE_INTERPRETER_LINES.get(language)


def call_interpreter_add(*, contact: Contact, agent: Agent, language: str = "") -> Contact:
    """Three-way call: the interpreter line for the caller's language joins the conference."""
    with transaction.atomic():
        contact, _caller, _mine = _my_call(contact, agent)
        language = language or contact.language
        number = interpreter_line(language)
        if not number:
            raise CallError(_("No interpreter line is set for this language."))
        if voice.live_leg(contact, Role.INTERPRETER) is not None:
            raise CallError(_("An interpreter is already on the call."))
        leg = voice.leg_add(contact, role=Role.INTERPRETER, to=number, language=language)
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.CONFERENCED,
            agent=agent,
            actor=agent.user,
            data={"role": "interpreter", "language": language, "leg": leg.pk},
        )
        voice.publish_call(contact)
    return contact


def call_interpreter_remove(*, contact: Contact, agent: Agent) -> Contact:
    with transaction.atomic():
        contact, _caller, _mine = _my_call(contact, agent)
        leg = voice.live_leg(contact, Role.INTERPRETER)
        if leg is not None:
            voice.leg_remove(leg)
            voice.publish_call(contact)
    return contact


def call_hang_up(*, contact: Contact, agent: Agent) -> Contact:
    """The agent ends the call: Twilio hangs up the caller, the contact goes to wrap-up."""
    with transaction.atomic():
        contact, _caller, _mine = _my_call(contact, agent)
        return contact_end(contact=contact, by="agent", actor=agent.user)


def callback_dial(*, callback: CallbackRequest, agent: Agent) -> Contact:
    """Call a citizen back from the agent's softphone with the city's caller id: a new
    outbound phone contact, answered by this agent, whose conference the citizen joins
    when they pick up."""
    with transaction.atomic():
        callback = row_locked(callback)
        if callback.status != CallbackRequest.Status.TAKEN or callback.assigned_to_id != agent.pk:
            raise CallError(_("Take the call-back before calling."))
        busy = Contact.objects.filter(
            agent=agent,
            channel__in=(Channel.VOICE, Channel.VIDEO),
            answered_at__isnull=False,
            ended_at__isnull=True,
        )
        if busy.exists():
            raise CallError(_("Finish your current call first."))
        callback_call_withdraw(callback)  # the router no longer offers it
        now = timezone.now()
        contact = Contact.objects.create(
            channel=Channel.VOICE,
            direction=Contact.Direction.OUTBOUND,
            citizen=callback.citizen,
            queue=callback.queue,
            agent=agent,
            answered_at=now,
        )
        VoiceCall.objects.create(contact=contact, ivr_path=[f"callback:{callback.pk}"])
        CallLeg.objects.create(contact=contact, role=Role.CALLER)
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.ACCEPTED,
            agent=agent,
            actor=agent.user,
            data={"callback": callback.pk},
        )
        voice.call_back_dial(contact, agent, phone=str(callback.phone))
        presence_for_own_call(agent)
        notify.publish_contact_assigned(contact)
        voice.publish_call(contact)
    return contact
