"""Signalling for a sign-language video call: ``/ws/video/<room>/``.

Two parties only. The citizen proves the call's chat session token (the second WebSocket
subprotocol, ``["open120.video", token]``, kept out of URLs and logs); the agent their login
and the contact being theirs and live. Anyone else (another agent, a supervisor, another
citizen's token) is refused with close code 4403.

Frames (JSON, the base consumer's size and nesting limits, and a per-socket rate limit):

- relayed to the other party, after validation: ``offer`` (agent only) and ``answer``
  (citizen only) with ``sdp``, ``ice`` with ``candidate`` ({candidate, sdpMid,
  sdpMLineIndex, usernameFragment} or null for the end of candidates), ``restart.request``
  (the citizen asks the agent's browser, the offerer, for an ICE restart). Each may carry
  ``gen``, the agent's peer-connection generation, so stale candidates are dropped.
- kept: ``status`` (``connected`` / ``restarting`` / ``failed`` / ``disconnected``,
  ``gave_up``) on the Contact's timeline; ``hangup`` ends the contact.
- sent: ``hello`` (role, ICE servers, limits), ``peer.joined`` / ``peer.present`` /
  ``peer.left``, the relayed frames, ``call.ended``, ``error``.

The server never sees media: it relays descriptions and candidates, nothing else.
"""

import re
import time

from django.conf import settings

from callcenter.models import OPEN_CONTACT_STATES
from callcenter.services import video as video_service
from channels_app.consumers.base import Open120Consumer, db_call, integer
from channels_app.events import video_group

SUBPROTOCOL = "open120.video"
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_ROOM = 4404
CLOSE_ENDED = 4409

# RFC 8866: "v=0" first, then <type>=<value> lines (CRLF, LF tolerated).
SDP_LINE = re.compile(r"[a-z]=[^\r\n]*")
# RFC 8839 candidate-attribute, as browsers send it ("candidate:" prefix, then at least
# foundation, component, transport, priority, address, port, "typ", type).
CANDIDATE = re.compile(
    r"candidate:[A-Za-z0-9+/]{1,32} \d{1,3} (?:udp|tcp|UDP|TCP) \d{1,10} "
    r"[A-Za-z0-9.:\-]{1,255} \d{1,5} typ (?:host|srflx|prflx|relay)(?: [\x21-\x7e ]*)?"
)
MAX_CANDIDATE_CHARS = 1024
MAX_MID_CHARS = 64
MAX_UFRAG_CHARS = 256
MAX_GENERATION = 2**31


def sdp_problem(sdp: object) -> str | None:
    """Why an SDP is refused, or None."""
    if not isinstance(sdp, str) or not sdp:
        return "sdp must be a non-empty string."
    if len(sdp.encode()) > settings.VIDEO_MAX_SDP_BYTES:
        return f"An SDP is limited to {settings.VIDEO_MAX_SDP_BYTES} bytes."
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    if lines[0] != "v=0":
        return 'An SDP starts with "v=0".'
    if not all(SDP_LINE.fullmatch(line) for line in lines):
        return "An SDP is made of <type>=<value> lines."
    if not any(line.startswith("m=") for line in lines):
        return "An SDP describes at least one media section."
    return None


