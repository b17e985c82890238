from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from callcenter.models import (
    Agent,
    AgentPresenceEvent,
    CallbackEvent,
    CallbackRequest,
    CannedReply,
    Citizen,
    Contact,
    ContactEvent,
    Message,
    Offer,
    PersonalDataAccess,
    Queue,
    Skill,
    User,
)
from callcenter.services.contacts import personal_data_access_log


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "channels", "priority", "service_level_seconds", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")
    filter_horizontal = ("required_skills",)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "user",
        "presence",
        "presence_changed_at",
        "max_concurrent_chats",
    )
    list_filter = ("presence", "skills")
    search_fields = ("display_name", "user__username")
    filter_horizontal = ("skills",)
    autocomplete_fields = ("user",)


@admin.register(AgentPresenceEvent)
class AgentPresenceEventAdmin(admin.ModelAdmin):
    list_display = ("agent", "presence", "reason", "created_at")
    list_filter = ("presence",)
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ("__str__", "masked", "preferred_language", "needs_assistance", "created_at")
    list_filter = ("preferred_language", "needs_assistance", "consent_contact")
    search_fields = ("name", "phone", "kakao_user_key", "email")

    @admin.display(description=_("phone"))
    def masked(self, citizen: Citizen) -> str:
        return citizen.masked_phone

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change form shows the phone and email unmasked: that access is logged.
        citizen = self.get_object(request, object_id)
        if citizen is not None:
            personal_data_access_log(
                user=request.user, citizen=citizen, field="phone,email", reason="admin"
            )
        return super().change_view(request, object_id, form_url, extra_context)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("created_at", "sender", "sender_user", "text")
    readonly_fields = fields
    can_delete = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "direction",
        "queue",
        "agent",
        "queued_at",
        "answered_at",
        "abandoned",
    )
    list_filter = ("channel", "direction", "queue", "abandoned")
    search_fields = ("provider_id", "citizen__name", "agent__display_name")
    date_hierarchy = "queued_at"
    raw_id_fields = ("citizen", "agent")
    inlines = [MessageInline]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "citizen", "field", "reason")
    list_filter = ("field",)
    search_fields = ("user__username",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """History rows are written by the services and never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ContactEvent)
class ContactEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ("created_at", "contact", "type", "agent", "actor")
    list_filter = ("type",)
    search_fields = ("contact__id", "agent__display_name")
    date_hierarchy = "created_at"


@admin.register(Offer)
class OfferAdmin(ReadOnlyHistoryAdmin):
    list_display = ("id", "contact", "agent", "state", "created_at", "expires_at", "responded_at")
    list_filter = ("state",)
    search_fields = ("agent__display_name",)
    date_hierarchy = "created_at"


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "language", "sort_order")
    list_filter = ("language",)
    search_fields = ("title", "text")


class CallbackEventInline(admin.TabularInline):
    model = CallbackEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "type", "actor", "data")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    """Read-only: call-backs change only through the work list's services, which keep the
    state moving forward and write the history rows shown below."""

    list_display = ("created_at", "__str__", "queue", "source", "status", "assigned_to")
    list_filter = ("status", "source", "queue")
    search_fields = ("note",)
    exclude = ("phone",)
    readonly_fields = (
        "__str__",
        "citizen",
        "contact",
        "ticket",
        "queue",
        "source",
        "note",
        "status",
        "assigned_to",
        "attempts",
        "result",
        "due_at",
        "created_at",
    )
    inlines = [CallbackEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


from callcenter import admin_qa  # noqa: E402, F401 - registers the QA models
