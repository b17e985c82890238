"""Tickets: the city's record of what a citizen asked and what was done."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from callcenter.models import Channel, Citizen, Contact
from tickets.sla import OFFICE_HOURS, WorkingTime, closed_dates


class Department(models.Model):
    """A city department that tickets can be transferred to (이관)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Officer(models.Model):
    """A department officer's membership: the one department whose inbox they work."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="officers")

    class Meta:
        verbose_name = _("department officer")
        verbose_name_plural = _("department officers")

    def __str__(self) -> str:
        return f"{self.user} ({self.department})"


class Category(models.Model):
    """A node of the inquiry category tree (교통 › 주정차, 세무 › 자동차세, …)."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=80)
    code = models.SlugField(max_length=60, unique=True)
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Offered to citizens and Open311 apps.")
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("What this service is, for Open311 apps.")
    )
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Comma-separated, for Open311.")
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_name_unique_in_parent"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent=None), name="category_root_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        """'세무/자동차세': the names from the root down, as imports and exports spell it."""
        names = []
        node: Category | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "/".join(reversed(names))

    @property
    def path_sort_key(self) -> tuple:
        """Sorts a tree's nodes as a list of paths: level by level, by the admin's sort order
        and then by name (Unicode order, which is 가나다 order for Hangul)."""
        levels = []
        node: Category | None = self
        while node is not None:
            levels.append((node.sort_order, node.name))
            node = node.parent
        return tuple(reversed(levels))


