"""One simulated call: the caller, and Twilio's part of it (see the package's docstring).

:class:`SimulatedCall` places a call to the 120 line or answers a call-back Open120 dials,
signs every request as Twilio does (``X-Twilio-Signature`` over the public URL), keeps the
timeline, and ends the call (the conference, the status callback, the recording's). What
happens in between is in its mixins: the TwiML (:mod:`.twiml`), the conference
(:mod:`.conference`) and the REST requests on the outbox (:mod:`.rest`).
"""

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from channels_app.models import OutboundMessage
from channels_app.voice_simulator.conference import (
    Conference,
    ConferenceMixin,
    Party,
    Transcription,
)
from channels_app.voice_simulator.rest import CALLS_PATH, RestMixin, latest_voice_command
from channels_app.voice_simulator.results import CallResult, Exchange, Step, new_sid
from channels_app.voice_simulator.twiml import Queue, TwimlMixin

DEFAULT_CALLER_LINES = (
    "안녕하세요, 여권 재발급은 어디서 하나요?",
    "구청에 가면 바로 되나요? 준비물도 알려 주세요.",
    "네, 알겠습니다. 감사합니다.",
)
DEFAULT_AGENT_LINES = (
    "네, 120 시민 상담 콜센터입니다. 여권 재발급은 가까운 구청 여권민원실에서 하실 수 있습니다.",
    "신분증과 여권용 사진 한 장을 가져가시면 됩니다.",
)
HTTP_TIMEOUT_SECONDS = 10


def _digits_only(number: str) -> str:
    return re.sub(r"\D", "", number or "")


class CallEnded(Exception):
    """The call is over (raised out of TwiML that can go no further)."""


