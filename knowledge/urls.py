from django.urls import path

from knowledge import views, views_learned

urlpatterns = [
    path("", views.article_list, name="knowledge-list"),
    path("new/", views.article_edit, name="knowledge-new"),
    path("report/", views.knowledge_report, name="knowledge-report"),
    path("learned/", views_learned.learned_index, name="knowledge-learned"),
    path("<int:article_id>/", views.article_detail, name="knowledge-article"),
    path("<int:article_id>/edit/", views.article_edit, name="knowledge-edit"),
    path("<int:article_id>/submit/", views.article_submit, name="knowledge-submit"),
    path("<int:article_id>/review/", views.article_review, name="knowledge-review"),
    path("<int:article_id>/unpublish/", views.article_unpublish, name="knowledge-unpublish"),
    path("<int:article_id>/diff/", views.article_diff, name="knowledge-diff"),
    path(
        "<int:article_id>/learned/reset/",
        views_learned.learned_reset,
        name="knowledge-learned-reset",
    ),
    path(
        "<int:article_id>/versions/<int:number>/restore/",
        views.article_restore,
        name="knowledge-restore",
    ),
]

faq_urlpatterns = [
    path("", views.faq_index, name="faq"),
    path("<int:article_id>/", views.faq_article, name="faq-article"),
    path("<int:article_id>/helpful/", views.faq_helpful, name="faq-helpful"),
]