class TicketCounter(models.Model):
    """The last ticket number issued in a year; locked while a ticket is numbered.

    Incremented inside the transaction that inserts the ticket, so a rolled-back ticket
    gives its number back and the yearly sequence has no gaps.
    """

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    """What a citizen asked and what was done; may span several contacts."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        TRANSFERRED = "transferred", _("Transferred")
        ANSWERED = "answered", _("Answered by department")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    answer = models.TextField(_("answer given"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel of origin"), max_length=20, choices=Channel.choices)
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="tickets", verbose_name=_("contacts")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("department"),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    repeat_contacts = models.PositiveIntegerField(
        _("repeat contacts"),
        default=0,
        help_text=_("Later contacts from the same citizen on the same category within 7 days."),
    )
    # Where the problem is (Open311 requests, field complaints).
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_id = models.CharField(_("address id"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("service attributes"), default=dict, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(
        _("SLA paused at"),
        null=True,
        blank=True,
        help_text=_("Set while the ticket waits for the citizen; the clocks stand still."),
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["department", "status"]),
            # Reports and their rollups: FCR's "new ticket from the same citizen within 7 days",
            # tickets resolved and overdue by time
            models.Index(fields=["citizen", "created_at"], name="ticket_citizen_created"),
            models.Index(fields=["resolved_at"], name="ticket_resolved_at"),
            models.Index(fields=["resolution_due"], name="ticket_resolution_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_active(self) -> bool:
        """Still owed work: not resolved, closed or merged into another ticket."""
        return self.status in ACTIVE_STATUSES and self.merged_into_id is None

    @property
    def is_overdue(self) -> bool:
        return (
            self.is_active
            and self.sla_paused_at is None
            and self.resolution_due is not None
            and self.resolution_due < timezone.now()
        )


ACTIVE_STATUSES = frozenset(
    {Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.TRANSFERRED, Ticket.Status.ANSWERED}
)


class TicketEvent(models.Model):
    """One step in a ticket's history: who did what, when. Append-only.

    ``public`` marks what the citizen may see (answers given to them): the tracking page and
    Open311's status_notes show only public events; comments are internal notes.
    """

    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        TRANSFERRED = "transferred", _("Transferred to a department")
        COMMENTED = "commented", _("Comment")
        ANSWERED = "answered", pgettext_lazy("ticket event", "Answered")
        CONTACT_LINKED = "contact_linked", _("Contact linked")
        REOPENED = "reopened", _("Reopened")
        MERGED = "merged", _("Merged")
        INFO_REQUESTED = "info_requested", _("More information requested")
        INFO_PROVIDED = "info_provided", _("Information provided")
        RETURNED = "returned", _("Returned by department")
        ANSWER_SENT = "answer_sent", _("Answer sent to the citizen")
        ANSWER_NOT_SENT = "answer_not_sent", _("Answer could not be sent to the citizen")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        PAUSED = "paused", _("SLA paused")
        RESUMED = "resumed", _("SLA resumed")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        SURVEY_SENT = "survey_sent", _("Survey sent")
        SURVEY_ANSWERED = "survey_answered", _("Survey answered")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=30, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(_("visible to the citizen"), default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.get_type_display()}"


class TicketAttachment(models.Model):
    """A file kept with a ticket (a photo of the pothole, a scanned notice). Served signed.

    ``public`` files may be shown to the citizen with the answer; the rest are internal.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    public = models.BooleanField(_("visible to the citizen"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")

    def __str__(self) -> str:
        return self.name


class SlaAlert(models.Model):
    """An SLA clock crossing 80 % (warning) or 100 % (breach) of its target.

    One row per ticket, clock, level and due time, so the periodic check can run in several
    processes at once and a due time moved by a pause or a transfer can warn again. Breach
    rows are what the reports count.
    """

    class Clock(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    class Level(models.TextChoices):
        # xgettext:no-python-format
        WARNING = "warning", _("80 % of the target")
        BREACH = "breach", _("Breached")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    clock = models.CharField(_("clock"), max_length=20, choices=Clock.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    due_at = models.DateTimeField(_("due at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "level", "due_at"], name="sla_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.clock} {self.level}"


class SavedFilter(models.Model):
    """A user's named ticket-list filter (the list's query string)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_ticket_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class ServiceAttribute(models.Model):
    """An extra question a public category asks (Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "string"
        NUMBER = "number", "number"
        DATETIME = "datetime", "datetime"
        TEXT = "text", "text"
        SINGLEVALUELIST = "singlevaluelist", "singlevaluelist"
        MULTIVALUELIST = "multivaluelist", "multivaluelist"

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(_("code"), max_length=60)
    variable = models.BooleanField(
        _("variable"), default=True, help_text=_("False for an informational text only.")
    )
    datatype = models.CharField(_("datatype"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(_("question"), max_length=400)
    datatype_description = models.CharField(_("datatype description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('For list types: [{"key": "…", "name": "…"}, …].'),
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="attribute_code_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}:{self.code}"


class Open311Key(models.Model):
    """An Open311 client's API key. Only a hash is stored; the key is shown once at creation."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Survey(models.Model):
    """A happy call (해피콜) after a ticket is resolved: an SMS/Kakao link or a call-back.

    Scheduled when the ticket is resolved; sent at ``send_after`` (never at night); the link's
    signed token names this row, and answering it once closes it (single use).
    """

    class Method(models.TextChoices):
        SMS = "sms", _("SMS")
        KAKAO = "kakao", _("KakaoTalk")
        CALLBACK = "callback", _("Call-back by an agent")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", pgettext_lazy("survey status", "Answered")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="surveys")
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    skip_reason = models.CharField(_("skip reason"), max_length=200, blank=True)
    send_after = models.DateTimeField(_("send after"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    callback = models.ForeignKey(
        "callcenter.CallbackRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("happy-call survey")
        verbose_name_plural = _("happy-call surveys")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.get_method_display()} {self.get_status_display()}"


class SurveyAnswer(models.Model):
    """A citizen's satisfaction answer (1–5) about a contact or a ticket; feeds CSAT."""

    survey = models.OneToOneField(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="answer"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    score = models.PositiveSmallIntegerField(_("satisfaction"))
    solved = models.BooleanField(_("problem solved"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="survey_score_1_to_5"
            ),
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(contact__isnull=False),
                name="survey_once_per_contact",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="surveyanswer_created_at")]

    def __str__(self) -> str:
        return f"{self.score}/5"


class BusinessCalendar(models.Model):
    """When SLA clocks run: weekly opening hours, Korean public holidays, manual closures."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    always_open = models.BooleanField(_("24/7"), default=False)
    hours = models.JSONField(
        _("opening hours"),
        default=dict,
        blank=True,
        help_text=_('Weekday (0 = Monday) → [["09:00", "18:00"], …]; empty means Mon–Fri 9–18.'),
    )
    public_holidays = models.BooleanField(_("closed on Korean public holidays"), default=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def working_time(self):
        """This calendar as the pure calculator of tickets.sla."""
        hours = {int(day): [tuple(pair) for pair in pairs] for day, pairs in self.hours.items()}
        closures = self.closures.values_list("date", flat=True)
        return WorkingTime(
            hours=hours or dict(OFFICE_HOURS),
            closed=closed_dates(closures, public_holidays=self.public_holidays),
            always_open=self.always_open,
        )


class CalendarClosure(models.Model):
    """A day a calendar is closed beyond public holidays (e.g. a city's foundation day)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="closure_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.date}"


class SlaPolicy(models.Model):
    """First-response and resolution targets for tickets of a category/priority/channel.

    The most specific active policy wins: each of category, priority and channel that is
    set must match, and a policy that sets more of them beats one that sets fewer.
    """

    name = models.CharField(_("name"), max_length=80)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), null=True, blank=True, choices=Ticket.Priority.choices
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True, choices=Channel.choices)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name
