"""Twilio's REST API for live calls, built by the real ``twilio`` library.

Every change to a call (bridge it to a conference, hold, mute, add or remove a party,
hang up, dial a call-back, record, delete a recording) is one *voice command*: an outbox
row of channel ``voice`` whose subject is the action and whose body is its parameters
(JSON). ``voice_command_send`` turns a row into the REST request Twilio's library builds
for it and sends it through the configured backend (``VOICE_BACKEND``):

- ``twilio``: Twilio's REST API, authenticated with the API key.
- ``simulated`` (default, no account): the same library builds the same request, and
  :class:`SimulatedHttpClient` keeps it instead of sending it and answers as Twilio would
  (new SIDs for new calls and recordings). ``manage.py simulate_call`` plays Twilio's part
  by reading the requests kept on the rows.

Either way the request (method, URL, form fields) is stored on the row (``request``), so
staff and tests see exactly what was, or would have been, sent.
"""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from callcenter.models import CallLeg, Contact, VoiceCall
from channels_app.models import OutboundMessage

SEND_TIMEOUT_SECONDS = 20
TWILIO_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
API_HOST = "https://api.twilio.com"


class VoiceCommandError(Exception):
    """A command Twilio refused or could not take; ``retryable`` when later may work."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.requests: list[dict] = []  # what was sent before it failed


def new_sid(prefix: str) -> str:
    """A SID shaped as Twilio's: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


class SimulatedHttpClient(HttpClient):
    """Keeps the requests Twilio's library builds and answers them as Twilio would."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False)
        self.requests: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, **kwargs):
        self.requests.append({"method": method, "url": uri, "data": dict(data or {})})
        if method == "DELETE":
            return Response(204, "")
        path = uri.split("/2010-04-01/", 1)[-1]
        fields = dict(data or {})
        answer: dict = {"account_sid": settings.TWILIO_ACCOUNT_SID or new_sid("AC")}
        if path.endswith("/Participants.json"):
            answer.update(call_sid=new_sid("CA"), status="queued", label=fields.get("Label"))
        elif "/Participants/" in path:
            answer.update(
                call_sid=path.rsplit("/", 1)[-1].removesuffix(".json"),
                hold=fields.get("Hold") == "true",
                muted=fields.get("Muted") == "true",
            )
        elif path.endswith("/Recordings.json"):
            answer.update(sid=new_sid("RE"), status="in-progress")
        elif path.endswith("/Calls.json"):
            answer.update(sid=new_sid("CA"), status="queued", to=fields.get("To"))
        else:
            answer.update(sid=path.rsplit("/", 1)[-1].removesuffix(".json"), status="in-progress")
        return Response(201 if path.endswith("s.json") else 200, json.dumps(answer))


class RecordingHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, keeping each request it sends (for the row)."""

    def __init__(self) -> None:
        super().__init__(timeout=SEND_TIMEOUT_SECONDS)
        self.requests: list[dict] = []

    def request(self, method, url, params=None, data=None, **kwargs):
        self.requests.append({"method": method, "url": url, "data": dict(data or {})})
        return super().request(method, url, params=params, data=data, **kwargs)


def voice_client(backend: str | None = None) -> Client:
    backend = backend or settings.VOICE_BACKEND
    http_client = SimulatedHttpClient() if backend == "simulated" else RecordingHttpClient()
    if backend == "simulated":
        return Client(
            "SK" + "0" * 32,
            "simulated",
            settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            http_client=http_client,
        )
    return Client(
        settings.TWILIO_API_KEY,
        settings.TWILIO_API_SECRET,
        settings.TWILIO_ACCOUNT_SID,
        http_client=http_client,
    )


# --- The actions ----------------------------------------------------------------------------
def _redirect(client: Client, p: dict) -> str:
    """Send a call to new TwiML (out of the queue into its conference, back to a queue)."""
    return client.calls(p["call_sid"]).update(url=p["url"], method="POST").sid


def _hang_up(client: Client, p: dict) -> str:
    return client.calls(p["call_sid"]).update(status="completed").sid


def _dial(client: Client, p: dict) -> str:
    """A call-back: Twilio dials the citizen from the city's number, then asks ``url``."""
    return client.calls.create(
        to=p["to"],
        from_=p["from"],
        url=p["url"],
        method="POST",
        status_callback=p["status_callback"],
        status_callback_method="POST",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    ).sid


def _participant_add(client: Client, p: dict) -> str:
    """An agent's softphone (``client:agent-N``) or an outside line joins the conference,
    which may be named by its FriendlyName. A conference no caller's TwiML starts (a video
    call's voice relay) is started by its parties: ``conference_options`` carries Twilio's
    conference parameters for them (who starts and ends it, its status callback)."""
    conference = p.get("conference_options") or {}
    options: dict = {}
    if "start_conference_on_enter" in conference:
        options["start_conference_on_enter"] = conference["start_conference_on_enter"]
    if conference.get("status_callback"):
        options.update(
            conference_status_callback=conference["status_callback"],
            conference_status_callback_method="POST",
            conference_status_callback_event=["start", "end", "join", "leave"],
        )
    if conference.get("wait_url"):
        options.update(wait_url=conference["wait_url"], wait_method="POST")
    return (
        client.conferences(p["conference"])
        .participants.create(
            from_=p["from"],
            to=p["to"],
            label=p["label"],
            early_media=True,
            beep="false",
            end_conference_on_exit=bool(conference.get("end_conference_on_exit", False)),
            status_callback=p["status_callback"],
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
            **options,
        )
        .call_sid
    )