def candidate_problem(candidate: object) -> str | None:
    """Why an ICE candidate (RTCIceCandidateInit) is refused, or None. null, and an empty
    ``candidate`` string, mean the end of candidates."""
    if candidate is None:
        return None
    if not isinstance(candidate, dict):
        return "candidate must be an object or null."
    unknown = set(candidate) - {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
    if unknown:
        return f"Unknown candidate fields: {', '.join(sorted(unknown))}."
    line = candidate.get("candidate", "")
    if not isinstance(line, str) or len(line) > MAX_CANDIDATE_CHARS:
        return "candidate.candidate must be a string of at most 1024 characters."
    if line and not CANDIDATE.fullmatch(line):
        return "candidate.candidate is not an ICE candidate line."
    mid = candidate.get("sdpMid")
    if mid is not None and (not isinstance(mid, str) or len(mid) > MAX_MID_CHARS):
        return "candidate.sdpMid must be a short string or null."
    index = candidate.get("sdpMLineIndex")
    if index is not None and (
        not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64
    ):
        return "candidate.sdpMLineIndex must be an integer from 0 to 63 or null."
    if mid is None and index is None and line:
        return "candidate needs sdpMid or sdpMLineIndex."
    ufrag = candidate.get("usernameFragment")
    if ufrag is not None and (not isinstance(ufrag, str) or len(ufrag) > MAX_UFRAG_CHARS):
        return "candidate.usernameFragment must be a short string or null."
    return None


class TokenBucket:
    """``rate`` frames a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class VideoSignalConsumer(Open120Consumer):
    async def connect(self) -> None:
        self.role: str | None = None
        self.contact_id: int | None = None
        offered = self.scope.get("subprotocols", [])
        by_protocol = len(offered) == 2 and offered[0] == SUBPROTOCOL
        accept = {"subprotocol": SUBPROTOCOL} if by_protocol else {}
        room = self.scope["url_route"]["kwargs"].get("room", "")
        video = await db_call(video_service.video_for_room)(room)
        if video is None:
            await self._refuse(
                accept, "unknown_room", "This video call does not exist.", CLOSE_UNKNOWN_ROOM
            )
            return
        role = await db_call(video_service.party_of)(
            video, user=self.scope.get("user"), token=offered[1] if by_protocol else ""
        )
        if role is None:
            await self._refuse(
                accept, "forbidden", "Only the two parties of a call may join it.", CLOSE_FORBIDDEN
            )
            return
        if video.contact.state not in OPEN_CONTACT_STATES:
            await self._refuse(accept, "call_ended", "This video call has ended.", CLOSE_ENDED)
            return
        self.role, self.contact_id = role, video.contact_id
        self.bucket = TokenBucket(
            settings.VIDEO_SIGNAL_RATE_PER_SECOND, settings.VIDEO_SIGNAL_BURST
        )
        self.candidates = 0
        await self.channel_layer.group_add(video_group(self.contact_id, role), self.channel_name)
        await self.accept(**accept)
        servers = await db_call(video_service.ice_servers)()
        await self.send_json(
            {
                "type": "hello",
                "role": role,
                "contact_id": self.contact_id,
                "state": video.contact.state,
                "ice_servers": servers,
                "recording_consent": video.recording_consent,
                "loopback_only": settings.VIDEO_LOOPBACK_ONLY,
                "recovery_seconds": settings.VIDEO_RECOVERY_SECONDS,
            }
        )
        await self._to_peer({"type": "peer.joined", "role": role}, kind="video.peer")

    async def _refuse(self, accept: dict, code: str, message: str, close_code: int) -> None:
        """Accept, say why, close with a code the page understands (it stops reconnecting)."""
        await self.accept(**accept)
        await self.send_error(code, message)
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _leave(self) -> None:
        """Out of the room, and the other party told (once, however the socket closes)."""
        if self.role is None or getattr(self, "left", False):
            return
        self.left = True
        await self.channel_layer.group_discard(
            video_group(self.contact_id, self.role), self.channel_name
        )
        await self._to_peer({"type": "peer.left", "role": self.role}, kind="video.peer")

    async def _to_peer(self, frame: dict, *, kind: str = "video.signal") -> None:
        other = video_service.other(self.role)
        await self.channel_layer.group_send(
            video_group(self.contact_id, other),
            {"type": kind, "frame": frame, "sender": self.channel_name},
        )

    # --- frames from this party ------------------------------------------------------------
    def frame_handlers(self) -> dict:
        return {
            **super().frame_handlers(),
            "offer": self.on_description,
            "answer": self.on_description,
            "ice": self.on_ice,
            "restart.request": self.on_restart_request,
            "status": self.on_status,
            "hangup": self.on_hangup,
        }

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.role is None or getattr(self, "left", False):
            return
        if not self.bucket.take():
            await self.send_error(
                "rate_limited",
                f"At most {settings.VIDEO_SIGNAL_RATE_PER_SECOND} frames a second; "
                "this one was dropped.",
            )
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)

    def _generation(self, content: dict) -> tuple[int | None, bool]:
        """(gen, ok): ``gen`` is optional, a whole number when given."""
        if "gen" not in content:
            return None, True
        gen = integer(content, "gen")
        return gen, gen is not None and 0 <= gen < MAX_GENERATION

    async def on_description(self, content: dict) -> None:
        kind = content["type"]
        expected = "offer" if self.role == video_service.AGENT else "answer"
        if kind != expected:
            await self.send_error("wrong_role", f"The {self.role} sends {expected}s, not {kind}s.")
            return
        problem = sdp_problem(content.get("sdp"))
        gen, ok = self._generation(content)
        if problem is None and not ok:
            problem = "gen must be a whole number."
        if problem is not None:
            await self.send_error("invalid_sdp", problem)
            return
        if kind == "offer":
            self.candidates = 0  # a new negotiation (or ICE restart) gathers anew
        frame = {"type": kind, "sdp": content["sdp"]}
        if gen is not None:
            frame["gen"] = gen
        await self._to_peer(frame)

    async def on_ice(self, content: dict) -> None:
        if "candidate" not in content:
            await self.send_error("invalid_candidate", "ice needs candidate (or null).")
            return
        problem = candidate_problem(content["candidate"])
        gen, ok = self._generation(content)
        if problem is None and not ok:
            problem = "gen must be a whole number."
        if problem is not None:
            await self.send_error("invalid_candidate", problem)
            return
        self.candidates += 1
        if self.candidates > settings.VIDEO_MAX_CANDIDATES:
            await self.send_error(
                "too_many_candidates",
                f"At most {settings.VIDEO_MAX_CANDIDATES} candidates per negotiation.",
            )
            return
        frame = {"type": "ice", "candidate": content["candidate"]}
        if gen is not None:
            frame["gen"] = gen
        await self._to_peer(frame)

    async def on_restart_request(self, content: dict) -> None:
        if self.role != video_service.CITIZEN:
            await self.send_error("wrong_role", "The agent restarts ICE with a new offer.")
            return
        self.candidates = 0
        await self._to_peer({"type": "restart.request"})

    async def on_status(self, content: dict) -> None:
        state = content.get("state")
        if state not in video_service.STATUSES:
            await self.send_error(
                "invalid_frame", f"state is one of {', '.join(video_service.STATUSES)}."
            )
            return
        gave_up = content.get("gave_up") is True
        await db_call(video_service.video_status)(
            contact_id=self.contact_id, role=self.role, status=state, gave_up=gave_up
        )

    async def on_hangup(self, content: dict) -> None:
        user = self.scope.get("user") if self.role == video_service.AGENT else None
        await db_call(video_service.video_hang_up)(
            contact_id=self.contact_id, role=self.role, user=user
        )
        # The end reaches both parties through their groups (chat.ended), after the commit.

    # --- events from the channel layer ------------------------------------------------------
    async def video_signal(self, event: dict) -> None:
        await self.send_json(event["frame"])

    async def video_peer(self, event: dict) -> None:
        frame = event["frame"]
        await self.send_json(frame)
        if frame["type"] == "peer.joined":
            # Tell the newcomer we are here (it joined after us).
            await self._to_peer({"type": "peer.present", "role": self.role}, kind="video.peer")

    async def video_reassigned(self, event: dict) -> None:
        """The call went to a colleague: this agent's socket leaves the room."""
        user = self.scope.get("user")
        if self.role == video_service.AGENT and getattr(user, "pk", None) != event["agent_user_id"]:
            await self.send_error("forbidden", "The call was handed to a colleague.")
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)

    async def chat_ended(self, event: dict) -> None:
        await self.send_json({"type": "call.ended", "by": event.get("by", "")})
        await self.close(code=CLOSE_ENDED)
