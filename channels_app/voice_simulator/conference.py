"""The conference a call is bridged in, as Twilio runs it and reports it.

:class:`ConferenceMixin` is part of :class:`~channels_app.voice_simulator.SimulatedCall`: it
enters the ``<Dial><Conference>``, posts the conference events its ``statusCallbackEvent``
subscribes to, dials the parties in and out (with their status callbacks), and plays the
conversation as Twilio's real-time transcription reports it, one line at a time. It uses the
call's state and its ``_post``, ``_step`` and ``_mark``.
"""

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

from channels_app.voice_simulator.results import CONFIDENCE, new_sid, rfc2822_now

# The conference events a Conference's statusCallbackEvent subscribes to.
CONFERENCE_EVENTS = {
    "conference-start": "start",
    "conference-end": "end",
    "participant-join": "join",
    "participant-leave": "leave",
    "participant-hold": "hold",
    "participant-unhold": "hold",
    "participant-mute": "mute",
    "participant-unmute": "mute",
}


@dataclass
class Party:
    label: str
    status_callback: str = ""
    to: str = ""
    hold: bool = False
    muted: bool = False
    joined: float = field(default_factory=time.monotonic)


@dataclass
class Conference:
    name: str
    sid: str
    status_callback: str
    events: set[str]
    sequence: int = 0


@dataclass
class Transcription:
    url: str
    sid: str
    name: str
    language: str
    sequence: int = 0


class ConferenceMixin:
    """The conference, its parties and its transcription (mixed into SimulatedCall)."""

    def _conference_enter(self, element: ET.Element, url: str) -> None:
        callback = element.get("statusCallback")
        self.conference = Conference(
            name=(element.text or "").strip(),
            sid=new_sid("CF"),
            status_callback=urljoin(url, callback) if callback else "",
            events=set((element.get("statusCallbackEvent") or "").split()),
        )
        self.state = "conference"
        self.phase = "bridge"
        label = element.get("participantLabel") or "caller"
        self.parties = {self.call_sid: Party(label=label, to=self.caller)}
        self._step(f"회의 '{self.conference.name}' 참가 ({self.conference.sid})")
        self._conference_event("conference-start")
        self._conference_event("participant-join", self.call_sid)
        for sid, party in self.pending_parties:
            self._party_joins(sid, party)
        self.pending_parties = []

    def _conference_event(self, event: str, call_sid: str = "") -> None:
        conference = self.conference
        if conference is None or not conference.status_callback:
            return
        if CONFERENCE_EVENTS[event] not in conference.events:
            return
        conference.sequence += 1
        params = {
            "AccountSid": self.account_sid,
            "ConferenceSid": conference.sid,
            "FriendlyName": conference.name,
            "StatusCallbackEvent": event,
            "Timestamp": rfc2822_now(),
            "SequenceNumber": str(conference.sequence),
        }
        party = self.parties.get(call_sid)
        if party is not None:
            params.update(
                CallSid=call_sid,
                ParticipantLabel=party.label,
                Hold=str(party.hold).lower(),
                Muted=str(party.muted).lower(),
                Coaching="false",
                EndConferenceOnExit=str(call_sid == self.call_sid).lower(),
                StartConferenceOnEnter="true",
            )
        self._post(conference.status_callback, params)

    def _party_params(self, call_sid: str, party: Party, status: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": status,
            "Called": party.to,
            "Caller": self.line if self.direction == "inbound" else self.caller,
            "Direction": "outbound-api",
            "From": self.line if self.direction == "inbound" else self.caller,
            "To": party.to,
            "Timestamp": rfc2822_now(),
            "CallbackSource": "call-progress-events",
        }

    def _party_status(self, call_sid: str, party: Party, status: str, **extra: str) -> None:
        if party.status_callback:
            self._post(party.status_callback, self._party_params(call_sid, party, status) | extra)

    def _party_joins(self, call_sid: str, party: Party) -> None:
        for status in ("initiated", "ringing", "in-progress"):
            self._party_status(call_sid, party, status)
        self.parties[call_sid] = party
        self._conference_event("participant-join", call_sid)
        if party.to.startswith("client:"):
            self._step(f"상담원 참가 ({party.to}, {party.label})")
        else:
            self._step(f"외부 참가자 참가 ({party.to}, {party.label})")
        if party.label.startswith("agent"):
            self._mark("agent_joined")
            if self.phase == "bridge":
                self.phase = "talk"
                self.next_line_at = time.monotonic() + self.line_every_seconds / 2

    def _party_leaves(self, call_sid: str, *, why: str) -> None:
        party = self.parties.get(call_sid)
        if party is None:
            return
        seconds = str(round(time.monotonic() - party.joined))
        self._party_status(call_sid, party, "completed", CallDuration=seconds)
        self._conference_event("participant-leave", call_sid)  # names the party: before pop
        del self.parties[call_sid]
        self._step(f"{party.label} 나감 ({why})")

    def _transcription_event(self, event: str, **extra: str) -> None:
        transcription = self.transcription
        if transcription is None:
            return
        self._post(
            transcription.url,
            {
                "AccountSid": self.account_sid,
                "CallSid": self.call_sid,
                "TranscriptionSid": transcription.sid,
                "TranscriptionEvent": event,
                "Name": transcription.name,
                "LanguageCode": transcription.language,
                "Timestamp": rfc2822_now(),
                **extra,
            },
        )

    def _say_next_line(self) -> None:
        """The next turn of the conversation, as Twilio's transcription reports it."""
        caller = self.parties.get(self.call_sid)
        if (
            self.transcription is None
            or not self.transcript
            or "agent_joined" not in self.marks
            or (caller is not None and caller.hold)
            or time.monotonic() < self.next_line_at
        ):
            return
        track, text = self.transcript.pop(0)
        self.next_line_at = time.monotonic() + self.line_every_seconds
        self.transcription.sequence += 1
        self._step(f"{'시민' if track == 'inbound_track' else '상담원'}: {text}")
        self._transcription_event(
            "transcription-content",
            SequenceId=str(self.transcription.sequence),
            Track=track,
            TranscriptionData=json.dumps(
                {"transcript": text, "confidence": CONFIDENCE}, ensure_ascii=False
            ),
            Final="true",
        )

    def _conference_leave(self, *, why: str) -> None:
        """The caller leaves the conference, which ends with them (endConferenceOnExit):
        every other party is disconnected."""
        if self.conference is None:
            return
        self._party_leaves(self.call_sid, why=why)
        for sid in list(self.parties):
            self._party_leaves(sid, why="회의 종료")
        self._conference_event("conference-end")
        self._step(f"회의 종료 ({self.conference.sid})")
        self._transcription_event("transcription-stopped")
        self.transcription = None
