"""Knowledge base pages: the staff workspace (write, review, history) and the public FAQ."""

import difflib
from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callcenter.roles import ADMINISTRATOR, AGENT, OFFICER, SUPERVISOR, role_required
from knowledge import services
from knowledge.models import Article, ArticleChoice, ArticleVersion
from knowledge.reports import unanswered_question_groups
from knowledge.search.learned import learned_for_article
from knowledge.selectors import article_search, article_search_hits
from tickets.forms import CategoryChoiceField
from tickets.models import Category, Department

STAFF = (AGENT, SUPERVISOR, OFFICER, ADMINISTRATOR)


class ArticleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    question = forms.CharField(
        label=gettext_lazy("Question as citizens ask it"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    answer = forms.CharField(
        label=gettext_lazy("Answer (Markdown)"), widget=forms.Textarea(attrs={"rows": 10})
    )
    category = CategoryChoiceField(
        label=gettext_lazy("Category"), queryset=Category.objects.select_related("parent")
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Owning department"), queryset=Department.objects.all(), required=False
    )
    tags = forms.CharField(label=gettext_lazy("Tags (comma separated)"), required=False)
    synonyms = forms.CharField(
        label=gettext_lazy("Other ways citizens say it (comma separated)"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", gettext_lazy("Save draft")))

    @staticmethod
    def split(value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()]


def _get_article_for_staff(article_id: int) -> Article:
    return get_object_or_404(
        Article.objects.exclude(status=Article.Status.ARCHIVED).select_related(
            "category__parent", "department", "pending_version__author"
        ),
        pk=article_id,
    )


@role_required(*STAFF)
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.exclude(status=Article.Status.ARCHIVED).select_related(
        "category__parent", "department"
    )
    status = request.GET.get("status", "")
    if status in Article.Status.values:
        # An edit of a published article waiting for review is in review too.
        articles = articles.filter(Q(status=status) | Q(pending_version__status=status))
    if request.GET.get("review") == "due":
        articles = articles.filter(review_due__lt=timezone.localdate())
        officer = getattr(request.user, "officer", None)
        if officer is not None:
            articles = articles.filter(department=officer.department)
    query = request.GET.get("q", "").strip()
    if query:
        ids = [a.pk for a, _score, _snip in article_search(query=query, limit=50, staff=True)]
        articles = sorted(articles.filter(pk__in=ids), key=lambda a: ids.index(a.pk))
    else:
        articles = articles.order_by("-updated_at")
    page = Paginator(articles, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/article_list.html",
        {"page": page, "query": query, "status": status, "statuses": Article.Status.choices},
    )


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    """Anyone on staff writes drafts; publishing goes through review."""
    article = _get_article_for_staff(article_id) if article_id else None
    initial = {}
    if article is not None:
        # A published article with an edit waiting: go on from the edit.
        content = article.pending_version or article
        initial = {
            "title": content.title,
            "question": content.question,
            "answer": content.answer,
            "category": content.category_id or article.category_id,
            "department": content.department_id,
            "tags": ", ".join(content.tags),
            "synonyms": ", ".join(content.synonyms),
        }
    else:
        # "Write a new article" from the report's unanswered questions.
        initial = {"question": request.GET.get("question", "")[:500]}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = services.article_save(
            article=article,
            title=data["title"],
            question=data["question"],
            answer=data["answer"],
            category=data["category"],
            department=data["department"],
            tags=ArticleForm.split(data["tags"]),
            synonyms=ArticleForm.split(data["synonyms"]),
            # A published article stays online: the edit waits as a draft for a publisher.
            status=Article.Status.DRAFT,
            author=request.user,
        )
        messages.success(request, _("Saved as version %s.") % saved.versions.first().number)
        if saved.pending_version is not None:
            messages.info(
                request,
                _("The published answer stays online until a publisher publishes your edit."),
            )
        return redirect("knowledge-article", article_id=saved.pk)
    return render(request, "knowledge/article_form.html", {"form": form, "article": article})


@role_required(*STAFF)
@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _get_article_for_staff(article_id)
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "versions": article.versions.select_related("author")[:50],
            "reviews": article.reviews.select_related("user")[:20],
            "can_publish": services.user_can_publish(request.user, article),
            "uses": article.uses.count(),
            "learned": learned_for_article(article.pk),
        },
    )


@role_required(*STAFF)
@require_POST
def article_submit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _get_article_for_staff(article_id)
    try:
        services.article_submit(
            article=article, user=request.user, comment=request.POST.get("comment", "")
        )
        messages.success(request, _("Sent to review."))
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("knowledge-article", article_id=article.pk)


@role_required(*STAFF)
@require_POST
def article_review(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _get_article_for_staff(article_id)
    try:
        services.article_review(
            article=article,
            user=request.user,
            approve=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", ""),
        )
    except PermissionError as error:
        return render(request, "403.html", {"reason": str(error)}, status=403)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Review saved."))
    return redirect("knowledge-article", article_id=article.pk)


@role_required(*STAFF)
@require_POST
def article_unpublish(request: HttpRequest, article_id: int) -> HttpResponse:
    """Take a published answer off the FAQ: a publisher's explicit step, never a save's."""
    article = _get_article_for_staff(article_id)
    try:
        services.article_unpublish(article=article, user=request.user)
    except PermissionError as error:
        return render(request, "403.html", {"reason": str(error)}, status=403)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The article was taken offline and is a draft again."))
    return redirect("knowledge-article", article_id=article.pk)


@role_required(*STAFF)
@require_POST
def article_restore(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    article = _get_article_for_staff(article_id)
    version = get_object_or_404(ArticleVersion, article=article, number=number)
    services.article_restore(article=article, version=version, user=request.user)
    messages.success(request, _("Version %s restored as a new version.") % number)
    return redirect("knowledge-article", article_id=article.pk)


@role_required(*STAFF)
@require_GET
def article_diff(request: HttpRequest, article_id: int) -> HttpResponse:
    """Line-by-line differences between two versions (?a=1&b=2)."""
    article = _get_article_for_staff(article_id)
    numbers = list(article.versions.values_list("number", flat=True))
    try:
        a = int(request.GET.get("a", min(numbers)))
        b = int(request.GET.get("b", max(numbers)))
    except ValueError:
        return HttpResponse(_("Versions are numbers."), status=400)
    old = get_object_or_404(ArticleVersion, article=article, number=a)
    new = get_object_or_404(ArticleVersion, article=article, number=b)

    def lines(version: ArticleVersion) -> list[str]:
        return [f"# {version.title}", "", version.question, "", *version.answer.splitlines()]

    diff = list(difflib.unified_diff(lines(old), lines(new), f"v{a}", f"v{b}", lineterm=""))
    return render(
        request,
        "knowledge/article_diff.html",
        {"article": article, "old": old, "new": new, "diff": diff, "numbers": numbers},
    )


REPORT_PERIODS = (7, 30, 90)


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def knowledge_report(request: HttpRequest) -> HttpResponse:
    """What agents use, what they never use, what is stale, and the questions with no good
    answer over the last 7, 30 or 90 days (``?days=``), grouped by need."""
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 0
    if days not in REPORT_PERIODS:
        return HttpResponse(_("The period is 7, 30 or 90 days."), status=400)
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    return render(
        request,
        "knowledge/report.html",
        {
            "most_used": published.annotate(n=Count("uses")).filter(n__gt=0).order_by("-n")[:15],
            "never_used": published.annotate(n=Count("uses")).filter(n=0).order_by("title")[:30],
            "stale": published.filter(review_due__lt=timezone.localdate()).order_by("review_due"),
            "helpful": published.annotate(
                yes=Count("feedback", filter=Q(feedback__helpful=True)),
                no=Count("feedback", filter=Q(feedback__helpful=False)),
            )
            .filter(Q(yes__gt=0) | Q(no__gt=0))
            .order_by("-no")[:15],
            "days": days,
            "periods": REPORT_PERIODS,
            "unanswered": unanswered_question_groups(since=timezone.now() - timedelta(days=days)),
        },
    )


# --- public FAQ ------------------------------------------------------------------------------
@require_GET
def faq_index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    category_code = request.GET.get("category", "")
    published = Article.objects.filter(status=Article.Status.PUBLISHED, language="ko")
    results = []
    if query:
        hits = article_search_hits(query=query, limit=20, staff=False)
        services.search_query_log(query=query, hits=hits, staff=False)
        # A result found only through similar or English words says so: the citizen's
        # own words are not in it.
        results = [
            {
                "article": hit.article,
                "snippet": hit.snippet,
                "found_through": hit.found_through,
            }
            for hit in hits
        ]
    elif category_code:
        results = [
            {"article": article, "snippet": "", "found_through": ""}
            for article in published.filter(
                Q(category__code=category_code) | Q(category__parent__code=category_code)
            ).order_by("title")
        ]
    roots = (
        Category.objects.filter(parent=None, is_public=True)
        .prefetch_related("children")
        .annotate(n=Count("children__articles", filter=Q(children__articles__in=published)))
    )
    return render(
        request,
        "knowledge/faq_index.html",
        {"query": query, "results": results, "roots": roots, "category_code": category_code},
    )


@require_GET
def faq_article(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.select_related("category__parent", "department"),
        pk=article_id,
        status=Article.Status.PUBLISHED,
    )
    related = article.related.filter(status=Article.Status.PUBLISHED)[:5]
    # A reader using the English interface gets the English translation when there is one.
    translation = article.translations.filter(
        language=request.LANGUAGE_CODE, status=Article.Status.PUBLISHED
    ).first()
    return render(
        request,
        "knowledge/faq_article.html",
        {
            "article": article,
            "shown": translation or article,
            "related": related,
            # The search that led here: a "yes, helpful" teaches the search these words.
            "query": request.GET.get("q", "").strip()[:200],
        },
    )


@require_POST
def faq_helpful(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=article_id, status=Article.Status.PUBLISHED)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return HttpResponse(_("Answer yes or no."), status=400)
    services.article_feedback(article=article, helpful=answer == "yes")
    query = request.POST.get("q", "").strip()[:200]
    if answer == "yes" and query:
        if not request.session.session_key:
            request.session.save()  # a citizen without a session counts as one chooser too
        services.article_choice_record(
            article=article,
            query=query,
            source=ArticleChoice.Source.HELPFUL,
            session_key=request.session.session_key,
        )
    messages.success(request, _("Thank you for your feedback."))
    return redirect("faq-article", article_id=article.pk)
