from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.phonenumber import to_python

from callcenter.privacy import mask_phone


class OutboundMessage(models.Model):
    """Every SMS, KakaoTalk message and e-mail Open120 sends: the outbox.

    The row is written in the transaction of the change that causes it (``queued``), and the
    worker sends it after commit (``callcenter.services.outbox``): a rolled-back change
    sends nothing, and the unique idempotency key makes a repeated request one message.
    With MESSAGING_BACKEND=outbox (the default) nothing leaves the machine and the row,
    marked sent, shows what would have been sent.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")
        # A KakaoTalk business message (알림톡) to a phone number, from a template.
        KAKAO = "kakao", _("KakaoTalk")
        # A skill response POSTed once to the callbackUrl of a Kakao user's request.
        KAKAO_CALLBACK = "kakao_callback", _("KakaoTalk reply")
        EMAIL = "email", _("E-mail")
        VOICE = "voice", _("Phone call")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("outbound message", "Queued")
        SENT = "sent", pgettext_lazy("outbound message", "Sent")
        DELIVERED = "delivered", pgettext_lazy("outbound message", "Delivered")
        UNDELIVERED = "undelivered", pgettext_lazy("outbound message", "Undelivered")
        FAILED = "failed", pgettext_lazy("outbound message", "Failed")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    # A phone number, an e-mail address, a CallSid, or a Kakao callbackUrl.
    to = models.CharField(_("to"), max_length=1000)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    backend = models.CharField(_("sending backend"), max_length=20)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # A worker holds the row until then while it sends; a crashed worker's claim expires.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True, db_index=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    # What went to the provider's API (method, URL, form fields) for REST commands such as
    # a call's hold or transfer; kept for staff, the simulated backend and tests.
    request = models.JSONField(_("request sent"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_messages",
    )
    contact = models.ForeignKey(
        "callcenter.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_messages",
    )
    # The conversation message this row delivers (an agent's reply by SMS, WhatsApp or
    # KakaoTalk): its delivery state shows beside the message in the console.
    message = models.ForeignKey(
        "callcenter.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    # A KakaoTalk business message's approved template code (알림톡 템플릿 코드).
    template = models.CharField(_("template"), max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            # The sweep's question: which queued rows are due?
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="queued"),
                name="outbound_queued_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.masked_to}: {self.body[:30]}"

    @property
    def masked_to(self) -> str:
        """The recipient as lists show it: the middle of a number (a KakaoTalk business
        message goes to a phone too), most of an address hidden; a Kakao callback's URL,
        which carries a one-time token, shows its host only."""
        if self.channel == self.Channel.EMAIL:
            local, _at, domain = self.to.partition("@")
            return f"{local[:2]}***@{domain}" if domain else mask_phone(self.to)
        if self.channel == self.Channel.KAKAO_CALLBACK:
            return urlsplit(self.to).hostname or ""
        number = to_python(self.to)
        return mask_phone(number.as_national if number and number.is_valid() else self.to)


class KakaoConversation(models.Model):
    """What the KakaoTalk skill server remembers about one Kakao conversation (a Contact of
    channel kakao) between two skill requests: the bot's state, and the callback window.

    Kakao cannot be written to at will: an answer reaches the citizen in the response to
    their own request, or once through that request's ``callbackUrl`` within a minute of it
    (after the response said ``useCallback``). ``callback_url`` is the latest such window,
    ``callback_used_at`` says it was spent. The row is also what one conversation's requests
    lock, so two utterances sent at once are handled one after the other.
    """

    contact = models.OneToOneField(
        "callcenter.Contact",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="kakao",
        verbose_name=_("contact"),
    )
    # Questions in a row the bot could not answer (no match, or a clarifying question).
    unanswered = models.PositiveSmallIntegerField(_("unanswered questions in a row"), default=0)
    # Article ids offered as choices by the last clarifying question.
    choices = models.JSONField(_("offered articles"), default=list, blank=True)
    last_request_at = models.DateTimeField(_("last request at"), default=timezone.now)
    callback_url = models.CharField(_("callback URL"), max_length=1000, blank=True)
    callback_received_at = models.DateTimeField(
        _("callback window opened at"), null=True, blank=True
    )
    callback_used_at = models.DateTimeField(_("callback used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Kakao conversation")
        verbose_name_plural = _("Kakao conversations")

    def __str__(self) -> str:
        return f"Kakao {self.contact_id}"

    def callback_open(self, now, window_seconds: int) -> bool:
        """Whether the latest callbackUrl may still be used: given, unused, and younger than
        the window (Kakao allows one use within a minute)."""
        return bool(
            self.callback_url
            and self.callback_used_at is None
            and self.callback_received_at is not None
            and (now - self.callback_received_at).total_seconds() < window_seconds
        )
