"""Sign-language video calls: starting one, who may signal in its room, ICE servers, and
what the browsers report about the peer-to-peer connection.

A video call is a web chat whose contact is on the ``video`` channel (language ``ksl``): the
citizen's page holds the chat socket (queue place, the side chat, the end, the survey) and
the signalling socket (``channels_app.consumers.video``); the agent's console the same
contact tab as any chat, with the video panel. Media goes browser to browser (or through
TURN): the server only relays offers, answers and candidates, and records how it went.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    OPEN_CONTACT_STATES,
    Agent,
    Channel,
    ChatSession,
    Contact,
    ContactEvent,
    Queue,
    User,
    VideoCall,
)
from callcenter.services import conversations
from callcenter.services.locking import row_locked
from callcenter.services.routing import agents_logged_in_for, contact_end
from channels_app import events
from channels_app.events import video_group  # noqa: F401 - the signalling groups' names

logger = logging.getLogger(__name__)

CITIZEN = "citizen"
AGENT = "agent"
ROLES = (CITIZEN, AGENT)
SIGN_LANGUAGE = "ksl"


class VideoError(Exception):
    """Something a video call cannot do now; the message is shown to the citizen."""


def other(role: str) -> str:
    return AGENT if role == CITIZEN else CITIZEN


# --- where and when --------------------------------------------------------------------------
def video_queue() -> Queue | None:
    """The sign-language video queue: the active queue taking the video channel (highest
    priority first)."""
    return next(
        (q for q in Queue.objects.filter(is_active=True) if Channel.VIDEO in q.channels), None
    )


@dataclass
class Availability:
    """Whether a video call can be answered now, for the page to say so before it starts."""

    queue: Queue | None
    open_now: bool  # inside the queue's opening hours (always, without a calendar)
    signing_agents: int  # logged in (any presence but offline) with the sign-language skill

    @property
    def available(self) -> bool:
        return self.queue is not None and self.open_now and self.signing_agents > 0

    @property
    def reason(self) -> str:
        """ "" when available, else "no_queue", "closed" or "no_agents"."""
        if self.queue is None:
            return "no_queue"
        if not self.open_now:
            return "closed"
        return "" if self.signing_agents else "no_agents"


def video_availability(at: datetime | None = None) -> Availability:
    queue = video_queue()
    if queue is None:
        return Availability(None, False, 0)
    at = at or timezone.now()
    open_now = queue.calendar is None or queue.calendar.working_time().is_open(at)
    return Availability(queue, open_now, agents_logged_in_for(queue, SIGN_LANGUAGE))


# --- starting ----------------------------------------------------------------------------------
def video_start(
    *, name: str, phone: str, language: str, recording_consent: bool = False
) -> tuple[ChatSession, str, VideoCall]:
    """Queue a video call: the citizen, the contact (channel video, language ksl) with its
    chat session, and its room. The session token is returned once, as for a chat.

    VideoError when nobody could answer now (no queue, closed, no signing agent logged in):
    the page offers a text chat or a call-back instead of a wait that cannot end."""
    availability = video_availability()
    if not availability.available:
        raise VideoError(unavailable_message(availability.reason))
    return video_queue_join(
        name=name,
        phone=phone,
        language=language,
        queue=availability.queue,
        recording_consent=recording_consent,
    )


def video_queue_join(
    *, name: str, phone: str, language: str, queue: Queue, recording_consent: bool = False
) -> tuple[ChatSession, str, VideoCall]:
    """The citizen, the queued video contact with its chat session, and its room (no
    availability check: a call-back link's citizen may wait for their busy agent)."""
    with transaction.atomic():
        session, token = conversations.chat_start(
            name=name,
            phone=phone,
            language=language,
            queue=queue,
            channel=Channel.VIDEO,
            contact_language=SIGN_LANGUAGE,
        )
        video = video_call_create(
            contact_id=session.contact_id, recording_consent=recording_consent
        )
    return session, token, video


def video_call_create(*, contact_id: int, recording_consent: bool = False) -> VideoCall:
    """A video contact's call: a new signalling room; recording only where the city records
    (``VIDEO_RECORDING``) and the citizen agreed."""
    return VideoCall.objects.create(
        contact_id=contact_id,
        room=secrets.token_urlsafe(24),
        recording_consent=bool(recording_consent and settings.VIDEO_RECORDING),
    )


def unavailable_message(reason: str) -> str:
    if reason == "closed":
        return _("Sign-language video calls are closed now.")
    if reason == "no_agents":
        return _("No sign-language agent is on duty right now.")
    return _("Sign-language video calls are not offered.")


# --- who is in the room --------------------------------------------------------------------------
def video_for_room(room: str) -> VideoCall | None:
    if not room or len(room) > 64:
        return None
    return (
        VideoCall.objects.select_related("contact", "contact__agent", "contact__agent__user")
        .filter(room=room)
        .first()
    )


def party_of(video: VideoCall, *, user: User | None = None, token: str = "") -> str | None:
    """``"citizen"`` for the holder of the call's chat session token, ``"agent"`` for the
    logged-in agent the contact is assigned to while it is open; None for anyone else (other
    agents, supervisors, other citizens: media is between the two parties only)."""
    contact = video.contact
    if token:
        session = conversations.session_for_token(token)
        if session is not None and session.contact_id == contact.pk:
            return CITIZEN
        return None
    if (
        user is not None
        and user.is_authenticated
        and contact.agent_id
        and contact.agent.user_id == user.pk
        and contact.state == Contact.State.ACTIVE
    ):
        return AGENT
    return None


def agent_video_for(*, contact_id: int, user: User) -> VideoCall | None:
    """The video call of a contact, for the agent it is assigned to (None for anyone else)."""
    video = (
        VideoCall.objects.select_related("contact", "contact__agent")
        .filter(contact_id=contact_id)
        .first()
    )
    if video is None or video.contact.agent_id is None or video.contact.agent.user_id != user.pk:
        return None
    return video


# --- ICE servers ----------------------------------------------------------------------------------
def ice_servers() -> list[dict]:
    """RTCPeerConnection's iceServers: the configured ones, plus (``VIDEO_TURN=twilio``) a
    short-lived TURN credential from Twilio Network Traversal. Twilio out of reach leaves
    the configured servers: a call on one network still connects by host candidates."""
    servers = [dict(server) for server in settings.VIDEO_ICE_SERVERS]
    if settings.VIDEO_TURN == "twilio":
        try:
            servers.extend(twilio_ice_servers())
        except Exception:  # noqa: BLE001 - any failure of Twilio's API or the network
            logger.warning("Twilio Network Traversal token failed", exc_info=True)
    return servers


def twilio_ice_servers() -> list[dict]:
    """``POST /2010-04-01/Accounts/<sid>/Tokens.json`` (Ttl) through the voice backend's
    client; Twilio answers ``ice_servers`` as [{url, urls, username?, credential?}]."""
    from callcenter.services.voice_backend import voice_client

    token = voice_client().tokens.create(ttl=settings.VIDEO_TURN_TTL_SECONDS)
    servers = []
    for server in token.ice_servers or []:
        urls = server.get("urls") or server.get("url")
        if not urls:
            continue
        entry = {"urls": urls}
        if server.get("username"):
            entry["username"] = server["username"]
            entry["credential"] = server.get("credential", "")
        servers.append(entry)
    return servers


# --- what the browsers report -------------------------------------------------------------------
CONNECTED = "connected"
RESTARTING = "restarting"
FAILED = "failed"
DISCONNECTED = "disconnected"
STATUSES = (CONNECTED, RESTARTING, FAILED, DISCONNECTED)


def video_status(*, contact_id: int, role: str, status: str, gave_up: bool = False) -> VideoCall:
    """Record a party's report of its peer connection:

    - ``connected``: both parties connected makes the call connected (the first time: the
      setup time from the agent's accept; after a failure or restart: recovered).
    - ``restarting``: the agent's browser (the offerer) restarts ICE (counted once, there).
    - ``failed``: ICE failed on that side; ``gave_up`` once the browser stops trying.
    - ``disconnected``: no longer connected; the browsers try to recover.
    """
    if role not in ROLES or status not in STATUSES:
        raise ValueError(f"Unknown report {role}/{status}.")
    now = timezone.now()
    with transaction.atomic():
        video = row_locked(VideoCall.objects.get(pk=contact_id))
        contact = Contact.objects.get(pk=contact_id)
        if contact.state not in OPEN_CONTACT_STATES:
            return video
        fields: list[str] = []
        event = None
        if status == CONNECTED:
            side = f"{role}_connected_at"
            was_connected = video.citizen_connected_at and video.agent_connected_at
            setattr(video, side, now)
            fields.append(side)
            if not was_connected and video.citizen_connected_at and video.agent_connected_at:
                recovered = video.connected_at is not None
                if video.connected_at is None:
                    video.connected_at = now
                    if contact.answered_at:
                        video.setup_ms = int((now - contact.answered_at).total_seconds() * 1000)
                    fields += ["connected_at", "setup_ms"]
                video.outcome = VideoCall.Outcome.CONNECTED
                fields.append("outcome")
                event = (
                    ContactEvent.Type.VIDEO_CONNECTED,
                    {"recovered": recovered, "setup_ms": video.setup_ms},
                )
        else:
            side = f"{role}_connected_at"
            if getattr(video, side) is not None:
                setattr(video, side, None)
                fields.append(side)
            if status == RESTARTING and role == AGENT:
                video.ice_restarts = F("ice_restarts") + 1
                fields.append("ice_restarts")
                event = (ContactEvent.Type.VIDEO_RESTARTED, {"by": role})
            elif status == FAILED:
                video.ice_failures = F("ice_failures") + 1
                fields.append("ice_failures")
                if gave_up and video.connected_at is None:
                    video.outcome = VideoCall.Outcome.FAILED
                    fields.append("outcome")
                event = (ContactEvent.Type.VIDEO_FAILED, {"by": role, "gave_up": gave_up})
        if fields:
            video.save(update_fields=fields)
            video.refresh_from_db()
        if event is not None:
            ContactEvent.objects.create(
                contact=contact, type=event[0], agent_id=contact.agent_id, data=event[1]
            )
    if event is not None and event[0] == ContactEvent.Type.VIDEO_CONNECTED:
        events.send_after_commit(
            [events.SUPERVISORS_GROUP],
            {"type": "video.connected", "contact_id": contact_id, "at": now.isoformat()},
        )
    return video


def video_hang_up(*, contact_id: int, role: str, user: User | None = None) -> Contact:
    """A party hangs up: the contact ends (a waiting citizen abandons), the agent wraps up."""
    with transaction.atomic():
        video = row_locked(VideoCall.objects.get(pk=contact_id))
        contact = Contact.objects.select_related("agent").get(pk=contact_id)
        if contact.state in OPEN_CONTACT_STATES and not video.ended_by:
            video.ended_by = role
            video.save(update_fields=["ended_by"])
        return contact_end(contact=contact, by=role, actor=user if role == AGENT else None)


def video_summary(video: VideoCall) -> dict:
    """The call as the console and the timeline show it."""
    return {
        "contact_id": video.contact_id,
        "room": video.room,
        "ws_url": f"/ws/video/{video.room}/",
        "recording_consent": video.recording_consent,
        "connected_at": video.connected_at.isoformat() if video.connected_at else None,
        "setup_ms": video.setup_ms,
        "ice_restarts": video.ice_restarts,
        "ice_failures": video.ice_failures,
        "outcome": video.outcome,
        "ended_by": video.ended_by,
    }


def agent_is_signing(agent: Agent) -> bool:
    return agent.skills.filter(kind="sign_language").exists()
