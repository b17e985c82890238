from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    BusinessCalendar,
    CalendarClosure,
    Category,
    Department,
    Officer,
    Open311Key,
    ServiceAttribute,
    SlaAlert,
    SlaPolicy,
    Survey,
    SurveyAnswer,
    Ticket,
    TicketEvent,
)
from tickets.services import open311_key_create, open311_key_revoke

LIST_DATATYPES = {
    ServiceAttribute.Datatype.SINGLEVALUELIST,
    ServiceAttribute.Datatype.MULTIVALUELIST,
}


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


class ServiceAttributeForm(forms.ModelForm):
    class Meta:
        model = ServiceAttribute
        fields = (
            "code",
            "datatype",
            "order",
            "variable",
            "required",
            "description",
            "datatype_description",
            "values",
        )

    def clean(self):
        data = super().clean()
        values = data.get("values") or []
        well_formed = isinstance(values, list) and all(
            isinstance(option, dict) and {"key", "name"} <= set(option) for option in values
        )
        if not well_formed:
            self.add_error("values", _('Give a list like [{"key": "1", "name": "Small"}, …].'))
        elif data.get("datatype") in LIST_DATATYPES and not values:
            self.add_error("values", _("A list question needs at least one value."))
        return data


class ServiceAttributeInline(admin.StackedInline):
    """The questions an Open311 service asks (its service definition)."""

    model = ServiceAttribute
    form = ServiceAttributeForm
    extra = 0
    fields = (
        ("code", "datatype", "order"),
        ("variable", "required"),
        "description",
        "datatype_description",
        "values",
    )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "code", "is_public", "sort_order")
    list_filter = ("is_public", "parent")
    search_fields = ("name", "code")
    inlines = [ServiceAttributeInline]


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: history, answers, alerts. Nobody edits them here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "type", "actor", "created_at")
    list_filter = ("type",)
    search_fields = ("ticket__number",)


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "method", "status", "skip_reason", "send_after", "sent_at")
    list_filter = ("status", "method", "skip_reason", ("send_after", admin.DateFieldListFilter))
    search_fields = ("ticket__number",)
    list_select_related = ("ticket",)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "score", "solved", "channel", "ticket", "contact")
    list_filter = ("score", "channel", "solved", ("created_at", admin.DateFieldListFilter))
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "contact")


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


@admin.register(SlaAlert)
class SlaAlertAdmin(ReadOnlyAdmin):
    """Warnings and breaches as the periodic check recorded them: read-only, for reports."""

    list_display = ("ticket", "clock", "level", "due_at", "assignee", "department", "created_at")
    list_filter = ("level", "clock", "department", ("created_at", admin.DateFieldListFilter))
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "assignee", "department")


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    """Keys of Open311 apps. Adding one asks only for a name and shows the key once."""

    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name",)
        return ("name", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("prefix", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw_key = open311_key_create(name=obj.name)
        obj.pk = key.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            gettext("The new key for %(name)s is %(key)s — copy it now: it is not shown again.")
            % {"name": key.name, "key": raw_key},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            open311_key_revoke(key=key)
        self.message_user(request, gettext("The selected keys no longer work."))
