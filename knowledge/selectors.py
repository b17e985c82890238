"""Reads for the knowledge base."""

from callcenter.models import Message
from callcenter.pii import mask_registration_numbers
from knowledge.models import Article
from knowledge.search import SearchHit, search, search_hits


def article_search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """Articles answering ``query``, best first, with a score and a highlighted snippet.

    Korean-aware (morphemes, spacing, synonyms, small typos): see ``knowledge.search``.
    """
    return search(query=query, limit=limit, category=category, staff=staff)


def article_search_hits(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[SearchHit]:
    """Like :func:`article_search`, each result also saying why it matched (``hit.why``) and
    whether the match is weak (``hit.weak``: none of the asker's own words)."""
    return search_hits(query=query, limit=limit, category=category, staff=staff)


SUGGESTION_COUNT = 3


def suggestions_for_contact(contact_id: int) -> tuple[str, list[dict]]:
    """Articles for what the citizen has said so far (their last few messages)."""
    texts = list(
        Message.objects.filter(contact_id=contact_id, sender="citizen", internal=False)
        .order_by("-id")
        .values_list("text", flat=True)[:3]
    )
    # Masked before it is cut: the query goes out in the suggestions frame.
    query = mask_registration_numbers(" ".join(reversed(texts)))[-200:]
    if not query.strip():
        return "", []
    hits = article_search_hits(query=query, limit=SUGGESTION_COUNT, staff=True)
    return query, [article_result(hit, staff=True) for hit in hits]


def article_result(hit: SearchHit, *, staff: bool) -> dict:
    """One search result as the API and the console's suggestions show it; ``why`` says
    what it matched (the caller's words, similar or translated words, corrected spelling,
    how many agents and citizens chose it for these words)."""
    article = hit.article
    return {
        "id": article.pk,
        "external_id": article.external_id,
        "title": article.title,
        "snippet": hit.snippet,
        "score": hit.score,
        "status": article.status,
        "needs_review": article.needs_review,
        "url": f"/faq/{article.pk}/",
        "answer": article.answer if staff else None,
        "why": hit.why,
    }
