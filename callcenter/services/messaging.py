"""Texts citizens send to the city's number (SMS and WhatsApp): conversations and keywords.

A text from a citizen with no open conversation on that channel opens one in the chat queue,
as a web chat does; while one is open, the text joins it. Agents answer from the same console,
and ``callcenter.services.replies`` sends their answers back through the outbox.

Keywords follow carrier norms (the CTIA's, which Twilio applies, and Korea's 수신거부):
- STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, 수신거부: no more texts to this citizen
  (``Citizen.sms_opted_out_at``) and one confirmation, the last text they get;
- START, UNSTOP, YES, 수신동의: texts again (only from a citizen who opted out: "yes" in a
  conversation is an answer, not a keyword);
- HELP, INFO, 도움말: what this number is and how to stop it, even to an opted-out citizen.
A keyword is the whole text (case and spaces aside); inside an open conversation it is also
stored there, so the agent sees it.

The adapter (``channels_app.twilio_messaging``) verifies Twilio's signature and passes plain
values; the provider's MessageSid is the message's ``client_id``, so a retried webhook stores
nothing new.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.models import Channel, Citizen, Contact, Message
from callcenter.selectors import queue_for_language
from callcenter.services.contacts import citizen_find_or_create, contact_create
from callcenter.services.locking import row_locked
from callcenter.services.messages import message_create
from callcenter.services.routing import contact_enqueue

logger = logging.getLogger(__name__)

TEXT_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


KEYWORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "수신거부"), Keyword.OPT_OUT
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES", "수신동의"), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO", "도움말"), Keyword.HELP),
}


class MessagingUnavailable(Exception):
    """No queue takes texts now; the message is the answer the citizen gets."""


@dataclass
class Received:
    """What became of one inbound text: the stored message (None for a keyword outside a
    conversation), its conversation, and the text to answer with ("" for none)."""

    message: Message | None = None
    contact: Contact | None = None
    answer: str = ""
    keyword: Keyword | None = None
    duplicate: bool = False
    opened: bool = False


def keyword_of(body: str) -> Keyword | None:
    """The keyword a text is, if it is one: the whole text, whatever its case and spaces."""
    return KEYWORDS.get("".join(body.split()).upper().strip(".!"))


def open_conversation(*, citizen: Citizen, channel: str) -> Contact | None:
    """The citizen's conversation on ``channel`` that is waiting or with an agent."""
    return (
        Contact.objects.filter(
            channel=channel, citizen=citizen, ended_at__isnull=True, abandoned=False
        )
        .order_by("-id")
        .first()
    )


def text_receive(
    *,
    message_sid: str,
    channel: str,
    phone: str,
    body: str,
    media: list[dict] | None = None,
    profile_name: str = "",
) -> Received:
    """A citizen's text (SMS or WhatsApp) to the city's number.

    Returns what was stored and the answer to give; MessagingUnavailable (nothing stored)
    when no queue takes texts, ValidationError for a text that cannot be stored.
    """
    if channel not in TEXT_CHANNELS:
        raise ValueError(f"Not a text channel: {channel!r}")
    keyword = keyword_of(body)
    with transaction.atomic():
        # The citizen's row is the lock: their texts are taken one at a time, so two texts
        # arriving together open one conversation, and a retry waits for the first delivery.
        citizen = row_locked(citizen_find_or_create(phone=phone, name=profile_name[:80]))
        earlier = _earlier_delivery(citizen=citizen, channel=channel, message_sid=message_sid)
        if earlier is not None:
            return Received(message=earlier, contact=earlier.contact, duplicate=True)
        if keyword == Keyword.OPT_IN and citizen.sms_opted_out_at is None:
            keyword = None  # "yes" from a citizen who never opted out is an answer
        contact = open_conversation(citizen=citizen, channel=channel)
        received = Received(contact=contact, keyword=keyword)
        if keyword is not None:
            received.answer = _keyword_apply(citizen, keyword)
            if contact is None:
                return received
        else:
            if contact is None:
                contact = _conversation_open(citizen=citizen, channel=channel, first=message_sid)
                received.contact, received.opened = contact, True
        received.message = message_create(
            contact=contact,
            sender=Message.Sender.CITIZEN,
            text=body,
            attachments=media or [],
            client_id=message_sid,
        )
        _note_opt_out(contact, citizen, keyword=keyword, received=received)
    return received


def _earlier_delivery(*, citizen: Citizen, channel: str, message_sid: str) -> Message | None:
    """The message a retried webhook already stored (among this citizen's, so the look-up
    uses the message's (contact, sender, client_id) index)."""
    return (
        Message.objects.filter(
            contact__citizen=citizen,
            contact__channel=channel,
            sender=Message.Sender.CITIZEN,
            client_id=message_sid[:64],
        )
        .select_related("contact")
        .first()
    )


def _conversation_open(*, citizen: Citizen, channel: str, first: str) -> Contact:
    """A new conversation in the chat queue for the citizen's language, like a web chat's."""
    language = citizen.preferred_language
    # The chat queue takes texts as it takes web chats; else any queue listing the channel.
    queue = queue_for_language(language=language, channel=channel) or queue_for_language(
        language=language, channel=Channel.WEBCHAT
    )
    if queue is None:
        logger.error("No queue takes %s: a citizen's text was answered as unavailable", channel)
        with translation.override(citizen.message_language):
            raise MessagingUnavailable(
                _("[120] Text consultations are not available now. Please call 120.")
            )
    contact, _created = contact_create(
        channel=channel, provider_id=first[:64], citizen=citizen, language=language
    )
    contact_enqueue(contact=contact, queue=queue, announce=False)
    return contact


def _keyword_apply(citizen: Citizen, keyword: Keyword) -> str:
    """Record an opt-out or opt-in; the answer the citizen gets ("" for a repeated STOP:
    one confirmation, then silence)."""
    with translation.override(citizen.message_language):
        if keyword == Keyword.OPT_OUT:
            if citizen.sms_opted_out_at is not None:
                return ""
            citizen.sms_opted_out_at = timezone.now()
            citizen.save(update_fields=["sms_opted_out_at"])
            return _(
                "[120] You will no longer get text messages from this number. "
                "Text START (수신동의) to get them again."
            )
        if keyword == Keyword.OPT_IN:
            citizen.sms_opted_out_at = None
            citizen.save(update_fields=["sms_opted_out_at"])
            return _(
                "[120] You will get text messages from this number again. "
                "Text STOP (수신거부) to stop them."
            )
        return _(
            "[120] This is the city's 120 contact centre. Text your question and an agent "
            "will answer here; for anything urgent call 120. Text STOP (수신거부) to stop "
            "messages."
        )


def _note_opt_out(
    contact: Contact, citizen: Citizen, *, keyword: Keyword | None, received: Received
) -> None:
    """Tell the agent, in the conversation, when replies cannot reach the citizen (and when
    they can again): a system line, shown in the console, never texted."""
    opted_out_now = keyword == Keyword.OPT_OUT and received.answer
    if opted_out_now or (received.opened and citizen.sms_opted_out_at is not None):
        line = _("The citizen texted STOP (수신거부): replies cannot be sent by text.")
    elif keyword == Keyword.OPT_IN:
        line = _("The citizen texted START (수신동의): replies can be sent again.")
    else:
        return
    message_create(contact=contact, sender=Message.Sender.SYSTEM, text=line)
