"""Writes for the knowledge base. Every change of an article records a version."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from callcenter.models import User
from knowledge.models import Article, ArticleVersion
from tickets.models import Category, Department


def article_version_record(
    *, article: Article, author: User | None, note: str = ""
) -> ArticleVersion:
    """Snapshot ``article`` as its next version."""
    with transaction.atomic():
        # Lock the article row so two saves cannot take the same version number.
        Article.objects.select_for_update().filter(pk=article.pk).exists()
        last = article.versions.aggregate(n=Max("number"))["n"] or 0
        return ArticleVersion.objects.create(
            article=article,
            number=last + 1,
            title=article.title,
            question=article.question,
            answer=article.answer,
            status=article.status,
            author=author,
            note=note,
        )


def article_save(
    *,
    title: str,
    question: str,
    answer: str,
    author: User | None,
    article: Article | None = None,
    category: Category | None = None,
    department: Department | None = None,
    tags: list[str] | None = None,
    synonyms: list[str] | None = None,
    status: str = Article.Status.DRAFT,
    external_id: str = "",
    note: str = "",
) -> Article:
    """Create or update an article and record the result as a new version."""
    article = article or Article()
    article.title = title.strip()
    article.question = question.strip()
    article.answer = answer.strip()
    article.category = category
    article.department = department
    article.tags = list(tags or [])
    article.synonyms = list(synonyms or [])
    article.external_id = external_id or article.external_id
    if status == Article.Status.PUBLISHED and article.status != Article.Status.PUBLISHED:
        article.published_at = timezone.now()
    article.status = status
    article.full_clean()
    with transaction.atomic():
        article.save()
        article_version_record(article=article, author=author, note=note)
    return article
