"""The TwiML a call follows, verb by verb, as Twilio would.

:class:`TwimlMixin` is part of :class:`~channels_app.voice_simulator.SimulatedCall`: it
requests each document (signed, with the call's parameters) and does what it says: ``<Say>``,
``<Play>`` and ``<Pause>`` are logged, not waited for; ``<Gather>`` answers with the caller's
digits or speech; ``<Redirect>`` and actions lead to the next document; ``<Enqueue>`` waits
in the queue, asking its wait URL for the music; ``<Dial><Conference>`` enters the
conference; ``<Record>`` records a message; ``<Start><Transcription>`` starts the real-time
transcription; ``<Hangup>`` and ``<Reject>`` end the call.
"""

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

from channels_app.voice_simulator.conference import Transcription
from channels_app.voice_simulator.results import CONFIDENCE, new_sid, rfc2822_now

# TwiML documents one call may follow before the engine calls it a loop.
MAX_DOCUMENTS = 50
RECORD_SECONDS = 5


@dataclass
class Queue:
    name: str
    sid: str
    action: str
    wait_url: str
    entered: float
    last_wait: float = 0.0
    last_said: str = ""


class TwimlMixin:
    """TwiML documents and the queue (mixed into SimulatedCall)."""

    def _fetch(self, public_url: str, extra: dict[str, str]) -> ET.Element:
        response = self._post(public_url, self._call_params(**extra))
        if response is None or response.status_code != 200:
            self._end("TwiML을 받지 못해 Twilio가 전화를 끊음", by="error")
        try:
            root = ET.fromstring(response.content)  # noqa: S314 - the server's own TwiML
        except ET.ParseError:
            self._end("TwiML이 아닌 응답: Twilio가 전화를 끊음", by="error")
        if root.tag != "Response":
            self._end(f"TwiML이 아닌 응답 <{root.tag}>", by="error")
        return root

    def _follow(self, public_url: str, extra: dict[str, str]) -> None:
        """Request TwiML and do what it says, document after document, until the call
        waits (in a queue or a conference) or ends."""
        following: tuple[str, dict] | None = (public_url, extra)
        for _document in range(MAX_DOCUMENTS):
            url, extra = following
            following = self._verbs(self._fetch(url, extra), url)
            if following is None:
                if self.state == "ivr":
                    self._end("TwiML이 끝나 Twilio가 전화를 끊음", by="twiml")
                return
        self._end(f"TwiML을 {MAX_DOCUMENTS}번 따라가도 끝나지 않음", by="error")

    def _verbs(self, root: ET.Element, url: str) -> tuple[str, dict] | None:
        """Do one document's verbs; the next document to request, if any."""
        for verb in root:
            if verb.tag in ("Say", "Play", "Pause"):
                self._sound(verb)
            elif verb.tag == "Gather":
                following = self._gather(verb, url)
                if following is not None:
                    return following
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif verb.tag in ("Hangup", "Reject"):
                self._end(f"<{verb.tag}>: 서버가 전화를 끊음", by="twiml")
            elif verb.tag == "Enqueue":
                self._enqueue(verb, url)
                return None
            elif verb.tag == "Dial":
                following = self._dial(verb, url)
                if following is not None or self.state == "conference":
                    return following
            elif verb.tag == "Record":
                return self._record(verb, url)
            elif verb.tag == "Start":
                self._start(verb, url)
            elif verb.tag == "Leave":
                self._step("<Leave>: 대기열 밖에서는 아무 일도 없음")
            else:
                self._step(f"<{verb.tag}>: 시뮬레이터가 모르는 동사, 건너뜀")
        return None

    def _sound(self, verb: ET.Element, *, quiet_pause: bool = False) -> None:
        if verb.tag == "Say":
            language = verb.get("language", "")
            self._step(f"안내({language}): {(verb.text or '').strip()}")
        elif verb.tag == "Play":
            self._step(f"음원 재생: {(verb.text or '').strip()}")
        elif not quiet_pause:
            self._step(f"{verb.get('length', '1')}초 쉼 (기다리지 않음)")

    def _gather(self, verb: ET.Element, url: str) -> tuple[str, dict] | None:
        for child in verb:
            self._sound(child)
        inputs = (verb.get("input") or "dtmf").split()
        action = urljoin(url, verb.get("action") or url)
        if "dtmf" in inputs and self.digits:
            count = int(verb.get("numDigits") or len(self.digits))
            pressed = "".join(self.digits[:count])
            del self.digits[:count]
            self._step(f"버튼 {pressed} 누름")
            return action, {"Digits": pressed}
        if "speech" in inputs and self.speech:
            said = self.speech.pop(0)
            self._step(f"말함: “{said}”")
            return action, {"SpeechResult": said, "Confidence": str(CONFIDENCE)}
        self._step("입력 없음")
        if verb.get("actionOnEmptyResult") == "true":
            return action, {}
        return None

    def _enqueue(self, verb: ET.Element, url: str) -> None:
        name = (verb.text or "").strip()
        self.queue = Queue(
            name=name,
            sid=new_sid("QU"),
            action=urljoin(url, verb.get("action")) if verb.get("action") else "",
            wait_url=urljoin(url, verb.get("waitUrl")) if verb.get("waitUrl") else "",
            entered=time.monotonic(),
        )
        self.state = "queued"
        self._mark("queued")
        self.phase = "queue"
        self._step(f"대기열 '{name}'에 들어감")
        self._wait_music()

    def _dial(self, verb: ET.Element, url: str) -> tuple[str, dict] | None:
        conference = verb.find("Conference")
        if conference is not None:
            self._conference_enter(conference, url)
            return None
        kinds = ", ".join(child.tag for child in verb) or "Number"
        self._step(f"<Dial>{kinds}: 시뮬레이터는 연결하지 않음 (응답 없음)")
        if verb.get("action"):
            return urljoin(url, verb.get("action")), {"DialCallStatus": "no-answer"}
        return None

    def _record(self, verb: ET.Element, url: str) -> tuple[str, dict]:
        seconds = min(int(verb.get("maxLength") or 3600), RECORD_SECONDS)
        sid = new_sid("RE")
        recording_url = (
            f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"
        )
        self._step(f"메시지 녹음 {seconds}초 ({sid})")
        if verb.get("recordingStatusCallback"):
            self._post(
                urljoin(url, verb.get("recordingStatusCallback")),
                self._recording_params(
                    sid, recording_url, seconds, channels=1, source="RecordVerb"
                ),
            )
        return urljoin(url, verb.get("action") or url), {
            "RecordingUrl": recording_url,
            "RecordingDuration": str(seconds),
            "RecordingSid": sid,
        }

    def _recording_params(
        self, sid: str, url: str, seconds: int, *, channels: int, source: str
    ) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "CallSid": self.call_sid,
            "RecordingSid": sid,
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": str(seconds),
            "RecordingChannels": str(channels),
            "RecordingSource": source,
            "RecordingStartTime": rfc2822_now(),
        }

    def _start(self, verb: ET.Element, url: str) -> None:
        for child in verb:
            if child.tag != "Transcription" or not child.get("statusCallbackUrl"):
                self._step(f"<Start><{child.tag}>: 시뮬레이터는 미디어를 보내지 않음")
                continue
            self.transcription = Transcription(
                url=urljoin(url, child.get("statusCallbackUrl")),
                sid=new_sid("GT"),
                name=child.get("name", ""),
                language=child.get("languageCode", "ko-KR"),
            )
            self._step(f"실시간 받아쓰기 시작 ({self.transcription.language})")
            self._transcription_event("transcription-started")

    # --- The queue --------------------------------------------------------------------------
    def _wait_music(self) -> None:
        """Ask the wait URL what the caller hears now (Twilio asks again when it ends; the
        engine asks every wait_url_seconds instead of playing it out)."""
        queue = self.queue
        if queue is None or not queue.wait_url:
            return
        queue.last_wait = time.monotonic()
        waited = str(round(time.monotonic() - queue.entered))
        root = self._fetch(
            queue.wait_url,
            {
                "QueuePosition": "1",
                "QueueSid": queue.sid,
                "QueueTime": waited,
                "AvgQueueTime": "0",
                "CurrentQueueSize": "1",
            },
        )
        said = " ".join((say.text or "").strip() for say in root.iter("Say"))
        if said and said != queue.last_said:
            self._step(f"대기 안내: {said}")
        queue.last_said = said
        for verb in root:
            if verb.tag in ("Hangup", "Reject"):
                self._end("대기 중 서버가 전화를 끊음", by="twiml")
            if verb.tag == "Leave" or (
                verb.tag == "Gather" and any(child.tag == "Leave" for child in verb)
            ):
                self._queue_leave("leave")

    def _queue_leave(self, result: str) -> None:
        """The call leaves the queue by itself: Twilio asks the Enqueue's action."""
        queue, self.queue = self.queue, None
        if queue is None:
            return
        self._step(f"대기열에서 나감 ({result})")
        if result == "hangup":
            if queue.action:
                self._post(queue.action, self._call_params(**self._queue_result(queue, result)))
            return
        self.state = "ivr"
        if queue.action:
            self._follow(queue.action, self._queue_result(queue, result))
        else:
            self._end("대기열을 나온 뒤 할 일이 없어 전화를 끊음", by="twiml")

    @staticmethod
    def _queue_result(queue: Queue, result: str) -> dict[str, str]:
        return {
            "QueueResult": result,
            "QueueSid": queue.sid,
            "QueueTime": str(round(time.monotonic() - queue.entered)),
        }
