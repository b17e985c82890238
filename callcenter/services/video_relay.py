"""The voice relay of a sign-language video call: the agent signs with the citizen over
video and speaks with a voice party (a city department's officer) by phone, interpreting.

The phone side is a Twilio conference named after the video contact (``contact-<id>``),
as for a phone call, but no caller's TwiML starts it: its parties do. The agent's softphone
(Twilio Client ``agent-<id>``) starts it when it answers and ends it when it leaves; the
relay party (``CallLeg.Role.RELAY``) is dialled from the city's caller id and waits with
the hold message until the agent is there. Both are ``participant_add`` voice commands
through the outbox (``callcenter.services.voice``), so the simulated backend keeps the
exact requests. Ending the relay hangs up both parties' calls by their CallSid, which
needs no conference SID (a conference whose agent never answered never started).

The video contact stays a video contact: the conference's callbacks move its relay legs
only (``relay_conference_event``, ``relay_party_left``), never its state or wrap-up. The
dialled number is never shown in full: the console and the timeline read it masked, and
the citizen sees nothing of the relay (the line in the conversation is an internal note).
"""

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.models import Agent, CallLeg, Channel, Contact, ContactEvent, Message, VoiceCall
from callcenter.privacy import mask_phone
from callcenter.services import voice
from callcenter.services.locking import row_locked
from callcenter.services.messages import message_create
from tickets.models import Department

Role = CallLeg.Role
RELAY_ROLES = (Role.RELAY, Role.AGENT)
KOREA = 82


class RelayError(Exception):
    """The relay cannot start or end now (the contact is not in conversation, a relay is
    already live); the message is shown to the agent."""


class RelayInvalid(ValueError):
    """A number or department the relay cannot dial."""


def relay_available() -> bool:
    """Whether a voice backend dials out for video relays (the simulated backend keeps the
    requests: it counts)."""
    return settings.VIDEO_RELAY and settings.VOICE_BACKEND in ("simulated", "twilio")


