"""What the search learned from choices, for knowledge managers: see it, and reset it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from callcenter.roles import ADMINISTRATOR, SUPERVISOR, role_required
from knowledge import services
from knowledge.models import Article
from knowledge.search.learned import learned_articles, learned_for_article

MANAGERS = (SUPERVISOR, ADMINISTRATOR)


@role_required(*MANAGERS)
@require_GET
def learned_index(request: HttpRequest) -> HttpResponse:
    """Articles with learned words, the latest chosen first."""
    page = Paginator(learned_articles(), 50).get_page(request.GET.get("page"))
    articles = Article.objects.in_bulk([row["article_id"] for row in page])
    rows = [
        {
            **row,
            "article": articles[row["article_id"]],
            "words": learned_for_article(row["article_id"], examples=0),
        }
        for row in page
        if row["article_id"] in articles
    ]
    return render(request, "knowledge/learned.html", {"page": page, "rows": rows})


@role_required(*MANAGERS)
@require_POST
def learned_reset(request: HttpRequest, article_id: int) -> HttpResponse:
    """Forget every choice of one article: its learned words stop counting at once."""
    article = get_object_or_404(Article, pk=article_id)
    deleted = services.article_choices_reset(article=article, user=request.user)
    messages.success(
        request,
        _("Forgot %(n)d choices of “%(title)s”.") % {"n": deleted, "title": article.title},
    )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("knowledge-learned")