def _participant_update(client: Client, p: dict) -> str:
    fields = {key: p[key] for key in ("hold", "muted") if key in p}
    if p.get("hold"):
        fields.update(hold_url=p["hold_url"], hold_method="POST")
    return (
        client.conferences(p["conference_sid"])
        .participants(p["call_sid"])
        .update(**fields)
        .call_sid
    )


def _participant_remove(client: Client, p: dict) -> str:
    client.conferences(p["conference_sid"]).participants(p["call_sid"]).delete()
    return p["call_sid"]


def _record(client: Client, p: dict) -> str:
    """Dual-channel recording of the caller's leg: the caller on one channel, everyone
    they hear on the other."""
    return (
        client.calls(p["call_sid"])
        .recordings.create(
            recording_channels="dual",
            recording_track="both",
            recording_status_callback=p["status_callback"],
            recording_status_callback_method="POST",
            recording_status_callback_event=["completed", "absent"],
        )
        .sid
    )


def _recording_delete(client: Client, p: dict) -> str:
    client.recordings(p["recording_sid"]).delete()
    return p["recording_sid"]


@dataclass(frozen=True)
class Action:
    run: Callable[[Client, dict], str]
    # Commands that name the conference by its SID, which only Twilio's conference status
    # callback tells: the command waits until it has come.
    needs_conference_sid: bool = False


ACTIONS: dict[str, Action] = {
    "redirect": Action(_redirect),
    "hang_up": Action(_hang_up),
    "dial": Action(_dial),
    "participant_add": Action(_participant_add),
    "participant_update": Action(_participant_update, needs_conference_sid=True),
    "participant_remove": Action(_participant_remove, needs_conference_sid=True),
    "record": Action(_record),
    "recording_delete": Action(_recording_delete),
}


def _resolved(message: OutboundMessage) -> dict:
    """The command's parameters with what only Twilio could tell filled in: the
    conference's SID and the CallSid of the party (``leg``) it names. Not known yet: the
    command waits (VoiceCommandError, retryable)."""
    params = json.loads(message.body)
    action = ACTIONS.get(message.subject)
    if action is not None and action.needs_conference_sid and not params.get("conference_sid"):
        call = VoiceCall.objects.filter(contact_id=message.contact_id).first()
        if call is None or not call.conference_sid:
            raise VoiceCommandError("The call's conference has not started yet.", retryable=True)
        params["conference_sid"] = call.conference_sid
    if params.get("leg") and not params.get("call_sid") and message.subject != "participant_add":
        sid = CallLeg.objects.filter(pk=params["leg"]).values_list("call_sid", flat=True).first()
        if not sid:
            raise VoiceCommandError("That party has not been connected yet.", retryable=True)
        params["call_sid"] = sid
    return params


def voice_command_deliver(message: OutboundMessage) -> tuple[str, list[dict]]:
    """Send one queued voice command and record what its answer tells."""
    params = _resolved(message)
    sid, sent = voice_command_send(message, params=params)
    command_sent(message, params, sid)
    return sid, sent


def command_sent(message: OutboundMessage, params: dict, sid: str) -> None:
    """What a sent command tells us: the CallSid of a party just dialled, or of the call
    just placed."""
    if not sid:
        return
    if message.subject == "participant_add" and params.get("leg"):
        CallLeg.objects.filter(pk=params["leg"], call_sid="").update(call_sid=sid)
    elif message.subject == "dial" and params.get("call_of"):
        call_placed(params["call_of"], sid)


def call_placed(contact_id: int, call_sid: str) -> None:
    """The CallSid of a call-back we dialled, on its contact, call and caller."""
    with transaction.atomic():
        VoiceCall.objects.filter(contact_id=contact_id, call_sid="").update(call_sid=call_sid)
        # "" (dialled from the work list) or "callback-<id>" (offered by the router).
        Contact.objects.filter(
            Q(provider_id="") | Q(provider_id__startswith="callback-"), pk=contact_id
        ).update(provider_id=call_sid)
        CallLeg.objects.filter(contact_id=contact_id, role=CallLeg.Role.CALLER, call_sid="").update(
            call_sid=call_sid
        )


def voice_command_send(message: OutboundMessage, *, params: dict) -> tuple[str, list[dict]]:
    """Send one voice command: (the SID Twilio answered with, the requests made)."""
    action = ACTIONS.get(message.subject)
    if action is None:
        raise VoiceCommandError(f"Unknown voice action {message.subject!r}.", retryable=False)
    client = voice_client(message.backend)
    try:
        sid = action.run(client, params) or ""
    except TwilioRestException as error:
        failure = VoiceCommandError(
            f"Twilio {error.status} (code {error.code}): {error.msg}",
            retryable=error.status in TWILIO_RETRYABLE_STATUSES,
        )
        failure.requests = client.http_client.requests
        raise failure from error
    except (requests.RequestException, TwilioException) as error:
        failure = VoiceCommandError(f"Twilio unreachable: {error}", retryable=True)
        failure.requests = client.http_client.requests
        raise failure from error
    return sid, client.http_client.requests


def recording_media_url(recording_sid: str) -> str:
    """Where Twilio serves a recording's audio: built from its SID and our account, never
    from a URL a request could carry."""
    return (
        f"{API_HOST}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
        f"/Recordings/{recording_sid}.mp3"
    )