class SimulatedCall(TwimlMixin, ConferenceMixin, RestMixin):
    """One caller and Twilio, against the Open120 server at ``base_url``.

    ``public_base_url`` is the address Twilio would call (what the server signs against,
    ``PUBLIC_BASE_URL``); requests go to ``base_url``. ``digits`` are pressed one
    ``<Gather>`` at a time (``numDigits`` each), ``speech`` answers the ``<Gather>``\\ s
    that are left; ``lines`` and ``agent_lines`` are the conversation's transcript.
    ``talk_seconds`` (None: never) after the agent joins, the caller hangs up;
    ``wait_timeout`` in the queue, the caller gives up. The outbox is read every
    ``poll_seconds``, the queue's wait URL asked every ``wait_url_seconds``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth_token: str,
        from_number: str,
        to_number: str = "+82120",
        public_base_url: str = "",
        digits: str = "",
        speech: tuple[str, ...] | list[str] = (),
        lines: tuple[str, ...] | list[str] = DEFAULT_CALLER_LINES,
        agent_lines: tuple[str, ...] | list[str] = DEFAULT_AGENT_LINES,
        talk_seconds: float | None = 30,
        wait_timeout: float = 120,
        poll_seconds: float = 0.25,
        wait_url_seconds: float = 1.0,
        line_every_seconds: float = 2.0,
        account_sid: str = "",
        status_callback_path: str = "/twilio/voice/status",
        log: Callable[[Step], None] | None = None,
    ) -> None:
        if not auth_token:
            raise ValueError("Twilio signs with the auth token: TWILIO_AUTH_TOKEN is empty.")
        self.base_url = base_url.rstrip("/")
        self.public_base_url = (public_base_url or base_url).rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.account_sid = account_sid or new_sid("AC")
        self.call_sid = new_sid("CA")
        self.caller, self.line = from_number, to_number
        self.direction = "inbound"
        self.digits = list(digits.replace(" ", "").replace(",", ""))
        self.speech = list(speech)
        self.transcript = self._interleaved(list(lines), list(agent_lines))
        self.talk_seconds = talk_seconds
        self.wait_timeout = wait_timeout
        self.poll_seconds = poll_seconds
        self.wait_url_seconds = wait_url_seconds
        self.line_every_seconds = line_every_seconds
        self.status_callback = self.public_base_url + status_callback_path
        self.log = log
        self.http = requests.Session()
        self.steps: list[Step] = []
        self.marks: dict[str, float] = {}
        self.exchanges: list[Exchange] = []
        self.outcome = ""
        self.state = "idle"  # ivr, queued, conference, ended
        self.phase = "ivr"
        self.started = time.monotonic()
        self.seen: set[int] = set()
        self.queue: Queue | None = None
        self.conference: Conference | None = None
        self.parties: dict[str, Party] = {}
        self.pending_parties: list[tuple[str, Party]] = []
        self.transcription: Transcription | None = None
        self.recording: tuple[str, str, float] | None = None  # sid, callback, started
        self.next_line_at = 0.0

    @staticmethod
    def _interleaved(caller: list[str], agent: list[str]) -> list[tuple[str, str]]:
        """Caller and agent take turns, the caller first."""
        turns: list[tuple[str, str]] = []
        for n in range(max(len(caller), len(agent))):
            if n < len(caller):
                turns.append(("inbound_track", caller[n]))
            if n < len(agent):
                turns.append(("outbound_track", agent[n]))
        return turns

    # --- The two ways a call starts -------------------------------------------------------
    def place(self) -> CallResult:
        """Call the 120 line: the IVR, the queue, the agent; until someone hangs up."""
        self.started = time.monotonic()
        self.state = "ivr"
        self._step(f"전화 걸기 {self.caller} → {self.line} ({self.call_sid})")
        try:
            self._follow(self.public_base_url + "/twilio/voice/incoming", {})
            self._converse()
        except CallEnded:
            pass
        return self.result()

    def answer_callback(self, *, timeout: float, after: int | None = None) -> CallResult | None:
        """Wait (up to ``timeout`` s) for a call-back Open120 dials to ``from_number`` (in an
        outbox row newer than ``after``, default: than any now), pick it up, and talk. None
        when no call-back came."""
        watermark = after
        if watermark is None:
            watermark = latest_voice_command()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in OutboundMessage.objects.filter(
                channel=OutboundMessage.Channel.VOICE,
                subject="dial",
                status=OutboundMessage.Status.SENT,
                pk__gt=watermark,
            ).order_by("pk"):
                watermark = row.pk
                request = next(
                    (r for r in row.request if CALLS_PATH.search(urlsplit(r["url"]).path)), None
                )
                data = (request or {}).get("data") or {}
                if _digits_only(data.get("To", "")) == _digits_only(self.caller):
                    return self._answer(row, data)
            time.sleep(self.poll_seconds)
        return None

    def _answer(self, row: OutboundMessage, data: dict) -> CallResult:
        self.started = time.monotonic()
        self.call_sid = row.provider_id
        self.seen.add(row.pk)
        self.direction = "outbound-api"
        # An outbound call: From is the city's number, To the citizen.
        self.caller, self.line = data.get("From", self.line), data.get("To", self.caller)
        self.status_callback = data.get("StatusCallback") or self.status_callback
        self.state, self.phase = "ivr", "bridge"
        self.marks["queued"] = self.marks["bridged"] = 0.0
        self._step(f"콜백 전화 수신 {self.caller} → {self.line} ({self.call_sid})")
        try:
            for status in ("initiated", "ringing", "in-progress"):
                self._post(self.status_callback, self._call_params(CallStatus=status))
            self._step("시민이 전화를 받음")
            self._follow(data.get("Url", ""), {})
            self._converse()
        except CallEnded:
            pass
        return self.result()

    def result(self) -> CallResult:
        return CallResult(
            call_sid=self.call_sid,
            outcome=self.outcome or "미완료",
            steps=list(self.steps),
            marks=dict(self.marks),
            exchanges=list(self.exchanges),
            conference_sid=self.conference.sid if self.conference else "",
        )

    # --- HTTP, signed as Twilio signs ------------------------------------------------------
    def signature(self, public_url: str, params: dict[str, str]) -> str:
        return self.validator.compute_signature(public_url, params)

    def _transport_url(self, public_url: str) -> str | None:
        """Where a public URL of the server is reached; None for any other address (the
        engine sends nowhere else)."""
        if public_url.startswith(self.public_base_url + "/"):
            return self.base_url + public_url[len(self.public_base_url) :]
        return None

    def _post(self, public_url: str, params: dict[str, str]) -> requests.Response | None:
        url = self._transport_url(public_url)
        path = public_url[len(self.public_base_url) :] if url else public_url
        if url is None:
            self._step(f"보내지 않음: 이 서버의 주소가 아님 ({public_url})")
            return None
        headers = {"X-Twilio-Signature": self.signature(public_url, params)}
        try:
            response = self.http.post(
                url, data=params, headers=headers, timeout=HTTP_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            self.exchanges.append(Exchange(path, 0))
            self._step(f"요청 실패 {path}: {error.__class__.__name__}")
            return None
        self.exchanges.append(Exchange(path, response.status_code))
        if response.status_code >= 400:
            self._step(f"HTTP {response.status_code} {path} (계속 진행)")
        return response

    def _call_params(self, **extra: str) -> dict[str, str]:
        """What Twilio sends with every request about the call."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": "in-progress",
            "Called": self.line,
            "Caller": self.caller,
            "Direction": self.direction,
            "From": self.caller,
            "To": self.line,
            **extra,
        }

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _step(self, text: str, phase: str | None = None) -> None:
        step = Step(round(self._elapsed(), 3), phase or self.phase, text)
        self.steps.append(step)
        if self.log is not None:
            self.log(step)

    def _mark(self, name: str) -> None:
        self.marks.setdefault(name, round(self._elapsed(), 3))

    # --- The end ----------------------------------------------------------------------------
    def _end(self, outcome: str, *, by: str) -> None:
        """The caller's call is over: the conference ends, then Twilio's status callback
        and the recording's. Raises CallEnded to stop whatever TwiML was running."""
        if self.state == "ended":
            raise CallEnded(outcome)
        self.phase = "end"
        if self.state == "conference":
            self._conference_leave(why="전화 끊김")
        self._mark("hang_up")
        self.state = "ended"
        seconds = round(self._elapsed())
        self._post(
            self.status_callback,
            self._call_params(CallStatus="completed", CallDuration=str(seconds)),
        )
        if self.recording is not None:
            sid, callback, started = self.recording
            if callback:
                url = f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
                recorded = round(time.monotonic() - started)
                self._post(
                    callback,
                    self._recording_params(
                        sid, url, recorded, channels=2, source="StartCallRecordingAPI"
                    ),
                )
                self._step(f"녹음 완료 통보 ({sid}, {recorded}초)")
        self._mark("ended")
        self.outcome = outcome
        self._step(f"통화 종료: {outcome} ({by}, {seconds}초)")
        raise CallEnded(outcome)
