"""Sign-language video call-backs: the link a signing agent texts to a citizen who booked
one, and the call that link starts.

A deaf citizen cannot be called back by phone. The agent who has taken the call-back sends a
signed link by SMS; the citizen opens it on the video page and presses start, and the call
rings straight through to that agent (an outbound video contact answered at once, as
``callback_dial`` does for a phone call-back). When the agent is not free at that moment the
call waits in the video queue like any other, so the citizen is not lost. The agent then
records what came of the call-back as for a phone one.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from callcenter.models import (
    Agent,
    CallbackEvent,
    CallbackRequest,
    Channel,
    ChatSession,
    Citizen,
    Contact,
    ContactEvent,
    Language,
    VideoCall,
)
from callcenter.services import conversations, notify
from callcenter.services.callbacks import CallbackError, CallbackForbidden
from callcenter.services.locking import row_locked
from callcenter.services.outbox import outbox_enqueue
from callcenter.services.presence import (
    presence_for_own_call,
)
from callcenter.services.routing import callback_call_withdraw
from callcenter.services.video import (
    SIGN_LANGUAGE,
    VideoError,
    agent_is_signing,
    video_call_create,
    video_queue,
    video_queue_join,
)
from channels_app.models import OutboundMessage

LINK_SALT = "open120.video-callback"


class VideoLinkError(VideoError):
    """The citizen's link is forged, expired, or its call-back is no longer waiting."""


@dataclass(frozen=True)
class LinkClaim:
    callback_id: int
    agent_id: int


# --- the link -----------------------------------------------------------------------------------
def _signer() -> signing.TimestampSigner:
    # "." instead of ":" between the parts: the token goes into a URL unescaped.
    return signing.TimestampSigner(salt=LINK_SALT, sep=".")


def video_callback_token(*, callback: CallbackRequest, agent: Agent) -> str:
    return _signer().sign_object({"c": callback.pk, "a": agent.pk}, compress=True)


def video_callback_link_read(token: str) -> LinkClaim:
    """What a link promises; VideoLinkError when it is forged or older than
    VIDEO_CALLBACK_LINK_SECONDS."""
    if not token or len(token) > 300:
        raise VideoLinkError(_("This video call link is not valid."))
    try:
        payload = _signer().unsign_object(token, max_age=settings.VIDEO_CALLBACK_LINK_SECONDS)
    except signing.SignatureExpired:
        raise VideoLinkError(
            _("This video call link has expired. Start a video call below or book a new time.")
        ) from None
    except signing.BadSignature:
        raise VideoLinkError(_("This video call link is not valid.")) from None
    if not isinstance(payload, dict):
        raise VideoLinkError(_("This video call link is not valid."))
    callback_id, agent_id = payload.get("c"), payload.get("a")
    if not isinstance(callback_id, int) or not isinstance(agent_id, int):
        raise VideoLinkError(_("This video call link is not valid."))
    return LinkClaim(callback_id=callback_id, agent_id=agent_id)


def _citizen_language(callback: CallbackRequest) -> str:
    citizen = callback.citizen
    language = citizen.preferred_language if citizen is not None else Language.KOREAN
    return Language.KOREAN if language in ("", Language.KOREAN) else Language.ENGLISH


def _link_url(token: str, language: str) -> str:
    query = (
        {"callback": token} if language == Language.KOREAN else {"lang": "en", "callback": token}
    )
    return f"{settings.PUBLIC_BASE_URL}{reverse('video')}?{urlencode(query)}"


def video_links_sent(callback: CallbackRequest) -> int:
    return callback.events.filter(type=CallbackEvent.Type.VIDEO_LINK_SENT).count()


def video_callback_link_send(*, callback: CallbackRequest, agent: Agent) -> OutboundMessage:
    """Text the citizen the link to their video call-back: only the signing agent who has
    taken it. Each send is a new message (a resend after the first expired or was lost),
    recorded on the call-back as an attempt with ``video_link``."""
    with transaction.atomic():
        callback = row_locked(callback)
        if callback.source != CallbackRequest.Source.VIDEO:
            raise CallbackError(_("Only a sign-language video call-back is called by video link."))
        if callback.status != CallbackRequest.Status.TAKEN:
            raise CallbackError(_("Take the call-back before sending the video link."))
        if callback.assigned_to_id != agent.pk:
            raise CallbackForbidden(_("This call-back was taken by another agent."))
        if not agent_is_signing(agent):
            raise CallbackForbidden(_("Only a sign-language agent can send a video call link."))
        sent_before = video_links_sent(callback)
        language = _citizen_language(callback)
        url = _link_url(video_callback_token(callback=callback, agent=agent), language)
        with override(language):
            body = _(
                "[120 sign-language video] Press the link to start the sign-language video "
                "consultation you booked: %(url)s"
            ) % {"url": url}
        message = outbox_enqueue(
            channel=OutboundMessage.Channel.SMS,
            to=callback.phone.as_e164,
            body=body,
            idempotency_key=f"video-callback-link:{callback.pk}:{sent_before}",
            ticket=callback.ticket,
            contact=callback.contact,
        )
        # The link is how a video call-back is "called"; the history says so.
        CallbackEvent.objects.create(
            callback=callback,
            type=CallbackEvent.Type.VIDEO_LINK_SENT,
            actor=agent.user,
            data={"video_link": True, "message": message.pk, "links": sent_before + 1},
        )
    return message


