from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OutboundMessage(models.Model):
    """Every SMS/Kakao/WhatsApp message Open120 sends, whatever backend delivered it.

    With MESSAGING_BACKEND=outbox (the default) this row is the delivery: nothing leaves the
    machine, and the outbox page shows what would have been sent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("outbound message", "Queued")
        SENT = "sent", pgettext_lazy("outbound message", "Sent")
        FAILED = "failed", pgettext_lazy("outbound message", "Failed")

    channel = models.CharField(_("channel"), max_length=20)
    to = models.CharField(_("to"), max_length=64)
    body = models.TextField(_("body"))
    backend = models.CharField(_("sending backend"), max_length=20)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}: {self.body[:30]}"
