"""Admin for the QA models (imported by callcenter.admin)."""

from django.contrib import admin

from callcenter.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationItem,
    EvaluationSection,
    EvaluationTask,
)


class EvaluationSectionInline(admin.TabularInline):
    model = EvaluationSection
    extra = 0


class EvaluationItemInline(admin.TabularInline):
    model = EvaluationItem
    extra = 0


@admin.register(EvaluationForm)
class EvaluationFormAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "pass_mark", "created_by", "created_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [EvaluationSectionInline]
    raw_id_fields = ["created_by"]


@admin.register(EvaluationSection)
class EvaluationSectionAdmin(admin.ModelAdmin):
    list_display = ["title", "form", "order"]
    list_filter = ["form"]
    inlines = [EvaluationItemInline]


class EvaluationAnswerInline(admin.TabularInline):
    model = EvaluationAnswer
    extra = 0
    readonly_fields = ["item", "value", "not_applicable", "comment"]
    can_delete = False


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """Read-only history: evaluations are written through the QA pages."""

    list_display = ["contact", "agent", "evaluator", "form", "status", "score", "submitted_at"]
    list_filter = ["status", "calibration", "auto_failed", "dispute_outcome", "form"]
    search_fields = ["agent__display_name", "evaluator__username"]
    inlines = [EvaluationAnswerInline]
    readonly_fields = [field.name for field in Evaluation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(EvaluationTask)
class EvaluationTaskAdmin(admin.ModelAdmin):
    list_display = ["week", "agent", "contact", "form", "evaluation"]
    list_filter = ["week"]
    raw_id_fields = ["agent", "contact", "evaluation"]
