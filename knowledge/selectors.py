"""Reads for the knowledge base."""

from callcenter.models import Message
from callcenter.pii import mask_registration_numbers
from knowledge.models import Article
from knowledge.search import search


def article_search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """Articles answering ``query``, best first, with a score and a highlighted snippet.

    Korean-aware (morphemes, spacing, synonyms, small typos): see ``knowledge.search``.
    """
    return search(query=query, limit=limit, category=category, staff=staff)


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
    results = article_search(query=query, limit=SUGGESTION_COUNT, staff=True)
    return query, [article_result(a, score, snip, staff=True) for a, score, snip in results]


def article_result(article: Article, score: float, snip: str, *, staff: bool) -> dict:
    """One search result as the API and the console's suggestions show it."""
    return {
        "id": article.pk,
        "external_id": article.external_id,
        "title": article.title,
        "snippet": snip,
        "score": score,
        "status": article.status,
        "needs_review": article.needs_review,
        "url": f"/faq/{article.pk}/",
        "answer": article.answer if staff else None,
    }
