"""The REST side of a call: what the server asked Twilio to do, played as Twilio would.

With ``VOICE_BACKEND=simulated`` every call command (bridge, hold, add a party, hang up…) is
an outbox row holding the REST requests Twilio's library built. :class:`RestMixin` is part
of :class:`~channels_app.voice_simulator.SimulatedCall`: while the call lasts it reads its
call's rows once sent and acts on each request (a redirect out of the queue, a party
dialled in, hold, mute, removal, the recording, the hang-up), and the caller takes turns
talking, gives up waiting, or hangs up.
"""

import re
import time
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

from channels_app.models import OutboundMessage
from channels_app.voice_simulator.conference import Party

# Twilio's REST resources, by the path of the request.
CALL_PATH = re.compile(r"/Calls/(CA\w+)\.json$")
CALLS_PATH = re.compile(r"/Calls\.json$")
CALL_RECORDINGS_PATH = re.compile(r"/Calls/(CA\w+)/Recordings\.json$")
PARTICIPANTS_PATH = re.compile(r"/Conferences/([^/]+)/Participants\.json$")
PARTICIPANT_PATH = re.compile(r"/Conferences/([^/]+)/Participants/(CA\w+)\.json$")
RECORDING_PATH = re.compile(r"/Recordings/(RE\w+)\.json$")


def latest_voice_command() -> int:
    """The id of the newest call command (0: none yet)."""
    newest = OutboundMessage.objects.filter(channel=OutboundMessage.Channel.VOICE).order_by("-pk")
    return newest.values_list("pk", flat=True).first() or 0


class RestMixin:
    """The outbox's REST requests for this call, and the conversation loop (mixed into
    SimulatedCall)."""

    def _converse(self) -> None:
        """While the call lasts: play the REST commands sent for it, poll the wait music,
        take turns talking; the caller hangs up after talk_seconds (or wait_timeout)."""
        while self.state != "ended":
            self._commands()
            now = time.monotonic()
            if self.state == "queued" and self.queue is not None:
                if now - self.queue.entered >= self.wait_timeout:
                    self._step(f"{self.wait_timeout:g}초 기다리다 끊음")
                    self._queue_leave("hangup")
                    self._end("대기 중 시민이 끊음 (포기)", by="caller")
                if now - self.queue.last_wait >= self.wait_url_seconds:
                    self._wait_music()
            elif self.state == "conference":
                self._say_next_line()
                self._caller_gives_up(now)
            time.sleep(self.poll_seconds)

    def _caller_gives_up(self, now: float) -> None:
        if "agent_joined" not in self.marks:
            if self._elapsed() - self.marks.get("bridged", 0.0) >= self.wait_timeout:
                self._mark("hang_up")
                self._end("상담원이 회의에 들어오지 않아 시민이 끊음", by="caller")
            return
        talked = self._elapsed() - self.marks["agent_joined"]
        if self.talk_seconds is not None and talked >= self.talk_seconds:
            self._mark("hang_up")
            self._step(f"{self.talk_seconds:g}초 통화 후 시민이 끊음", phase="end")
            self._end("시민이 전화를 끊음", by="caller")

    def _commands(self) -> None:
        rows = (
            OutboundMessage.objects.filter(
                channel=OutboundMessage.Channel.VOICE,
                status=OutboundMessage.Status.SENT,
                contact__call__call_sid=self.call_sid,
            )
            .exclude(pk__in=self.seen)
            .order_by("pk")
        )
        for row in rows:
            self.seen.add(row.pk)
            for request in row.request or []:
                self._rest(request, row)  # a hang-up raises CallEnded

    def _rest(self, request: dict, row: OutboundMessage) -> None:
        method, data = request.get("method", "POST"), request.get("data") or {}
        path = urlsplit(request.get("url", "")).path
        if match := CALL_PATH.search(path):
            if match[1] != self.call_sid:
                return
            if data.get("Status") in ("completed", "canceled"):
                self._mark("hang_up")
                self._step("상담원 쪽에서 전화를 끊음 (REST Status=completed)", phase="end")
                self._end("상담원이 전화를 끊음", by="agent")
            elif data.get("Url"):
                self._redirected(data["Url"])
        elif CALL_RECORDINGS_PATH.search(path):
            self.recording = (
                row.provider_id,
                data.get("RecordingStatusCallback", ""),
                time.monotonic(),
            )
            self._step(f"통화 녹음 시작 ({row.provider_id})")
        elif match := PARTICIPANTS_PATH.search(path):
            self._participant_add(unquote(match[1]), data, row.provider_id)
        elif match := PARTICIPANT_PATH.search(path):
            if method == "DELETE":
                self._party_leaves(match[2], why="REST로 내보냄")
            else:
                self._participant_update(match[2], data)
        elif RECORDING_PATH.search(path) and method == "DELETE":
            self._step(f"녹음 삭제 요청 ({row.provider_id})")
        elif CALLS_PATH.search(path):
            self._step(f"다른 전화 걸기 요청 ({data.get('To', '')}): 이 통화와는 별개")

    def _redirected(self, url: str) -> None:
        """The server moved the call to new TwiML (out of the queue to its conference,
        or back to a queue)."""
        if self.state == "queued":
            self._mark("bridged")
            self.phase = "bridge"
            self._step(f"상담원이 수락: 대기열에서 {urlsplit(url).path}로 이동")
            self.queue = None
        elif self.state == "conference":
            self._conference_leave(why="다른 곳으로 이동")
            self.phase = "queue"
            self._step(f"회의에서 {urlsplit(url).path}로 이동")
        self.state = "ivr"
        self._follow(url, {})

    def _participant_add(self, conference: str, data: dict, call_sid: str) -> None:
        party = Party(
            label=data.get("Label", ""),
            status_callback=data.get("StatusCallback", ""),
            to=data.get("To", ""),
        )
        if self.conference is None:
            self.pending_parties.append((call_sid, party))
            return
        if conference not in (self.conference.name, self.conference.sid):
            return
        self._party_joins(call_sid, party)

    def _participant_update(self, call_sid: str, data: dict) -> None:
        party = self.parties.get(call_sid)
        if party is None:
            return
        if "Hold" in data:
            party.hold = data["Hold"] == "true"
            self._conference_event(
                "participant-hold" if party.hold else "participant-unhold", call_sid
            )
            self._step(f"{party.label} {'보류' if party.hold else '보류 해제'}")
            if party.hold and data.get("HoldUrl") and call_sid == self.call_sid:
                self._hold_music(data["HoldUrl"])
        if "Muted" in data:
            party.muted = data["Muted"] == "true"
            self._conference_event(
                "participant-mute" if party.muted else "participant-unmute", call_sid
            )
            self._step(f"{party.label} {'음소거' if party.muted else '음소거 해제'}")

    def _hold_music(self, url: str) -> None:
        response = self._post(url, self._call_params())
        if response is None or response.status_code != 200:
            return
        root = ET.fromstring(response.content)  # noqa: S314 - the server's own TwiML
        said = " ".join((say.text or "").strip() for say in root.iter("Say"))
        if said:
            self._step(f"보류 안내: {said}")
