"""A live call's parties and the commands that change them.

A call an agent answers is a Twilio *conference* named after its contact
(``contact-<id>``): the caller's call is redirected out of the ``<Enqueue>`` into it, and
the agent's softphone (Twilio Client ``agent-<id>``) is added as a participant. Hold,
mute, transfers and the interpreter's three-way call are changes to that conference's
participants (Twilio's Participant resource), so each is one REST command queued in the
outbox (``callcenter.services.outbox``, channel ``voice``): written in the transaction
that decides it, sent after commit, in order per call.

Each party is a :class:`~callcenter.models.CallLeg`; its CallSid comes from the command
that dialled it (or from Twilio's conference callback), and the commands that name a
party by its leg wait for it.

This module knows the conference, not the routing: ``callcenter.services.calls`` decides
who takes a call and calls these.
"""

import itertools
import json
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from callcenter.models import Agent, CallLeg, Contact, VoiceCall
from callcenter.services import notify
from callcenter.services.outbox import outbox_enqueue
from channels_app.models import OutboundMessage

Role = CallLeg.Role
LIVE_LEG_STATES = (CallLeg.State.DIALLING, CallLeg.State.JOINED)


def public_url(name: str, **query) -> str:
    """An absolute URL of ours that Twilio will call (signed against PUBLIC_BASE_URL)."""
    url = settings.PUBLIC_BASE_URL + reverse(name)
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def client_identity(agent: Agent) -> str:
    """The Twilio Client identity of an agent's softphone (what the conference dials)."""
    return f"agent-{agent.pk}"


def voice_call(contact: Contact) -> VoiceCall:
    call, _created = VoiceCall.objects.get_or_create(
        contact=contact, defaults={"call_sid": contact.provider_id}
    )
    return call


def live_leg(contact: Contact, role: str, *, agent: Agent | None = None) -> CallLeg | None:
    legs = CallLeg.objects.filter(contact=contact, role=role, state__in=LIVE_LEG_STATES)
    if agent is not None:
        legs = legs.filter(agent=agent)
    return legs.order_by("-id").first()


_sequence = itertools.count()


def command(contact: Contact, action: str, params: dict, *, key: str = "") -> OutboundMessage:
    """Queue one REST command to ``contact``'s call (sent after commit, after the call's
    earlier commands). ``key`` makes a repeated request one command."""
    key = key or f"voice:{contact.pk}:{action}:{timezone.now().timestamp()}:{next(_sequence)}"
    target = params.get("call_sid") or params.get("to") or params.get("conference")
    return outbox_enqueue(
        channel=OutboundMessage.Channel.VOICE,
        to=target or f"leg {params.get('leg', '-')}",
        subject=action,
        body=json.dumps(params, ensure_ascii=False),
        idempotency_key=key,
        contact=contact,
    )


def leg_add(
    contact: Contact,
    *,
    role: str,
    to: str,
    agent: Agent | None = None,
    language: str = "",
    conference: dict | None = None,
) -> CallLeg:
    """Dial a party into the call's conference: an agent's softphone or an outside line.
    ``conference``: Twilio's conference parameters for a conference its parties start (a
    video call's relay): ``start_conference_on_enter``, ``end_conference_on_exit``,
    ``status_callback``, ``wait_url``."""
    leg = CallLeg.objects.create(contact=contact, role=role, agent=agent, language=language)
    params = {
        "conference": voice_call(contact).conference_name,
        "to": to,
        "from": settings.TWILIO_CALLER_ID,
        "label": f"{role}-{leg.pk}",
        "leg": leg.pk,
        "status_callback": public_url("twilio-voice-participant", leg=leg.pk),
    }
    if conference:
        params["conference_options"] = conference
    command(contact, "participant_add", params, key=f"voice:{contact.pk}:leg:{leg.pk}:add")
    return leg


def agent_leg_add(
    contact: Contact, agent: Agent, *, role: str = Role.AGENT, conference: dict | None = None
) -> CallLeg:
    return leg_add(
        contact,
        role=role,
        to=f"client:{client_identity(agent)}",
        agent=agent,
        conference=conference,
    )


