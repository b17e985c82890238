from django.contrib import admin

from tickets.models import (
    BusinessCalendar,
    CalendarClosure,
    Category,
    Department,
    Officer,
    SlaPolicy,
    SurveyAnswer,
    Ticket,
    TicketEvent,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "phone", "email", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(Officer)
class OfficerAdmin(admin.ModelAdmin):
    list_display = ("user", "department")
    list_filter = ("department",)
    search_fields = ("user__username", "user__first_name", "user__last_name")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "code", "is_public", "sort_order")
    list_filter = ("is_public", "parent")
    search_fields = ("name", "code")


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ("created_at", "type", "actor", "data")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "subject",
        "status",
        "priority",
        "category",
        "channel",
        "department",
        "created_at",
    )
    list_filter = ("status", "priority", "channel", "department", "category")
    search_fields = ("number", "subject", "description", "citizen__name")
    date_hierarchy = "created_at"
    readonly_fields = ("number", "created_at", "updated_at")
    raw_id_fields = ("citizen", "contacts", "assignee", "created_by")
    inlines = [TicketEventInline]


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "type", "actor", "created_at")
    list_filter = ("type",)
    search_fields = ("ticket__number",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(admin.ModelAdmin):
    list_display = ("created_at", "score", "solved", "channel", "ticket", "contact")
    list_filter = ("score", "channel", "solved")
    raw_id_fields = ("ticket", "contact")


class CalendarClosureInline(admin.TabularInline):
    model = CalendarClosure
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "always_open", "public_holidays")
    search_fields = ("name",)
    inlines = [CalendarClosureInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "category",
        "priority",
        "channel",
        "calendar",
        "first_response_minutes",
        "resolution_minutes",
        "is_active",
    )
    list_filter = ("is_active", "priority", "channel", "calendar")
    search_fields = ("name",)
