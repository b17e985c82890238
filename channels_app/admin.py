from django.contrib import admin

from channels_app.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The outbox: every SMS the messaging backend sent (or, by default, kept)."""

    list_display = ("created_at", "channel", "to", "status", "backend", "body")
    list_filter = ("channel", "status", "backend")
    search_fields = ("to", "body")
    date_hierarchy = "created_at"
