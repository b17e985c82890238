"""Writes for the knowledge base. Every change of an article records a version."""

import hashlib
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.models import Contact, User
from callcenter.pii import find_registration_numbers, mask_registration_numbers
from callcenter.roles import ADMINISTRATOR, OFFICER, SUPERVISOR, user_roles
from knowledge.models import (
    Article,
    ArticleChoice,
    ArticleFeedback,
    ArticleReview,
    ArticleUse,
    ArticleVersion,
    SearchQueryLog,
)
from knowledge.search import SearchHit, query_terms, search_document_update
from knowledge.search.learned import learned_changed
from tickets.models import Category, Department

logger = logging.getLogger(__name__)

# Published answers are checked again after this many days ("검토 필요" once past due).
REVIEW_EVERY_DAYS = 180
# What publishing a pending edit changes on the article row.
CONTENT_FIELDS = [
    "title",
    "question",
    "answer",
    "category",
    "department",
    "tags",
    "synonyms",
    "pending_version",
]


def article_version_record(
    *, article: Article, author: User | None, note: str = "", status: str | None = None
) -> ArticleVersion:
    """Snapshot ``article``'s fields as its next version (with ``status`` when given)."""
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
            category=article.category,
            department=article.department,
            tags=article.tags,
            synonyms=article.synonyms,
            status=status or article.status,
            author=author,
            note=note,
        )


def _fill(article: Article, **fields) -> None:
    article.title = fields["title"].strip()
    article.question = fields["question"].strip()
    article.answer = fields["answer"].strip()
    article.category = fields["category"]
    article.department = fields["department"]
    article.tags = list(fields["tags"] or [])
    article.synonyms = list(fields["synonyms"] or [])


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
    """Create or update an article and record the result as a new version.

    Saving a published article as a draft leaves it online unchanged: the edit becomes its
    pending version until a publisher publishes it. Archiving stays an explicit status."""
    fields = {
        "title": title,
        "question": question,
        "answer": answer,
        "category": category,
        "department": department,
        "tags": tags,
        "synonyms": synonyms,
    }
    editing_live = article is not None and article.status == Article.Status.PUBLISHED
    if editing_live and status in (Article.Status.DRAFT, Article.Status.IN_REVIEW):
        return _pending_save(article=article, author=author, note=note, fields=fields)
    article = article or Article()
    _fill(article, **fields)
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


def _pending_save(*, article: Article, author: User | None, note: str, fields: dict) -> Article:
    """Record an edit of a published article as its pending draft; the article's own
    (published) fields, and so the FAQ and the search index, stay as they are."""
    edit = Article.objects.get(pk=article.pk)
    _fill(edit, **fields)
    edit.full_clean()
    with transaction.atomic():
        version = article_version_record(
            article=edit, author=author, note=note, status=Article.Status.DRAFT
        )
        Article.objects.filter(pk=article.pk).update(
            pending_version=version, updated_at=timezone.now()
        )
    article.pending_version = version
    return article


def user_can_publish(user, article: Article) -> bool:
    """Supervisors and administrators publish anything; an officer, their department's."""
    roles = user_roles(user)
    if roles & {SUPERVISOR, ADMINISTRATOR}:
        return True
    if OFFICER in roles and article.department_id is not None:
        officer = getattr(user, "officer", None)
        return officer is not None and officer.department_id == article.department_id
    return False


def article_submit(*, article: Article, user, comment: str = "") -> Article:
    """An author sends a draft (or a published article's pending edit) to review."""
    pending = article.pending_version
    if pending is None and article.status not in (Article.Status.DRAFT, Article.Status.IN_REVIEW):
        raise ValueError(_("Only a draft can be sent to review."))
    with transaction.atomic():
        if pending is not None:
            pending.status = Article.Status.IN_REVIEW
            pending.save(update_fields=["status"])
        else:
            article.status = Article.Status.IN_REVIEW
            article.save(update_fields=["status", "updated_at"])
            search_document_update(article)
        ArticleReview.objects.create(
            article=article, user=user, decision=ArticleReview.Decision.SUBMITTED, comment=comment
        )
    return article


def _pending_publish(*, article: Article) -> None:
    """The pending edit's content becomes the published article's."""
    pending = article.pending_version
    article.title, article.question, article.answer = (
        pending.title,
        pending.question,
        pending.answer,
    )
    article.category_id, article.department_id = pending.category_id, pending.department_id
    article.tags, article.synonyms = pending.tags, pending.synonyms
    article.pending_version = None
    article.full_clean()


