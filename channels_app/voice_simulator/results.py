"""What a simulated call reports, and the small helpers every part of the engine shares.

:class:`CallResult` holds the call's timeline, one :class:`Step` at a time, the moments that
divide it into phases (IVR, waiting, connecting, talking, hanging up) and every request the
engine sent (:class:`Exchange`). The helpers shape what Twilio sends: SIDs, timestamps, the
confidence of its speech recognition.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from callcenter.services.voice_backend import new_sid  # noqa: F401 - re-exported

# What the timeline calls each phase of a call.
PHASES = {"ivr": "IVR", "queue": "대기", "bridge": "연결", "talk": "통화", "end": "종료"}
# The moments between the phases, as the summary names them.
MILESTONES = (
    ("queued", "대기열 진입"),
    ("bridged", "상담원 수락(대기열에서 나옴)"),
    ("agent_joined", "상담원 연결"),
    ("hang_up", "끊기 시작"),
    ("ended", "통화 종료"),
)
# How sure Twilio's speech recognition is of what it heard (a <Gather>, a transcript).
CONFIDENCE = 0.93


def rfc2822_now() -> str:
    return format_datetime(datetime.now(UTC))


@dataclass(frozen=True)
class Step:
    seconds: float  # since the call began
    phase: str  # a key of PHASES
    text: str

    def line(self) -> str:
        return f"{self.seconds:8.2f}s  {PHASES.get(self.phase, self.phase):<4} {self.text}"


@dataclass(frozen=True)
class Exchange:
    """One request the engine sent: the path and the answer's status (0: no answer)."""

    path: str
    status: int


@dataclass
class CallResult:
    call_sid: str
    outcome: str
    steps: list[Step]
    # Seconds since the call began: queued, bridged, agent_joined, hang_up, ended.
    marks: dict[str, float]
    exchanges: list[Exchange]
    conference_sid: str = ""

    def phases(self) -> dict[str, float]:
        """How long each phase took (only the phases the call went through)."""
        marks = self.marks
        spans = {
            "ivr": ("start", "queued"),
            "queue": ("queued", "bridged"),
            "bridge": ("bridged", "agent_joined"),
            "talk": ("agent_joined", "hang_up"),
            "end": ("hang_up", "ended"),
        }
        at = {"start": 0.0, **marks}
        phases = {
            phase: round(at[end] - at[begin], 3)
            for phase, (begin, end) in spans.items()
            if begin in at and end in at
        }
        if "ended" in marks:
            phases["total"] = marks["ended"]
        return phases

    def timeline(self) -> str:
        """Every step, then the summary."""
        return "\n".join([*(step.line() for step in self.steps), self.summary()])

    def summary(self) -> str:
        """The outcome, the moments that divide the call into phases, and each phase's length."""
        moments = " · ".join(
            f"{self.marks[mark]:.2f}s {label}" for mark, label in MILESTONES if mark in self.marks
        )
        phases = " · ".join(
            f"{PHASES.get(name, '합계')} {seconds:.2f}초" for name, seconds in self.phases().items()
        )
        return "\n".join(
            line for line in (f"결과: {self.outcome} ({self.call_sid})", moments, phases) if line
        )
