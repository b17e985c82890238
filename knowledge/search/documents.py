"""The analysed terms of articles in SearchDocument rows: writes, rebuilds, staleness."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from knowledge.models import Article, SearchDocument
from knowledge.search.analysis import (
    CACHE_KEY,
    TEXT_FIELDS,
    analyse_article,
    analyse_articles,
    document_length,
)

logger = logging.getLogger(__name__)

# --- writes ---------------------------------------------------------------------------------


# Called after every write: the process's index checks its freshness at the next search.
_listeners: list[Callable[[], None]] = []


def on_documents_changed(listener: Callable[[], None]) -> None:
    _listeners.append(listener)


def cache_token(key: str) -> str | None:
    """The current value of a freshness token in Django's cache (None when it is down)."""
    try:
        token = cache.get(key)
        if token is None:
            cache.add(key, uuid.uuid4().hex, None)
            token = cache.get(key)
        return token
    except Exception:
        logger.warning("search: cache unavailable; checking the database instead", exc_info=True)
        return None


def cache_token_bump(key: str) -> None:
    """A new value for a freshness token: other processes reload at their next check."""
    try:
        cache.set(key, uuid.uuid4().hex, None)
    except Exception:  # a cache outage must not break a save; the DB check still runs
        logger.warning("search: could not bump the token %s", key, exc_info=True)


def _token_bump() -> None:
    cache_token_bump(CACHE_KEY)
    for listener in _listeners:
        listener()


def _changed() -> None:
    _token_bump()
    transaction.on_commit(_token_bump)  # other processes may reload only after commit


def _documents_write(pairs: list[tuple[int, dict[str, list[str]]]]) -> None:
    now = timezone.now()
    SearchDocument.objects.bulk_create(
        [
            SearchDocument(
                article_id=article_id, terms=terms, length=document_length(terms), updated_at=now
            )
            for article_id, terms in pairs
        ],
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["terms", "length", "updated_at"],
    )


def search_document_update(article: Article) -> SearchDocument | None:
    """Re-analyse ``article`` into its SearchDocument; call after every save of an article.

    An archived article leaves the index (its document is deleted). Cheap enough to call
    inside the saving transaction (a few milliseconds of analysis).
    """
    if article.pk is None:
        raise ValueError("Save the article before indexing it.")
    if article.status == Article.Status.ARCHIVED:
        SearchDocument.objects.filter(article_id=article.pk).delete()
        _changed()
        return None
    terms = analyse_article(article)
    defaults = {"terms": terms, "length": document_length(terms)}
    try:
        with transaction.atomic():
            document, _ = SearchDocument.objects.update_or_create(
                article_id=article.pk, defaults=defaults
            )
    except IntegrityError:  # another process created it in between
        document = SearchDocument.objects.get(article_id=article.pk)
        document.terms, document.length = defaults["terms"], defaults["length"]
        document.save()
    _changed()
    return document


def _stale_article_ids() -> list[int]:
    """Visible articles without a document, or saved after their document was written."""
    return list(
        Article.objects.exclude(status=Article.Status.ARCHIVED)
        .filter(
            Q(search_document__isnull=True) | Q(search_document__updated_at__lt=F("updated_at"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def search_documents_write(article_ids: Sequence[int], *, batch_size: int = 200) -> int:
    """Analyse the given articles in batches and upsert their documents; returns how many."""
    done = 0
    for start in range(0, len(article_ids), batch_size):
        batch = list(Article.objects.filter(pk__in=article_ids[start : start + batch_size]))
        _documents_write(
            [
                (article.pk, terms)
                for article, terms in zip(batch, analyse_articles(batch), strict=True)
            ]
        )
        done += len(batch)
    return done


def search_index_rebuild(
    *, batch_size: int = 200, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Re-analyse every non-archived article; drop documents of archived ones."""
    started = time.perf_counter()
    removed, _ = SearchDocument.objects.filter(article__status=Article.Status.ARCHIVED).delete()
    ids = list(
        Article.objects.exclude(status=Article.Status.ARCHIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    vocabulary: set[str] = set()
    for start in range(0, len(ids), batch_size):
        batch = list(Article.objects.filter(pk__in=ids[start : start + batch_size]))
        analysed = analyse_articles(batch)
        _documents_write(
            [(article.pk, terms) for article, terms in zip(batch, analysed, strict=True)]
        )
        for terms in analysed:
            for name in TEXT_FIELDS:
                vocabulary.update(terms[name])
        if progress:
            progress(len(batch))
    _changed()
    by_status = dict(
        Article.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    )
    return {
        "indexed": len(ids),
        "removed": removed,
        "by_status": by_status,
        "terms": len(vocabulary),
        "seconds": round(time.perf_counter() - started, 2),
    }