# --- the citizen starts the call ------------------------------------------------------------------
def _no_longer_waiting() -> VideoLinkError:
    return VideoLinkError(
        _("This video call-back is no longer waiting. Start a video call below instead.")
    )


def _waiting(callback: CallbackRequest | None, claim: LinkClaim) -> bool:
    return (
        callback is not None
        and callback.source == CallbackRequest.Source.VIDEO
        and callback.status == CallbackRequest.Status.TAKEN
        and callback.assigned_to_id == claim.agent_id
        and callback.citizen_id is not None
    )


def video_callback_for_link(token: str) -> CallbackRequest:
    """The call-back a link opens: still taken by the agent who sent it; else VideoLinkError."""
    claim = video_callback_link_read(token)
    callback = CallbackRequest.objects.filter(pk=claim.callback_id).first()
    if not _waiting(callback, claim):
        raise _no_longer_waiting()
    return callback


def _agent_free(agent: Agent) -> bool:
    """Free for a realtime contact: console open (signed in) and no call or video call in
    conversation (as ``callback_dial`` requires)."""
    if not Agent.objects.signed_in().filter(pk=agent.pk).exists():
        return False
    return not Contact.objects.filter(
        agent=agent,
        channel__in=(Channel.VOICE, Channel.VIDEO),
        answered_at__isnull=False,
        ended_at__isnull=True,
    ).exists()


def _consent(citizen: Citizen, name: str) -> None:
    """The start form's privacy consent, and the name typed there when none is on record."""
    citizen.consent_privacy = True
    citizen.consented_at = timezone.now()
    fields = ["consent_privacy", "consented_at"]
    if name and not citizen.name:
        citizen.name = name[:80]
        fields.append("name")
    citizen.save(update_fields=fields)


def video_callback_start(
    *, token: str, name: str, language: str, recording_consent: bool = False
) -> tuple[ChatSession, str, VideoCall]:
    """Start the video call a call-back link promises: answered at once by the agent who
    sent it when they are free, else queued in the video queue. Returns the session, its
    token (once) and the room, as ``video_start``. VideoLinkError for a bad link."""
    claim = video_callback_link_read(token)
    with transaction.atomic():
        callback = CallbackRequest.objects.select_for_update().filter(pk=claim.callback_id).first()
        if not _waiting(callback, claim):  # taken back, done, or moved on meanwhile
            raise _no_longer_waiting()
        agent = row_locked(Agent.objects.select_related("user").get(pk=claim.agent_id))
        queue = callback.queue or video_queue()
        _consent(callback.citizen, name.strip())
        consent = recording_consent
        if _agent_free(agent):
            session, session_token, video = _answered_by(callback, agent, language, consent)
        else:
            session, session_token, video = _queued(callback, queue, name, language, consent)
    return session, session_token, video


def _answered_by(
    callback: CallbackRequest, agent: Agent, language: str, consent: bool
) -> tuple[ChatSession, str, VideoCall]:
    callback_call_withdraw(callback)  # the router no longer offers a queued call for it
    contact = Contact.objects.create(
        channel=Channel.VIDEO,
        direction=Contact.Direction.OUTBOUND,
        language=SIGN_LANGUAGE,
        citizen=callback.citizen,
        queue=callback.queue,
        agent=agent,
        answered_at=timezone.now(),
    )
    session_token = conversations.chat_session_continue(contact=contact, language=language)
    video = video_call_create(contact_id=contact.pk, recording_consent=consent)
    ContactEvent.objects.create(
        contact=contact,
        type=ContactEvent.Type.ACCEPTED,
        agent=agent,
        actor=agent.user,
        data={"callback": callback.pk},
    )
    presence_for_own_call(agent)
    notify.publish_contact_assigned(contact)
    return contact.session, session_token, video


def _queued(
    callback: CallbackRequest, queue, name: str, language: str, consent: bool
) -> tuple[ChatSession, str, VideoCall]:
    if queue is None:
        raise VideoError(_("Sign-language video calls are not offered."))
    session, session_token, video = video_queue_join(
        name=name.strip()[:80],
        phone=callback.phone.as_e164,
        language=language,
        queue=queue,
        recording_consent=consent,
    )
    # Written in this transaction with the contact: the queue entry names its call-back.
    ContactEvent.objects.filter(
        contact_id=session.contact_id, type=ContactEvent.Type.QUEUED
    ).update(data={"queue": queue.code, "callback": callback.pk})
    return session, session_token, video
