"""JSON API of the knowledge base."""

import time

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from callcenter.models import Contact
from callcenter.roles import ADMINISTRATOR, AGENT, OFFICER, SUPERVISOR, role_required, user_roles
from knowledge.models import Article, ArticleChoice
from knowledge.selectors import article_result, article_search_hits
from knowledge.services import article_choice_record, article_use_record, search_query_log

MAX_LIMIT = 20
STAFF = {AGENT, SUPERVISOR, OFFICER, ADMINISTRATOR}
CHOICE_SOURCES = {ArticleChoice.Source.SEARCH, ArticleChoice.Source.SUGGESTION}


@require_GET
def search(request: HttpRequest) -> JsonResponse:
    """GET /api/knowledge/search?q=…&limit=5[&category=…]; drafts only for staff, flagged."""
    started = time.perf_counter()
    query = request.GET.get("q", "").strip()
    try:
        limit = int(request.GET.get("limit", "5"))
    except ValueError:
        return JsonResponse({"error": "limit must be a whole number"}, status=400)
    if not 1 <= limit <= MAX_LIMIT:
        return JsonResponse({"error": f"limit must be between 1 and {MAX_LIMIT}"}, status=400)
    if len(query) > 200:
        return JsonResponse({"error": "q is limited to 200 characters"}, status=400)
    staff = bool(user_roles(request.user) & STAFF)
    hits = article_search_hits(
        query=query, limit=limit, category=request.GET.get("category", ""), staff=staff
    )
    if query:
        search_query_log(query=query, hits=hits, staff=staff)
    return JsonResponse(
        {
            "query": query,
            "results": [article_result(hit, staff=staff) for hit in hits],
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@role_required(AGENT, SUPERVISOR)
@require_POST
def article_use(request: HttpRequest, article_id: int) -> JsonResponse:
    """Count that an agent used an article in a contact (inserted into a reply)."""
    article = get_object_or_404(Article, pk=article_id)
    contact = None
    raw = request.POST.get("contact_id", "")
    if raw:
        if not raw.isdigit():
            return JsonResponse({"error": "contact_id must be a number"}, status=400)
        contact = get_object_or_404(Contact, pk=int(raw))
    # The query that listed the article, if any: its words become evidence for the article.
    query = request.POST.get("query", "").strip()
    source = request.POST.get("source", "")
    if len(query) > 200:
        return JsonResponse({"error": "query is limited to 200 characters"}, status=400)
    if (query or source) and source not in CHOICE_SOURCES:
        return JsonResponse({"error": "source must be 'search' or 'suggestion'"}, status=400)
    use = article_use_record(article=article, user=request.user, contact=contact)
    if query:
        article_choice_record(article=article, query=query, source=source, user=request.user)
    return JsonResponse({"id": use.pk, "uses": article.uses.count()}, status=201)
