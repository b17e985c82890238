"""Reads for the knowledge base."""

import html
import re

from django.db.models import Q, QuerySet

from knowledge.models import Article

SNIPPET_CHARS = 120


def visible_articles(*, staff: bool) -> QuerySet[Article]:
    """Staff see drafts and reviews (flagged); the public sees published articles only."""
    articles = Article.objects.exclude(status=Article.Status.ARCHIVED)
    return articles if staff else articles.filter(status=Article.Status.PUBLISHED)


def _terms(query: str) -> list[str]:
    return [term for term in re.split(r"\s+", query.strip()) if term][:8]


def _score(article: Article, terms: list[str]) -> float:
    score = 0.0
    fields = (
        (article.title, 3.0),
        (article.question, 2.0),
        (" ".join(article.tags + article.synonyms), 2.0),
        (article.answer, 1.0),
    )
    for term in terms:
        for value, weight in fields:
            if term.lower() in value.lower():
                score += weight
    return score


def snippet(article: Article, terms: list[str]) -> str:
    """A piece of the answer around the first matched term, terms wrapped in <mark>."""
    text = re.sub(r"\s+", " ", article.answer)
    lowered = text.lower()
    positions = [lowered.find(t.lower()) for t in terms if lowered.find(t.lower()) >= 0]
    start = max(0, min(positions) - 30) if positions else 0
    piece = text[start : start + SNIPPET_CHARS]
    escaped = html.escape(piece)
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.sub(
            re.escape(html.escape(term)),
            lambda m: f"<mark>{m.group(0)}</mark>",
            escaped,
            flags=re.IGNORECASE,
        )
    return ("…" if start else "") + escaped + ("…" if start + SNIPPET_CHARS < len(text) else "")


def article_search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """Articles matching any term of ``query``, best first, with a highlighted snippet.

    A plain substring match over title, question, tags, synonyms and answer, weighted in
    that order; Korean morphology comes with the knowledge base's own search index.
    """
    terms = _terms(query)
    if not terms:
        return []
    articles = visible_articles(staff=staff).select_related("category")
    if category:
        articles = articles.filter(Q(category__code=category) | Q(category__parent__code=category))
    scored = [(a, _score(a, terms)) for a in articles.iterator(chunk_size=500)]
    scored = [(a, s) for a, s in scored if s > 0]
    scored.sort(key=lambda pair: (-pair[1], pair[0].title))
    return [(a, round(s, 3), snippet(a, terms)) for a, s in scored[:limit]]


SUGGESTION_COUNT = 3


def suggestions_for_contact(contact) -> tuple[str, list[dict]]:
    """Articles for what the citizen has said so far (their last few messages)."""
    texts = list(
        contact.messages.filter(sender="citizen", internal=False)
        .order_by("-id")
        .values_list("text", flat=True)[:3]
    )
    query = " ".join(reversed(texts))[-200:]
    if not query.strip():
        return "", []
    results = article_search(query=query, limit=SUGGESTION_COUNT, staff=True)
    return query, [
        {
            "id": article.pk,
            "external_id": article.external_id,
            "title": article.title,
            "snippet": snip,
            "score": score,
            "status": article.status,
            "needs_review": article.needs_review,
            "url": f"/faq/{article.pk}/",
            "answer": article.answer,
        }
        for article, score, snip in results
    ]