def article_review(*, article: Article, user, approve: bool, comment: str = "") -> Article:
    """The owning department or a supervisor approves (publishes) or asks for changes."""
    if not user_can_publish(user, article):
        raise PermissionError(_("Only the owning department or a supervisor can review this."))
    pending = article.pending_version
    if pending is None and article.status not in (Article.Status.IN_REVIEW, Article.Status.DRAFT):
        raise ValueError(_("Only drafts and articles in review can be reviewed."))
    if not approve and not comment.strip():
        raise ValueError(_("Say what should change."))
    with transaction.atomic():
        if approve:
            if pending is not None:
                _pending_publish(article=article)
            article.status = Article.Status.PUBLISHED
            article.published_at = timezone.now()
            article.review_due = timezone.localdate() + timedelta(days=REVIEW_EVERY_DAYS)
            article.save(
                update_fields=[
                    *CONTENT_FIELDS,
                    "status",
                    "published_at",
                    "review_due",
                    "updated_at",
                ]
            )
            article_version_record(article=article, author=user, note=_("published"))
        elif pending is not None:
            pending.status = Article.Status.DRAFT
            pending.save(update_fields=["status"])
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


def article_unpublish(*, article: Article, user) -> Article:
    """A publisher takes a published answer off the FAQ; it becomes a draft again (with its
    pending edit's content, if there is one)."""
    if not user_can_publish(user, article):
        raise PermissionError(_("Only the owning department or a supervisor can unpublish this."))
    if article.status != Article.Status.PUBLISHED:
        raise ValueError(_("Only a published article can be taken offline."))
    with transaction.atomic():
        if article.pending_version is not None:
            _pending_publish(article=article)
        article.status = Article.Status.DRAFT
        article.save(update_fields=[*CONTENT_FIELDS, "status", "updated_at"])
        article_version_record(article=article, author=user, note=_("taken offline"))
        search_document_update(article)
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


def article_use_record(
    *, article: Article, user: User, contact: Contact | None = None
) -> ArticleUse:
    """Count that ``user`` used the article in a reply (to ``contact`` when known): the
    report's most-used answers come from these rows."""
    return ArticleUse.objects.create(article=article, contact=contact, user=user)


def search_query_log(*, query: str, hits: list[SearchHit], staff: bool) -> SearchQueryLog:
    """Remember a search and what it found (the report's questions with no good answer:
    none, or a best result that matched none of the asker's own words), registration
    numbers masked: citizens paste them into the FAQ search box too."""
    return SearchQueryLog.objects.create(
        query=mask_registration_numbers(query)[:200],
        results=len(hits),
        staff=staff,
        weak=bool(hits) and hits[0].weak,
    )


def _without_registration_numbers(text: str) -> str:
    """``text`` with its registration numbers cut out: not even a birth date becomes a term."""
    parts, position = [], 0
    for number in find_registration_numbers(text):
        parts += [text[position : number.start], " "]
        position = number.end
    parts.append(text[position:])
    return "".join(parts)


def article_choice_record(
    *,
    article: Article,
    query: str,
    source: str,
    user: User | None = None,
    session_key: str = "",
) -> ArticleChoice | None:
    """Someone chose ``article`` for ``query``: an agent inserted it (``user``), or a citizen
    found it helpful (``session_key``). The query's terms become evidence for the article
    (knowledge.search.learned). Nothing is stored for a query without words."""
    if source not in ArticleChoice.Source.values:
        raise ValueError(f"unknown source {source!r}")
    if user is not None and user.is_authenticated:
        chooser = f"user:{user.pk}"
    elif session_key:
        chooser = "session:" + hashlib.sha256(session_key.encode()).hexdigest()
    else:
        raise ValueError("a choice needs a user or a session")
    query = (query or "").strip()[:200]
    terms = query_terms(_without_registration_numbers(query)) if query else []
    if not terms:
        return None
    choice = ArticleChoice.objects.create(
        article=article,
        user=user if chooser.startswith("user:") else None,
        chooser=chooser,
        source=source,
        query=mask_registration_numbers(query),
        terms=terms,
    )
    learned_changed()
    return choice


def article_choices_reset(*, article: Article, user: User) -> int:
    """A knowledge manager drops what the search learned for ``article``; returns how many
    choices were deleted."""
    deleted, _by_model = ArticleChoice.objects.filter(article=article).delete()
    logger.info(
        "knowledge: %s reset the learned evidence of article %s (%d choices)",
        user,
        article.pk,
        deleted,
    )
    learned_changed()
    return deleted
