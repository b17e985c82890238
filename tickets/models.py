"""Tickets: the city's record of what a citizen asked and what was done."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcenter.models import Channel, Citizen, Contact


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
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_overdue(self) -> bool:
        open_statuses = {self.Status.NEW, self.Status.OPEN, self.Status.TRANSFERRED}
        return (
            self.status in open_statuses
            and self.resolution_due is not None
            and self.resolution_due < timezone.now()
        )


class TicketEvent(models.Model):
    """One step in a ticket's history: who did what, when. Append-only."""

    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        TRANSFERRED = "transferred", _("Transferred to a department")
        COMMENTED = "commented", _("Comment")
        ANSWERED = "answered", _("Answered")
        CONTACT_LINKED = "contact_linked", _("Contact linked")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=30, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.get_type_display()}"


class SurveyAnswer(models.Model):
    """A citizen's satisfaction answer (1–5) about a contact or a ticket; feeds CSAT."""

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
        from tickets.sla import OFFICE_HOURS, WorkingTime, closed_dates

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
