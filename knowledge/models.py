"""Knowledge base: agent-ready answers to what citizens ask the city."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from knowledge.rendering import render_markdown
from tickets.models import Category, Department


class Article(models.Model):
    """An answer to one citizen question. Every save leaves an ArticleVersion behind.

    A published article's own fields are what the FAQ, the API and search serve. An edit of a
    published article waits in ``pending_version`` (a draft, then in review) while the
    published text stays online, until a publisher publishes the edit.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    question = models.TextField(_("question"), help_text=_("As citizens usually ask it."))
    answer = models.TextField(_("answer"))
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        verbose_name=_("owning department"),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    synonyms = models.JSONField(_("synonyms"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    review_due = models.DateField(_("review due"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, default="ko")
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="translations",
        verbose_name=_("translation of"),
        help_text=_("The Korean original this article translates."),
    )
    related = models.ManyToManyField(
        "self", blank=True, symmetrical=True, verbose_name=_("related articles")
    )
    links = models.JSONField(
        _("links"), default=list, blank=True, help_text=_('[{"label": …, "url": …}]')
    )
    pending_version = models.ForeignKey(
        "ArticleVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("edit waiting to be published"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="article_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def answer_html(self) -> str:
        """The answer's Markdown rendered and sanitised: safe to show to anyone."""
        return render_markdown(self.answer)

    @property
    def needs_review(self) -> bool:
        """Past its review date: shown to agents as '검토 필요'."""
        return self.review_due is not None and self.review_due < timezone.localdate()


class ArticleVersion(models.Model):
    """A snapshot of an article's content at one save. Its content is never edited; only a
    published article's pending edit moves its ``status`` from draft to in review and back."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    question = models.TextField()
    answer = models.TextField()
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.JSONField(default=list, blank=True)
    synonyms = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Article.Status.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article} v{self.number}"


class ArticleUse(models.Model):
    """An agent used an article in a contact (inserted its answer, linked it to a ticket)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="uses")
    contact = models.ForeignKey(
        "callcenter.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.article} used"


class SearchDocument(models.Model):
    """An article as the search index sees it: analysed terms per field, kept in the
    database so every process (and both SQLite and PostgreSQL) ranks the same way.

    Written by knowledge.search when an article is published or the index is rebuilt.
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, related_name="search_document"
    )
    terms = models.JSONField(default=dict, help_text="field name → list of analysed terms")
    length = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"index of {self.article}"


class SearchQueryLog(models.Model):
    """A search someone ran, with how many results it found (the 'no result' gap list)."""

    query = models.CharField(max_length=200)
    results = models.PositiveIntegerField()
    staff = models.BooleanField(default=False)
    # The best result matched none of the asker's own words (only a similar word, a
    # spelling guess or shared syllables): the report counts it as not answered well.
    weak = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.query} ({self.results})"


class ArticleChoice(models.Model):
    """Someone chose an article for a query: an agent inserted it after a search or a
    suggestion, or a citizen marked it helpful after searching the FAQ. The query's terms
    become evidence for the article in the search (knowledge.search.learned)."""

    class Source(models.TextChoices):
        SEARCH = "search", _("Agent inserted it after a search")
        SUGGESTION = "suggestion", _("Agent inserted a suggestion")
        HELPFUL = "helpful", _("Citizen found it helpful after a search")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="choices")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who chose, for "never from a single user in bulk": "user:<id>" or "session:<hash>".
    chooser = models.CharField(max_length=80)
    source = models.CharField(max_length=20, choices=Source.choices)
    query = models.CharField(max_length=200)  # registration numbers masked
    terms = models.JSONField(default=list)  # the query's analysed terms
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["article", "created_at"])]

    def __str__(self) -> str:
        return f"{self.query} → {self.article_id}"


class ArticleReview(models.Model):
    """A review decision on an article: approved (published) or changes requested."""

    class Decision(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.article}: {self.decision}"


class ArticleFeedback(models.Model):
    """A public reader's answer to "was this helpful?"."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.article}: {'helpful' if self.helpful else 'not helpful'}"
