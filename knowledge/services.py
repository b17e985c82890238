"""Writes for the knowledge base. Every change of an article records a version."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import User
from knowledge.models import Article, ArticleFeedback, ArticleReview, ArticleVersion
from knowledge.search import search_document_update
from tickets.models import Category, Department

# Published answers are checked again after this many days ("검토 필요" once past due).
REVIEW_EVERY_DAYS = 180


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
        search_document_update(article)
    return article


def user_can_publish(user, article: Article) -> bool:
    """Supervisors and administrators publish anything; an officer, their department's."""
    from callcenter.roles import ADMINISTRATOR, OFFICER, SUPERVISOR, user_roles

    roles = user_roles(user)
    if roles & {SUPERVISOR, ADMINISTRATOR}:
        return True
    if OFFICER in roles and article.department_id is not None:
        officer = getattr(user, "officer", None)
        return officer is not None and officer.department_id == article.department_id
    return False


def article_submit(*, article: Article, user, comment: str = "") -> Article:
    """An author sends a draft to review."""
    if article.status not in (Article.Status.DRAFT, Article.Status.IN_REVIEW):
        raise ValueError(_("Only a draft can be sent to review."))
    with transaction.atomic():
        article.status = Article.Status.IN_REVIEW
        article.save(update_fields=["status", "updated_at"])
        search_document_update(article)
        ArticleReview.objects.create(
            article=article, user=user, decision=ArticleReview.Decision.SUBMITTED, comment=comment
        )
    return article


def article_review(*, article: Article, user, approve: bool, comment: str = "") -> Article:
    """The owning department or a supervisor approves (publishes) or asks for changes."""
    if not user_can_publish(user, article):
        raise PermissionError(_("Only the owning department or a supervisor can review this."))
    if article.status not in (Article.Status.IN_REVIEW, Article.Status.DRAFT):
        raise ValueError(_("Only drafts and articles in review can be reviewed."))
    if not approve and not comment.strip():
        raise ValueError(_("Say what should change."))
    with transaction.atomic():
        if approve:
            article.status = Article.Status.PUBLISHED
            article.published_at = timezone.now()
            article.review_due = timezone.localdate() + timedelta(days=REVIEW_EVERY_DAYS)
            article.save(update_fields=["status", "published_at", "review_due", "updated_at"])
            article_version_record(article=article, author=user, note=_("published"))
        else:
            article.status = Article.Status.DRAFT
            article.save(update_fields=["status", "updated_at"])
        # The index decides by status who may find the article.
        search_document_update(article)
        ArticleReview.objects.create(
            article=article,
            user=user,
            decision=ArticleReview.Decision.APPROVED
            if approve
            else ArticleReview.Decision.CHANGES_REQUESTED,
            comment=comment.strip(),
        )
    return article


def article_restore(*, article: Article, version: ArticleVersion, user) -> Article:
    """Bring back an old version's text as a new version. Someone who cannot publish gets a
    draft to send to review; a publisher's restore goes live as it is."""
    if version.article_id != article.pk:
        raise ValueError(_("That version belongs to another article."))
    status = article.status if user_can_publish(user, article) else Article.Status.DRAFT
    return article_save(
        article=article,
        title=version.title,
        question=version.question,
        answer=version.answer,
        category=article.category,
        department=article.department,
        tags=article.tags,
        synonyms=article.synonyms,
        status=status,
        author=user,
        note=_("restored version %(number)s") % {"number": version.number},
    )


def article_feedback(*, article: Article, helpful: bool) -> None:
    ArticleFeedback.objects.create(article=article, helpful=helpful)
