from django.contrib import admin

from channels_app.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The outbox: every message sent, queued for a retry, or failed, and why."""

    list_display = (
        "created_at",
        "channel",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
        "backend",
        "body",
    )
    list_filter = ("status", "channel", "backend")
    search_fields = ("to", "body", "provider_id", "idempotency_key")
    date_hierarchy = "created_at"
    raw_id_fields = ("ticket", "contact")
    readonly_fields = (
        "idempotency_key",
        "attempts",
        "claimed_until",
        "provider_id",
        "sent_at",
        "delivered_at",
    )
