"""Twilio's part of a phone call, played against a running Open120 server (``simulate_call``).

With ``VOICE_BACKEND=simulated`` nothing reaches Twilio: a call command (bridge, hold, add
a party, hang up…) is an outbox row holding the REST request Twilio's library built
(``callcenter.services.voice_backend``). :class:`SimulatedCall` does the rest of Twilio's
job over HTTP, as Twilio would:

- the *webhooks*: it calls ``/twilio/voice/incoming`` with a fresh CallSid, signed with
  the auth token over the public URL (``X-Twilio-Signature``), and follows the TwiML it gets
  back verb by verb (``<Say>``, ``<Gather>`` with the caller's digits or speech,
  ``<Redirect>``, ``<Enqueue>`` and its wait URL, ``<Dial><Conference>``, ``<Record>``,
  ``<Start><Transcription>``, ``<Hangup>``);
- the *REST side*: it reads the voice rows of its call once sent and plays what each
  request asks for (a redirect out of the queue, a party dialled in and answering, hold,
  mute, removal, the recording, the hang-up), posting the status callbacks Twilio would
  post (conference events, party statuses, transcription segments, the call's end and its
  recording).

Each step is timestamped; :class:`CallResult` holds the timeline and the phases (IVR,
waiting, connecting, talking, hanging up). The engine runs inside Django (it reads the
outbox with the ORM) and only ever sends to the server it was given.

The package, by concern: ``call`` (:class:`SimulatedCall`: placing or answering a call,
signed requests, the end), ``twiml`` (the verbs, the queue and its wait music),
``conference`` (conference events, parties, transcription), ``rest`` (the outbox's REST
requests and the conversation loop) and ``results`` (the timeline and shared helpers).
"""

from channels_app.voice_simulator.call import (
    DEFAULT_AGENT_LINES,
    DEFAULT_CALLER_LINES,
    CallEnded,
    SimulatedCall,
)
from channels_app.voice_simulator.rest import latest_voice_command
from channels_app.voice_simulator.results import PHASES, CallResult, Exchange, Step, new_sid

__all__ = [
    "DEFAULT_AGENT_LINES",
    "DEFAULT_CALLER_LINES",
    "PHASES",
    "CallEnded",
    "CallResult",
    "Exchange",
    "SimulatedCall",
    "Step",
    "latest_voice_command",
    "new_sid",
]
