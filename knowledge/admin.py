from django.contrib import admin

from knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleReview,
    ArticleUse,
    ArticleVersion,
    SearchQueryLog,
)
from knowledge.services import article_version_record


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    fields = ("number", "status", "title", "author", "created_at", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "department", "status", "review_due", "updated_at")
    list_filter = ("status", "department", "category")
    search_fields = ("title", "question", "answer", "external_id")
    raw_id_fields = ("translation_of",)
    filter_horizontal = ("related",)
    inlines = [ArticleVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        article_version_record(article=obj, author=request.user, note="admin")


@admin.register(ArticleReview)
class ArticleReviewAdmin(admin.ModelAdmin):
    list_display = ("created_at", "article", "decision", "user")
    list_filter = ("decision",)
    search_fields = ("article__title", "comment")


@admin.register(ArticleUse)
class ArticleUseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "article", "user", "contact")
    search_fields = ("article__title",)
    raw_id_fields = ("contact",)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "article", "helpful")
    list_filter = ("helpful",)


@admin.register(SearchQueryLog)
class SearchQueryLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "query", "results", "staff")
    list_filter = ("staff",)
    search_fields = ("query",)