def relay_number(number: str) -> str:
    """``number`` as E.164, when it is a valid Korean number (national, ``02-…``, or
    ``+82…``); RelayInvalid otherwise. Only Korean numbers: the city's line does not dial
    abroad on an agent's typing."""
    try:
        parsed = phonenumbers.parse(number.strip(), "KR")
    except phonenumbers.NumberParseException as error:
        raise RelayInvalid(_("Enter a Korean phone number, e.g. 02-120-1234.")) from error
    if parsed.country_code != KOREA or not phonenumbers.is_valid_number(parsed):
        raise RelayInvalid(_("Enter a Korean phone number, e.g. 02-120-1234."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def masked_number(e164: str) -> str:
    """The national form with its middle digits hidden: '02-1**-1234'."""
    national = phonenumbers.format_number(
        phonenumbers.parse(e164, "KR"), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    return mask_phone(national)


def relay_targets() -> list[dict]:
    """The departments the console offers: active, with a dialable phone (masked)."""
    targets = []
    for department in Department.objects.filter(is_active=True).exclude(phone=""):
        try:
            number = relay_number(department.phone)
        except RelayInvalid:
            continue
        targets.append(
            {"id": department.pk, "name": department.name, "phone": masked_number(number)}
        )
    return targets


def _note(contact: Contact, text: str) -> None:
    """A line in the conversation for staff only (the citizen never sees the relay)."""
    message_create(contact=contact, sender=Message.Sender.SYSTEM, text=text, internal=True)


def _live_relay(contact: Contact) -> CallLeg | None:
    return voice.live_leg(contact, Role.RELAY)


def _relay_event(contact: Contact) -> ContactEvent | None:
    """The event that started the contact's latest relay (its department, masked number)."""
    return (
        contact.events.filter(type=ContactEvent.Type.CONFERENCED, data__role="relay")
        .exclude(data__has_key="ended")
        .order_by("-id")
        .first()
    )


def _who(data: dict) -> str:
    return data.get("department") or data.get("number") or ""


def video_relay_start(
    *, contact: Contact, agent: Agent, department: Department | None = None, number: str = ""
) -> Contact:
    """Dial a voice party into the video call: ``department``'s phone, else ``number``.

    The agent's softphone and the party join the conference ``contact-<id>``; the agent's
    leaving ends it (the party with it). PermissionError unless it is the agent's video
    call; RelayError unless it is in conversation with no relay live; RelayInvalid for a
    number that cannot be dialled."""
    if department is not None:
        if not department.phone:
            raise RelayInvalid(_("%(name)s has no phone number.") % {"name": department.name})
        number = department.phone
    if not number:
        raise RelayInvalid(_("Choose a department or enter a number."))
    e164 = relay_number(number)
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.channel != Channel.VIDEO:
            raise RelayError(_("Only a video call has a voice relay."))
        if contact.agent_id != agent.pk:
            raise PermissionError(_("This video call is not yours."))
        if contact.state != Contact.State.ACTIVE:
            raise RelayError(_("The video call is not in conversation."))
        if _live_relay(contact) is not None:
            raise RelayError(_("A voice relay is already on the line."))
        call, created = VoiceCall.objects.get_or_create(contact=contact)
        mine = voice.live_leg(contact, Role.AGENT, agent=agent)
        if not created and mine is None and call.conference_sid:
            # The last relay's conference is over; this one will have a SID of its own.
            call.conference_sid = ""
            call.save(update_fields=["conference_sid"])
        status_callback = voice.public_url("twilio-voice-conference-status")
        if mine is None:
            mine = voice.agent_leg_add(
                contact,
                agent,
                conference={
                    "start_conference_on_enter": True,
                    "end_conference_on_exit": True,
                    "status_callback": status_callback,
                },
            )
        leg = voice.leg_add(
            contact,
            role=Role.RELAY,
            to=e164,
            conference={
                "start_conference_on_enter": False,
                "end_conference_on_exit": False,
                "status_callback": status_callback,
                "wait_url": voice.public_url("twilio-voice-hold-music", contact=contact.pk),
            },
        )
        data = {
            "role": "relay",
            "department": department.name if department else None,
            "department_id": department.pk if department else None,
            "number": masked_number(e164),
            "leg": leg.pk,
            "agent_leg": mine.pk,
        }
        ContactEvent.objects.create(
            contact=contact,
            type=ContactEvent.Type.CONFERENCED,
            agent=agent,
            actor=agent.user,
            data=data,
        )
        with translation.override(settings.LANGUAGE_CODE):
            _note(contact, _("Voice relay: calling %(who)s") % {"who": _who(data)})
        voice.publish_call(contact)
    return contact


def _relay_close(contact: Contact, *, by: str, agent: Agent | None = None) -> bool:
    """Every relay party still on the line hangs up (REST, by CallSid); False when none was."""
    legs = list(
        CallLeg.objects.filter(
            contact=contact, role__in=RELAY_ROLES, state__in=voice.LIVE_LEG_STATES
        )
    )
    if not legs:
        return False
    now = timezone.now()
    for leg in legs:
        CallLeg.objects.filter(pk=leg.pk).update(state=CallLeg.State.LEFT, left_at=now)
        voice.command(
            contact, "hang_up", {"leg": leg.pk}, key=f"voice:{contact.pk}:leg:{leg.pk}:hang-up"
        )
    started = _relay_event(contact)
    data = started.data if started else {}
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.CONFERENCED,
        agent=agent or (contact.agent if contact.agent_id else None),
        actor=agent.user if agent else None,
        data={"role": "relay", "ended": True, "by": by, "leg": data.get("leg")},
    )
    with translation.override(settings.LANGUAGE_CODE):
        _note(contact, _("Voice relay ended: %(who)s") % {"who": _who(data)})
    return True


def video_relay_end(*, contact: Contact, agent: Agent) -> Contact:
    """The agent ends the relay: the voice party and the agent's softphone hang up (the
    video call goes on). Ending a relay that is over changes nothing."""
    with transaction.atomic():
        contact = row_locked(contact)
        if contact.channel != Channel.VIDEO:
            raise RelayError(_("Only a video call has a voice relay."))
        if contact.agent_id != agent.pk:
            raise PermissionError(_("This video call is not yours."))
        if _relay_close(contact, by="agent", agent=agent):
            voice.publish_call(contact)
    return contact


def relay_contact_ended(contact: Contact) -> None:
    """The video contact has ended (``routing.contact_end``): a live relay ends with it."""
    if _relay_close(contact, by="contact_end"):
        voice.publish_call(contact)


# --- What Twilio tells about a relay's conference and parties ---------------------------------
def _video_contact_of(conference_name: str) -> Contact | None:
    prefix, _sep, contact_id = conference_name.rpartition("-")
    if prefix != "contact" or not contact_id.isdigit():
        return None
    return Contact.objects.filter(pk=int(contact_id), channel=Channel.VIDEO).first()


def relay_conference_event(
    *, conference_name: str, conference_sid: str, event: str, call_sid: str = "", label: str = ""
) -> bool:
    """Twilio's conference status callback, when the conference is a video call's relay
    (False otherwise: the phone call services take it). ``conference-start`` tells its SID,
    ``conference-end`` forgets it (a later relay starts a new one), a party's join or leave
    moves its leg; a relay party that leaves ends the relay. The video contact itself is
    never touched: it goes on without its relay."""
    contact = _video_contact_of(conference_name)
    if contact is None:
        return False
    with transaction.atomic():
        contact = row_locked(contact)  # the contact first, as the relay's start locks it
        call = VoiceCall.objects.select_for_update().filter(contact=contact).first()
        if call is None:
            return True
        if event == "conference-start" and conference_sid and not call.conference_sid:
            call.conference_sid = conference_sid
            call.save(update_fields=["conference_sid"])
        elif event == "conference-end" and call.conference_sid == conference_sid:
            call.conference_sid = ""
            call.save(update_fields=["conference_sid"])
        leg = voice.conference_party_event(contact, event=event, call_sid=call_sid, label=label)
        if leg is None:
            return True
        if leg.role == Role.RELAY and leg.state == CallLeg.State.LEFT:
            _relay_close(contact, by="party")
        voice.publish_call(contact)
    return True


def relay_party_left(leg: CallLeg) -> None:
    """After a party's status callback (``calls.call_party_status`` moved its leg): when a
    video call's relay party has left (hung up, busy, no answer, failed), the agent's
    softphone leaves too and the relay is over."""
    if leg.role != Role.RELAY or leg.state != CallLeg.State.LEFT:
        return
    with transaction.atomic():
        contact = (
            Contact.objects.select_for_update().filter(pk=leg.contact_id, channel=Channel.VIDEO)
        ).first()
        if contact is not None and _relay_close(contact, by="party"):
            voice.publish_call(contact)


def relay_state(contact: Contact) -> dict:
    """The contact's latest relay as the console shows it: who (department, masked number),
    its state (the relay party's: dialling, joined, left; "none" before any) and its legs."""
    started = _relay_event(contact)
    if started is None:
        return {"state": "none", "legs": [], "department": None, "number": "", "simulated": False}
    data = started.data
    legs = CallLeg.objects.filter(pk__in=[data.get("leg"), data.get("agent_leg")])
    by_id = {leg.pk: leg for leg in legs}
    relay = by_id.get(data.get("leg"))
    return {
        "state": relay.state if relay else CallLeg.State.LEFT,
        "department": (
            {"id": data.get("department_id"), "name": data["department"]}
            if data.get("department")
            else None
        ),
        "number": data.get("number", ""),
        "started_at": started.created_at.isoformat(),
        "simulated": settings.VOICE_BACKEND == "simulated",
        "legs": [
            {
                "id": leg.pk,
                "role": leg.role,
                "state": leg.state,
                "agent_id": leg.agent_id,
                "number": data.get("number", "") if leg.role == Role.RELAY else "",
            }
            for leg in sorted(by_id.values(), key=lambda leg: leg.pk)
        ],
    }