def conference_leg_for(contact: Contact, *, call_sid: str, label: str) -> CallLeg | None:
    """The party a conference callback names: by CallSid, else by the label we gave it
    (``<role>-<leg id>``; a caller's is ``caller``)."""
    legs = CallLeg.objects.filter(contact=contact)
    if call_sid:
        leg = legs.filter(call_sid=call_sid).first()
        if leg is not None:
            return leg
    if label == "caller":
        return legs.filter(role=CallLeg.Role.CALLER).order_by("-id").first()
    _role, _sep, leg_id = label.rpartition("-")
    if leg_id.isdigit():
        return legs.filter(pk=int(leg_id)).first()
    return None


def conference_party_event(
    contact: Contact, *, event: str, call_sid: str, label: str
) -> CallLeg | None:
    """A ``participant-join``/``-leave`` callback moves the party's leg forward (a party that
    left never rejoins by a late join); the leg, or None for another event or no such leg.
    Called inside the caller's transaction, with the call's row locked."""
    if event not in ("participant-join", "participant-leave"):
        return None
    leg = conference_leg_for(contact, call_sid=call_sid, label=label)
    if leg is None:
        return None
    if call_sid and not leg.call_sid:
        leg.call_sid = call_sid
    now = timezone.now()
    if event == "participant-join" and leg.state == CallLeg.State.DIALLING:
        leg.state, leg.joined_at = CallLeg.State.JOINED, now
    elif event == "participant-leave" and leg.state != CallLeg.State.LEFT:
        leg.state, leg.left_at = CallLeg.State.LEFT, now
    leg.save()
    return leg


def leg_remove(leg: CallLeg) -> None:
    """Take a party out of the conference (their call ends); the leg is gone at once for
    the console, and Twilio's callback confirms it."""
    if leg.state == CallLeg.State.LEFT:
        return
    CallLeg.objects.filter(pk=leg.pk).update(state=CallLeg.State.LEFT, left_at=timezone.now())
    command(
        leg.contact,
        "participant_remove",
        {"leg": leg.pk},
        key=f"voice:{leg.contact_id}:leg:{leg.pk}:remove",
    )


def leg_update(leg: CallLeg, **change) -> None:
    """Hold (``hold=True/False``) or mute (``muted=…``) one party."""
    params: dict = {"leg": leg.pk, **change}
    if change.get("hold"):
        params["hold_url"] = public_url("twilio-voice-hold-music", contact=leg.contact_id)
    command(leg.contact, "participant_update", params)


def _caller(contact: Contact) -> dict:
    """The caller's call in a command's parameters: its leg, and its CallSid when known
    (a call-back's is known only once Twilio has placed it; the command then waits)."""
    leg = CallLeg.objects.filter(contact=contact, role=Role.CALLER).order_by("-id").first()
    if leg is None:
        raise ValueError(f"Contact {contact.pk} has no caller.")
    return {"leg": leg.pk, **({"call_sid": leg.call_sid} if leg.call_sid else {})}


def call_bridge(contact: Contact, agent: Agent) -> None:
    """The agent accepted the call: the caller leaves the queue for the call's conference,
    the agent's softphone is dialled into it, and the call is recorded (the greeting told
    the caller so)."""
    call_redirect(
        contact,
        public_url("twilio-voice-conference", contact=contact.pk),
        key=f"voice:{contact.pk}:bridge",
    )
    agent_leg_add(contact, agent)
    if settings.VOICE_RECORDING:
        recording_start(contact)


def recording_start(contact: Contact) -> None:
    command(
        contact,
        "record",
        {**_caller(contact), "status_callback": public_url("twilio-voice-recording")},
        key=f"voice:{contact.pk}:record",
    )


def call_hang_up(contact: Contact) -> None:
    """End the caller's call (and with it the conference)."""
    command(contact, "hang_up", _caller(contact), key=f"voice:{contact.pk}:hang-up")


