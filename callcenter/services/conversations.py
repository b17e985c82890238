"""Conversations as both sides see them: sending, resuming, delivery, the citizen's chat.

Plain functions over the domain models, called by the consumers and the web chat views.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import (
    OPEN_CONTACT_STATES,
    CallbackRequest,
    ChatSession,
    Citizen,
    Contact,
    Message,
    Queue,
    User,
)
from callcenter.pii import mask_registration_numbers
from callcenter.selectors import queue_for_language
from callcenter.services import notify, replies
from callcenter.services.callbacks import callback_request_create
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.locking import row_locked
from callcenter.services.messages import attachment_message_create, message_create
from callcenter.services.outbox import outbox_enqueue
from callcenter.services.routing import contact_end, contact_enqueue
from channels_app import events
from channels_app.models import OutboundMessage
from tickets.models import SurveyAnswer


class ChatError(Exception):
    """Something the citizen's chat cannot do now; the message is shown to them."""


class ChatExpired(ChatError):
    """The chat ended more than CHAT_AFTER_END_SECONDS ago: its token no longer works."""


# A conversation leaves at most this many call-back requests (a second one is a resend).
CALLBACKS_PER_CONVERSATION = 1


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_for_token(token: str) -> ChatSession | None:
    if not token or len(token) > 200:
        return None
    return (
        ChatSession.objects.select_related("contact", "contact__agent", "contact__queue", "citizen")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def session_expires_at(session: ChatSession) -> datetime | None:
    """None while the chat is open; once it ended, when its token stops working. Until then
    it only rates the chat and asks for the transcript."""
    contact = session.contact
    if contact.state in OPEN_CONTACT_STATES:
        return None
    ended_at = contact.ended_at or session.created_at
    return ended_at + timedelta(seconds=settings.CHAT_AFTER_END_SECONDS)


def session_expired(session: ChatSession) -> bool:
    expires_at = session_expires_at(session)
    return expires_at is not None and timezone.now() >= expires_at


def _live_session(session: ChatSession) -> ChatSession:
    """The session and its current contact read afresh; ChatExpired once the token is dead."""
    session = ChatSession.objects.select_related("contact", "citizen").get(pk=session.pk)
    if session_expired(session):
        raise ChatExpired(_("This chat has closed. Start a new chat if you need more help."))
    return session


def chat_queue_for(language: str) -> Queue:
    """Korean chats go to the chat queue, other languages to the foreign-language queue."""
    queue = queue_for_language(language=language, channel="webchat")
    if queue is None:
        raise ChatError(_("No chat queue is open."))
    return queue


def chat_start(
    *,
    name: str,
    phone: str,
    language: str,
    queue: Queue | None = None,
    channel: str = "webchat",
    contact_language: str | None = None,
) -> tuple[ChatSession, str]:
    """Open a web chat: the citizen, a queued contact and the session token (returned once).

    ``language`` is the page's (the citizen's UI and system lines); ``contact_language`` what
    the agent must speak when that differs (a video call in Korean Sign Language, "ksl")."""
    token = secrets.token_urlsafe(32)
    queue = queue or chat_queue_for(language)
    with transaction.atomic():
        if phone:
            citizen = citizen_find_or_create(phone=phone, name=name, language=language)
            if name and not citizen.name:
                citizen.name = name
                citizen.save(update_fields=["name"])
        else:
            citizen = Citizen.objects.create(name=name, preferred_language=language)
        citizen.consent_privacy = True
        citizen.consented_at = timezone.now()
        citizen.save(update_fields=["consent_privacy", "consented_at"])
        contact, _ = contact_create(
            channel=channel, citizen=citizen, language=contact_language or language
        )
        session = ChatSession.objects.create(
            contact=contact, citizen=citizen, token_hash=_token_hash(token), language=language
        )
        contact.session = session
        contact.save(update_fields=["session"])
        contact_enqueue(contact=contact, queue=queue, announce=False)  # the hello tells
    return session, token


def chat_session_continue(*, contact: Contact, language: str = "") -> str:
    """A web chat on a conversation begun on another channel (a KakaoTalk citizen who chose
    to continue in the browser): a session with a new token (returned once) on the same
    contact, so the page shows the whole conversation and the agent's answers at once.
    ``language`` is the page's when it differs from the contact's (a video call in "ksl")."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        session = ChatSession.objects.create(
            contact=contact,
            citizen=contact.citizen,
            token_hash=_token_hash(token),
            language=language or contact.language,
        )
        Contact.objects.filter(pk=contact.pk).update(session=session)
        contact.session = session
    return token


def citizen_message_send(*, session: ChatSession, text: str, client_id: str = "") -> Message:
    # Only what the message needs (its state, and the citizen's name for the consoles): this
    # runs for every citizen message, and the full rows cost more to build than to fetch.
    contact = (
        Contact.objects.select_related("citizen")
        .only("abandoned", "answered_at", "ended_at", "wrapup_ended_at", "citizen__name")
        .get(pk=session.contact_id)
    )
    if contact.state not in OPEN_CONTACT_STATES:
        raise ChatError(_("This chat has ended. Start a new chat to ask again."))
    message = message_create(
        contact=contact, sender=Message.Sender.CITIZEN, text=text, client_id=client_id
    )
    return message


def staff_message_send(
    *, contact: Contact, user: User, text: str, client_id: str = "", internal: bool = False
) -> Message:
    if internal:
        if contact.state not in (*OPEN_CONTACT_STATES, Contact.State.WRAPUP):
            raise ChatError(_("Notes can be added until wrap-up ends."))
    elif contact.state != Contact.State.ACTIVE:
        raise ChatError(_("The conversation is not active."))
    elif refusal := replies.reply_refusal(contact):
        raise ChatError(refusal)  # a citizen who texted STOP
    # On SMS, WhatsApp and KakaoTalk the reply's way out is queued with it: both or neither.
    with transaction.atomic():
        message = message_create(
            contact=contact,
            sender=Message.Sender.AGENT,
            sender_user=user,
            text=text,
            client_id=client_id,
            internal=internal,
        )
        replies.reply_deliver(message)
    return message


async def typing_relay(layer, contact_id: int, *, who: str, name: str, sender: str) -> None:
    """Typing indicators are ephemeral: relayed, never stored."""
    frame = {"type": "typing", "contact_id": contact_id, "who": who, "name": name, "sender": sender}
    await layer.group_send(events.contact_group(contact_id), frame)
    if who == "agent":
        await layer.group_send(events.citizen_group(contact_id), frame)


def _payloads(messages) -> list[dict]:
    # The outbox rows of agents' replies (their delivery state on SMS, WhatsApp, KakaoTalk)
    # in one query for the whole history, not one per reply.
    deliveries = Prefetch(
        "deliveries",
        queryset=OutboundMessage.objects.only("id", "message_id", "channel", "status", "error"),
    )
    return [
        notify.message_payload(m)
        for m in messages.select_related("contact__citizen", "sender_user__agent").prefetch_related(
            deliveries
        )
    ]


def messages_since(*, contact_ids: list[int], last_id: int, include_internal: bool) -> list[dict]:
    """What a client missed: messages of these contacts after the last id it saw."""
    messages = Message.objects.filter(contact_id__in=contact_ids, id__gt=last_id)
    if not include_internal:
        messages = messages.filter(internal=False)
    return _payloads(messages.order_by("id")[:1000])


def session_contact_ids(session: ChatSession) -> list[int]:
    return list(Contact.objects.filter(session=session).values_list("id", flat=True))


def chat_resume(*, session: ChatSession, last_id: int) -> list[dict]:
    """The messages the citizen's client missed while the chat is open. Once it has ended the
    token no longer reads the conversation (the transcript is how the citizen keeps it);
    ChatExpired once the token is dead."""
    session = _live_session(session)
    if session.contact.state not in OPEN_CONTACT_STATES:
        return []
    return messages_since(
        contact_ids=session_contact_ids(session), last_id=last_id, include_internal=False
    )


class ChatQuotaExceeded(ChatError):
    """The chat holds as many files, or as many bytes of files, as one chat may."""


def chat_attachment_send(*, session: ChatSession, upload: UploadedFile, text: str = "") -> Message:
    """The citizen sends a file into their chat, within the chat's upload quota.

    The session row is locked while the quota is counted and the file stored, so two uploads
    racing in one chat cannot both take the last place. ChatQuotaExceeded (nothing stored)
    when it is full; ValidationError for a wrong type or size.
    """
    with transaction.atomic():
        session = row_locked(session)
        sizes = [
            item.get("size") or 0
            for attachments in Message.objects.filter(
                contact__session=session, sender=Message.Sender.CITIZEN
            )
            .exclude(attachments=[])
            .values_list("attachments", flat=True)
            for item in attachments
        ]
        if len(sizes) >= settings.CHAT_UPLOAD_MAX_FILES:
            raise ChatQuotaExceeded(
                _("This chat already holds %(count)s files, the most one chat can hold.")
                % {"count": len(sizes)}
            )
        if sum(sizes) + upload.size > settings.CHAT_UPLOAD_MAX_TOTAL_BYTES:
            raise ChatQuotaExceeded(
                _("Files in one chat are limited to %(size)s MB in total.")
                % {"size": settings.CHAT_UPLOAD_MAX_TOTAL_BYTES // (1024 * 1024)}
            )
        contact = Contact.objects.get(pk=session.contact_id)
        return attachment_message_create(
            contact=contact, upload=upload, sender=Message.Sender.CITIZEN, text=text
        )


def conversation_messages(contact: Contact, *, include_internal: bool) -> list[dict]:
    """The whole conversation: every leg of a chat session, or this contact alone."""
    if contact.session_id:
        messages = Message.objects.filter(contact__session_id=contact.session_id)
    else:
        messages = Message.objects.filter(contact=contact)
    if not include_internal:
        messages = messages.filter(internal=False)
    return _payloads(messages.order_by("id"))


def messages_mark_delivered(*, contact_id: int, up_to_id: int, readers: str) -> int:
    """The ``readers`` ('staff' or 'citizen') received everything up to ``up_to_id``."""
    senders = (
        Q(sender=Message.Sender.CITIZEN)
        if readers == "staff"
        else ~Q(sender=Message.Sender.CITIZEN)
    )
    now = timezone.now()
    with transaction.atomic():
        marked = Message.objects.filter(
            senders,
            contact_id=contact_id,
            id__lte=up_to_id,
            delivered_at__isnull=True,
            internal=False,
        ).update(delivered_at=now)
        if marked:
            notify.publish_messages_delivered(
                contact_id=contact_id,
                up_to_id=up_to_id,
                audience="citizen" if readers == "staff" else "staff",
                at=now,
            )
    return marked


def chat_rate(*, session: ChatSession, score: int) -> None:
    """The after-chat 1–5 question; one answer per contact, within the after-end window."""
    if not 1 <= score <= 5:
        raise ChatError(_("Choose a score from 1 to 5."))
    contact = _live_session(session).contact
    if contact.state in OPEN_CONTACT_STATES:
        raise ChatError(_("Rate the chat after it has ended."))
    _answer, created = SurveyAnswer.objects.get_or_create(
        contact=contact,
        defaults={"score": score, "channel": contact.channel, "ticket": contact.tickets.first()},
    )
    if not created:
        raise ChatError(_("Thank you, this chat was already rated."))


def chat_callback_request(*, session: ChatSession, phone: str, note: str = "") -> None:
    """Leave a call-back request instead of waiting; a waiting chat ends, not abandoned.
    One request per conversation: the session row is locked while they are counted."""
    from django.core.exceptions import ValidationError

    session = _live_session(session)
    with transaction.atomic():
        row_locked(session)
        requested = CallbackRequest.objects.filter(contact__session=session).count()
        if requested >= CALLBACKS_PER_CONVERSATION:
            raise ChatError(_("A call-back was already requested for this chat."))
        contact = Contact.objects.select_related("queue").get(pk=session.contact_id)
        try:
            callback_request_create(
                phone=phone,
                source=CallbackRequest.Source.CHAT,
                citizen=session.citizen,
                contact=contact,
                note=note,
            )
        except ValidationError as error:
            raise ChatError("; ".join(error.messages)) from error
        message_create(
            contact=contact,
            sender=Message.Sender.SYSTEM,
            text=_("Your call-back request has been received. An agent will call you soon."),
        )
        if contact.state == Contact.State.WAITING:
            contact_end(contact=contact, by="callback")


def chat_transcript_send(*, session: ChatSession, email: str = "", phone: str = "") -> str:
    """Send the conversation to the citizen by email or SMS (messaging backend): once per
    chat, to one address, so a token cannot mail a conversation to anyone it likes."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from phonenumber_field.phonenumber import to_python

    number = None
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise ChatError(_("Enter a valid email address.")) from error
    else:
        number = to_python(phone, region="KR")
        if number is None or not number.is_valid():
            raise ChatError(_("Enter a valid email address or phone number."))
    session = _live_session(session)
    if session.contact.state in OPEN_CONTACT_STATES:
        raise ChatError(_("Ask for the transcript after the chat has ended."))
    # The claim and the outbox row commit together: the worker sends once it has committed,
    # and a failure before that leaves neither (the citizen may ask again).
    with transaction.atomic():
        # Taking the one place is a single conditional UPDATE: two requests cannot both win.
        claimed = ChatSession.objects.filter(pk=session.pk, transcript_sent_at__isnull=True).update(
            transcript_sent_at=timezone.now()
        )
        if not claimed:
            raise ChatError(_("The transcript of this chat was already sent."))
        return _transcript_enqueue(session=session, email=email, number=number)


def _transcript_enqueue(*, session: ChatSession, email: str, number) -> str:
    lines = [
        f"[{timezone.localtime(m.created_at):%H:%M}] {_speaker(m)}: {m.text}"
        for m in Message.objects.filter(contact__session=session, internal=False)
        .select_related("sender_user__agent", "contact__citizen")
        .order_by("id")
    ]
    subject = _("Your 120 consultation")
    # Messages are stored masked; masking the whole body again also covers older rows.
    body = mask_registration_numbers(f"{subject}\n" + "\n".join(lines))
    via = "email" if number is None else "sms"
    outbox_enqueue(
        channel=via,
        to=email if number is None else number.as_e164,
        subject=subject if number is None else "",
        body=body if number is None else body[:1500],
        idempotency_key=f"transcript:{session.pk}",
        contact=session.contact,
    )
    return via


def _speaker(message: Message) -> str:
    return (
        {"citizen": "나", "system": "안내"}.get(message.sender)
        or notify.sender_name(message)
        or "상담사"
    )
