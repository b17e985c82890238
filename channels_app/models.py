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
        KAKAO = "kakao", _("KakaoTalk")
        EMAIL = "email", _("E-mail")
        VOICE = "voice", _("Phone call")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("outbound message", "Queued")
        SENT = "sent", pgettext_lazy("outbound message", "Sent")
        DELIVERED = "delivered", pgettext_lazy("outbound message", "Delivered")
        UNDELIVERED = "undelivered", pgettext_lazy("outbound message", "Undelivered")
        FAILED = "failed", pgettext_lazy("outbound message", "Failed")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
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
        """The recipient as lists show it: the middle of a number, most of an address and
        of a Kakao user key hidden."""
        if self.channel == self.Channel.EMAIL:
            local, _at, domain = self.to.partition("@")
            return f"{local[:2]}***@{domain}" if domain else mask_phone(self.to)
        if self.channel == self.Channel.KAKAO:
            return f"{self.to[:4]}…" if self.to else ""
        number = to_python(self.to)
        return mask_phone(number.as_national if number and number.is_valid() else self.to)
