from django.contrib import admin

from knowledge.models import Article, ArticleVersion


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
    inlines = [ArticleVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        from knowledge.services import article_version_record

        super().save_model(request, obj, form, change)
        article_version_record(article=obj, author=request.user, note="admin")