def call_redirect(contact: Contact, url: str, *, key: str) -> None:
    command(contact, "redirect", {**_caller(contact), "url": url}, key=key)


def dial(contact: Contact, *, to: str) -> None:
    """Twilio dials ``to`` from the city's number; once answered the call joins the
    contact's conference."""
    command(
        contact,
        "dial",
        {
            "to": to,
            "from": settings.TWILIO_CALLER_ID,
            "url": public_url("twilio-voice-conference", contact=contact.pk),
            "status_callback": public_url("twilio-voice-status"),
            "call_of": contact.pk,
        },
        key=f"voice:{contact.pk}:dial",
    )


def call_back_dial(contact: Contact, agent: Agent, *, phone: str) -> None:
    """A call-back the agent has: Twilio dials the citizen from the city's number (the
    call joins the contact's conference when answered), the agent's softphone is dialled
    into it, and it is recorded."""
    dial(contact, to=phone)
    agent_leg_add(contact, agent)
    if settings.VOICE_RECORDING:
        recording_start(contact)


def hold_close(contact: Contact, now) -> None:
    """Add a hold that is still running to the contact's hold time."""
    call = VoiceCall.objects.filter(contact=contact).first()
    if call is None or call.hold_started_at is None:
        return
    contact.hold_seconds += max(0, round((now - call.hold_started_at).total_seconds()))
    contact.save(update_fields=["hold_seconds"])
    call.hold_started_at = None
    call.save(update_fields=["hold_started_at"])


def call_ended(contact: Contact, *, hang_up: bool) -> None:
    """The contact of a call has ended: the running hold is counted, every party has left,
    and, when our side ended it, Twilio hangs up the caller (which ends the conference)."""
    now = timezone.now()
    hold_close(contact, now)
    if hang_up and CallLeg.objects.filter(contact=contact, role=Role.CALLER).exists():
        call_hang_up(contact)
    CallLeg.objects.filter(contact=contact).exclude(state=CallLeg.State.LEFT).update(
        state=CallLeg.State.LEFT, left_at=now, on_hold=False
    )
    publish_call(contact)


def call_summary(contact: Contact) -> dict | None:
    """The call's live state for consoles and the supervisor's view."""
    call = VoiceCall.objects.filter(contact=contact).first()
    if call is None:
        return None
    legs = [
        {
            "id": leg.pk,
            "role": leg.role,
            "state": leg.state,
            "agent_id": leg.agent_id,
            "agent_name": leg.agent.display_name if leg.agent_id else None,
            "language": leg.language,
            "on_hold": leg.on_hold,
            "muted": leg.muted,
        }
        for leg in contact.call_legs.select_related("agent").exclude(state=CallLeg.State.LEFT)
    ]
    caller = next((leg for leg in legs if leg["role"] == Role.CALLER), None)
    return {
        "on_hold": bool(caller and caller["on_hold"]),
        "hold_started_at": call.hold_started_at.isoformat() if call.hold_started_at else None,
        "hold_seconds": contact.hold_seconds,
        "ivr_path": call.ivr_path,
        "recording": bool(call.recording_sid) and call.recording_deleted_at is None,
        "transcribed": call.transcribed,
        "voicemail": call.voicemail,
        # Who is calling, for a colleague dialled in before a warm transfer (no contact yet).
        "caller_phone": contact.citizen.masked_phone if contact.citizen_id else "",
        "legs": legs,
    }


# Agents whose leg left this recently still hear the call's updates (and so see it end).
LEFT_RECENTLY = timedelta(seconds=60)


def publish_call(contact: Contact) -> None:
    left = CallLeg.objects.filter(
        contact=contact,
        state=CallLeg.State.LEFT,
        agent__isnull=False,
        left_at__gte=timezone.now() - LEFT_RECENTLY,
    ).values_list("agent_id", flat=True)
    notify.publish_call_updated(contact, call_summary(contact), left=set(left))
