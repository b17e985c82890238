"""The contact centre's core: people (users, agents, citizens), skills, queues, contacts.

Times are stored in UTC and shown in Asia/Seoul. A Contact's timestamps are the raw
material of every service metric in DESIGN.md, so the model keeps them honest: each
moment can only come after the one before it.
"""

from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from callcenter.privacy import mask_phone, mask_phones_in_text


class User(AbstractUser):
    """A staff login. Roles are Django groups (see callcenter.roles)."""

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Skill(models.Model):
    """Something an agent can handle: a language, sign language, or a topic."""

    class Kind(models.TextChoices):
        LANGUAGE = "language", _("Language")
        SIGN_LANGUAGE = "sign_language", _("Sign language")
        TOPIC = "topic", _("Topic")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    VOICE = "voice", _("Phone")
    VIDEO = "video", _("Video (sign language)")
    WEBCHAT = "webchat", _("Web chat")
    KAKAO = "kakao", _("KakaoTalk")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    OPEN311 = "open311", _("Open311")


# Channels where an agent holds one contact at a time; the rest are chats.
REALTIME_CHANNELS = frozenset({Channel.VOICE, Channel.VIDEO})


class Queue(models.Model):
    """Where waiting contacts sit until the router offers them to an agent."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    channels = models.JSONField(
        _("channels"), default=list, help_text=_("Channel kinds this queue takes.")
    )
    required_skills = models.ManyToManyField(
        Skill, blank=True, related_name="queues", verbose_name=_("required skills")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=0, help_text=_("Higher is served first.")
    )
    service_level_seconds = models.PositiveIntegerField(
        _("service level threshold (seconds)"), default=20
    )
    is_active = models.BooleanField(_("active"), default=True)
    overflow_queue = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("overflow queue"),
        help_text=_(
            "After the overflow delay, this queue's agents may also be offered the contact."
        ),
    )
    overflow_after_seconds = models.PositiveIntegerField(_("overflow after (seconds)"), default=120)
    calendar = models.ForeignKey(
        "tickets.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opening hours"),
        help_text=_(
            "When agents answer this queue; outside them callers hear the after-hours "
            "message and may leave a voicemail. Empty: always open."
        ),
    )

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.channels, list) or not self.channels:
            raise ValidationError({"channels": _("List at least one channel.")})
        unknown = set(self.channels) - set(Channel.values)
        if unknown:
            raise ValidationError(
                {"channels": _("Unknown channels: %s") % ", ".join(sorted(unknown))}
            )


class Presence(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    WRAPUP = "wrapup", _("Wrap-up")
    BREAK = "break", _("Break")
    AFTER_CALL = "after_call", _("After call")
    NOT_RESPONDING = "not_responding", _("Not responding")


# Presences only the system sets: an agent never chooses to be "not responding".
SYSTEM_ONLY_PRESENCES = frozenset({Presence.NOT_RESPONDING})


def socket_cutoff(now=None):
    """Sockets not refreshed since this moment are gone (PRESENCE_GRACE_SECONDS ago)."""
    from django.conf import settings

    return (now or timezone.now()) - timedelta(seconds=settings.PRESENCE_GRACE_SECONDS)


class AgentQuerySet(models.QuerySet):
    def with_open_console(self, now=None) -> "AgentQuerySet":
        """Agents with a console socket open now: the only ones the router may ring."""
        live = SocketConnection.objects.filter(
            agent=models.OuterRef("pk"), seen_at__gte=socket_cutoff(now)
        )
        return self.filter(models.Exists(live))

    def signed_in(self, now=None) -> "AgentQuerySet":
        """Agents not offline whose console was open within the grace period: those a
        citizen may still expect (a console reloading counts; a closed one does not)."""
        return self.exclude(presence=Presence.OFFLINE).filter(
            console_seen_at__gte=socket_cutoff(now)
        )


class Agent(models.Model):
    """The agent profile of a user: skills, chat capacity and current presence."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="agent")
    display_name = models.CharField(_("display name"), max_length=80)
    skills = models.ManyToManyField(
        Skill, blank=True, related_name="agents", verbose_name=_("skills")
    )
    max_concurrent_chats = models.PositiveSmallIntegerField(_("max concurrent chats"), default=3)
    presence = models.CharField(
        _("presence"), max_length=20, choices=Presence.choices, default=Presence.OFFLINE
    )
    presence_reason = models.CharField(_("presence reason"), max_length=80, blank=True)
    presence_changed_at = models.DateTimeField(_("presence changed at"), default=timezone.now)
    idle_since = models.DateTimeField(
        _("idle since"),
        default=timezone.now,
        help_text=_("When the agent last became free; the longest idle is offered first."),
    )
    console_seen_at = models.DateTimeField(
        _("console last seen at"),
        null=True,
        blank=True,
        help_text=_("When a console socket of this agent was last known open."),
    )

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_concurrent_chats__gte=1), name="agent_capacity_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def presence_reason_label(self) -> str:
        return PresenceReason.label(self.presence_reason)

    def has_skills(self, skills) -> bool:
        """True when the agent has every one of ``skills`` (what a queue requires)."""
        own = set(self.skills.values_list("pk", flat=True))
        return {skill.pk for skill in skills} <= own


class PresenceReason:
    """Reasons the system gives when it moves an agent by itself, shown as labels."""

    CONSOLE_CLOSED = "console_closed"
    OFFER_MISSED = "offer_missed"
    LABELS = {
        CONSOLE_CLOSED: _("console disconnected"),
        OFFER_MISSED: _("missed an offer"),
    }

    @classmethod
    def label(cls, reason: str) -> str:
        """The label of a system reason; an agent's own reason (a break) as typed."""
        return str(cls.LABELS.get(reason, reason))


class AgentPresenceEvent(models.Model):
    """One presence change. Durations between rows feed occupancy and reports."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="presence_events")
    presence = models.CharField(max_length=20, choices=Presence.choices)
    reason = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who changed it when it was not the agent (a supervisor on the wallboard); null for
    # the agent's own changes and the system's (sign-out, missed offers).
    changed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.agent} → {self.presence}"


class Language(models.TextChoices):
    KOREAN = "ko", _("Korean")
    ENGLISH = "en", _("English")
    CHINESE = "zh", _("Chinese")
    JAPANESE = "ja", _("Japanese")
    VIETNAMESE = "vi", _("Vietnamese")
    MONGOLIAN = "mn", _("Mongolian")
    KOREAN_SIGN = "ksl", _("Korean Sign Language")


class CitizenQuerySet(models.QuerySet):
    def by_phone(self, phone: str) -> "CitizenQuerySet":
        """Citizens with this phone number, given in any common format (010-…, +82…)."""
        from phonenumber_field.phonenumber import to_python

        number = to_python(phone, region="KR")
        if number is None or not number.is_valid():
            return self.none()
        return self.filter(phone=number.as_e164)

    def by_kakao_key(self, key: str) -> "CitizenQuerySet":
        if not key:
            return self.none()
        return self.filter(kakao_user_key=key)


class Citizen(models.Model):
    """A person who contacts the city. Personal data: masked and access-logged for staff."""

    name = models.CharField(_("name"), max_length=80, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, db_index=True, region="KR")
    kakao_user_key = models.CharField(_("Kakao user key"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.KOREAN
    )
    needs_assistance = models.BooleanField(
        _("needs assistance"),
        default=False,
        help_text=_("Vulnerable citizen: served first and called back instead of texted."),
    )
    consent_privacy = models.BooleanField(_("consents to personal data processing"), default=False)
    consent_contact = models.BooleanField(_("consents to follow-up contact"), default=False)
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    survey_opt_out = models.BooleanField(
        _("no satisfaction surveys"),
        default=False,
        help_text=_("The citizen asked not to receive happy-call surveys."),
    )
    # STOP / 수신거부 texted to the city's number: no text messages until START / 수신동의.
    sms_opted_out_at = models.DateTimeField(
        _("text messages refused at"),
        null=True,
        blank=True,
        help_text=_("The citizen texted STOP or 수신거부: nothing is texted to them until START."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CitizenQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.UniqueConstraint(
                fields=["kakao_user_key"],
                condition=~Q(kakao_user_key=""),
                name="citizen_kakao_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.masked_phone or f"#{self.pk}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone.as_national if self.phone else "")

    @property
    def message_language(self) -> str:
        """The language to write to this citizen in: theirs when the site has it, else
        the site's default (Korean)."""
        from django.conf import settings

        languages = {code for code, _name in settings.LANGUAGES}
        return (
            self.preferred_language
            if self.preferred_language in languages
            else (settings.LANGUAGE_CODE)
        )


class ContactQuerySet(models.QuerySet):
    def waiting(self) -> "ContactQuerySet":
        return self.filter(answered_at__isnull=True, ended_at__isnull=True, abandoned=False)


class Contact(models.Model):
    """One interaction on one channel: a call, a video call, a chat session.

    The timestamps move forward only: queued → offered → answered → ended → wrap-up ended.
    ``provider_id`` (a Twilio CallSid, a Kakao session, …) is unique per channel so a
    webhook delivered twice never makes two contacts.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class State(models.TextChoices):
        """Where the contact is, read off its timestamps (:attr:`Contact.state`); not stored."""

        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("In conversation")
        WRAPUP = "wrapup", _("Wrap-up")
        DONE = "done", _("Done")
        ENDED = "ended", _("Ended")
        ABANDONED = "abandoned", _("Abandoned")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.KOREAN
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True, db_index=True)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    # The last queue position (and wait) told to the citizen, shared by every process so a
    # change is announced once; (0, 0) while no agent who could answer is logged in.
    announced_position = models.PositiveIntegerField(null=True, blank=True, editable=False)
    announced_eta = models.PositiveIntegerField(null=True, blank=True, editable=False)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wrapup_ended_at = models.DateTimeField(_("wrap-up ended at"), null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(_("hold seconds"), default=0)
    abandoned = models.BooleanField(_("abandoned"), default=False)
    session = models.ForeignKey(
        "ChatSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    transferred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=~Q(provider_id=""),
                name="contact_provider_id_unique_per_channel",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True)
                | Q(queued_at__isnull=True)
                | Q(answered_at__gte=models.F("queued_at")),
                name="contact_answered_after_queued",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(answered_at__isnull=True)
                | Q(ended_at__gte=models.F("answered_at")),
                name="contact_ended_after_answered",
            ),
            models.CheckConstraint(
                condition=Q(wrapup_ended_at__isnull=True)
                | (Q(ended_at__isnull=False) & Q(wrapup_ended_at__gte=models.F("ended_at"))),
                name="contact_wrapup_after_end",
            ),
            models.CheckConstraint(
                condition=Q(abandoned=False) | Q(answered_at__isnull=True),
                name="contact_abandoned_never_answered",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "queued_at"]),
            # FCR: "a new contact from the same citizen within 7 days" per resolved ticket
            models.Index(fields=["citizen", "created_at"], name="contact_citizen_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"

    @property
    def state(self) -> "Contact.State":
        """waiting → active → wrapup → done (or abandoned; ended when it left the queue
        without being abandoned), read off the timestamps."""
        if self.abandoned:
            return self.State.ABANDONED
        if self.answered_at is None:
            return self.State.ENDED if self.ended_at else self.State.WAITING
        if self.ended_at is None:
            return self.State.ACTIVE
        return self.State.WRAPUP if self.wrapup_ended_at is None else self.State.DONE

    @property
    def is_realtime(self) -> bool:
        """Voice and video take an agent's whole attention; chats share it."""
        return self.channel in REALTIME_CHANNELS

    @property
    def queue_time(self) -> timedelta | None:
        """Time waited before an agent answered (or until the citizen gave up)."""
        end = self.answered_at or (self.ended_at if self.abandoned else None)
        if self.queued_at is None or end is None:
            return None
        return end - self.queued_at

    @property
    def talk_time(self) -> timedelta | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at

    @property
    def wrapup_time(self) -> timedelta | None:
        if self.ended_at is None or self.wrapup_ended_at is None:
            return None
        return self.wrapup_ended_at - self.ended_at

    @property
    def handle_time(self) -> timedelta | None:
        """Talk + hold + wrap-up, as AHT counts it (hold is inside the talk span here)."""
        if self.talk_time is None:
            return None
        return self.talk_time + (self.wrapup_time or timedelta())


# A conversation is open while the citizen waits or talks to an agent.
OPEN_CONTACT_STATES = frozenset({Contact.State.WAITING, Contact.State.ACTIVE})


class Message(models.Model):
    """One message in a contact's conversation. Clients resume by the last id they saw."""

    class Sender(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        AGENT = "agent", _("Agent")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")
        SUPERVISOR = "supervisor", _("Supervisor")  # whispers: internal, to the agent only

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    sender_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Seen by staff only, never the citizen.")
    )
    client_id = models.CharField(
        max_length=64, blank=True, help_text=_("The sender's id for the message, to drop resends.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.text[:40]}"

    def clean(self) -> None:
        if not self.text.strip() and not self.attachments:
            raise ValidationError(_("A message needs text or an attachment."))


class PersonalDataAccess(models.Model):
    """Who looked at which citizen's unmasked personal data, when and why. Never edited."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="accesses")
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")

    def __str__(self) -> str:
        return f"{self.user} saw {self.field} of citizen #{self.citizen_id}"


class WorkerHeartbeat(models.Model):
    """The background worker's last sign of life, written by a periodic task."""

    name = models.CharField(max_length=100, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at.isoformat()}"


class ScheduledJob(models.Model):
    """A periodic job (router tick, SLA check, survey sends, …) that runs once per period
    across every process: whoever moves ``next_run_at`` forward runs it. ``state`` is what
    the job remembers between runs, whichever process ran them."""

    name = models.CharField(max_length=50, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_holder = models.CharField(max_length=100, blank=True)
    state = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at.isoformat()})"


class ContactEvent(models.Model):
    """One step of a contact's life (queued, offered, accepted, transferred, …). Never edited."""

    class Type(models.TextChoices):
        QUEUED = "queued", _("Queued")
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        TIMED_OUT = "timed_out", _("Offer timed out")
        OVERFLOWED = "overflowed", _("Overflowed")
        NO_AGENTS = "no_agents", _("No agent logged in")
        TRANSFERRED = "transferred", _("Transferred")
        JOINED = "joined", _("Supervisor joined")
        HELD = "held", _("Put on hold")
        RESUMED = "resumed", _("Taken off hold")
        CONFERENCED = "conferenced", _("Third party joined")
        RECORDED = "recorded", _("Recorded")
        VOICEMAIL = "voicemail", _("Voicemail left")
        VIDEO_CONNECTED = "video_connected", _("Video connected")
        VIDEO_RESTARTED = "video_restarted", _("Video connection restarted")
        VIDEO_FAILED = "video_failed", _("Video connection failed")
        BOT_ANSWERED = "bot_answered", _("Answered by the bot")
        HANDED_OVER = "handed_over", _("Handed over to an agent")
        ENDED = "ended", _("Ended")
        ABANDONED = "abandoned", _("Abandoned")
        WRAPUP_ENDED = "wrapup_ended", _("Wrap-up ended")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A supervisor joins a conversation once, however often their page reconnects.
            models.UniqueConstraint(
                fields=["contact", "actor"],
                condition=Q(type="joined"),
                name="contact_event_one_join_per_supervisor",
            ),
        ]
        indexes = [
            # The KakaoTalk bot's containment report asks each conversation for these two.
            models.Index(
                fields=["contact", "type"],
                condition=Q(type__in=["bot_answered", "handed_over"]),
                name="contact_event_bot_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} {self.type}"


class Offer(models.Model):
    """The router proposing one contact to one agent, until accepted, declined or timed out.

    Partial unique indexes make "one pending offer per contact" and "one pending offer per
    agent" database facts, so two router processes can never offer a contact twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        TIMED_OUT = "timed_out", _("Timed out")
        CANCELLED = "cancelled", _("Cancelled")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(state="pending"),
                name="offer_one_pending_per_contact",
            ),
            models.UniqueConstraint(
                fields=["agent"], condition=Q(state="pending"), name="offer_one_pending_per_agent"
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self) -> str:
        return f"offer #{self.pk} {self.contact} → {self.agent} ({self.state})"


class ChatSession(models.Model):
    """A citizen's web chat conversation, reached with an unguessable token (stored hashed).

    A transfer to another queue starts a new contact (a new leg with its own queue times);
    the session points at the current one and the conversation spans them all.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.KOREAN)
    created_at = models.DateTimeField(default=timezone.now)
    citizen_seen_at = models.DateTimeField(
        default=timezone.now,
        help_text=_("When a socket of the citizen was last known open (or the chat started)."),
    )
    transcript_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the conversation was sent to the citizen; one transcript per chat."),
    )

    def __str__(self) -> str:
        return f"chat session #{self.pk}"


class CannedReply(models.Model):
    """A ready-made sentence agents insert into a reply."""

    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"))
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.KOREAN
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["language", "sort_order", "title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class CallbackRequest(models.Model):
    """A call-back promised to a citizen (no agent free, after a chat, a happy call, a
    department's answer). Created only by ``callcenter.callbacks.callback_request_create``;
    its state moves forward only — open → taken → called or failed → done (or cancelled) —
    and every move is a :class:`CallbackEvent` row."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("call-back status", "Open")
        TAKEN = "taken", pgettext_lazy("call-back status", "Taken")
        CALLED = "called", pgettext_lazy("call-back status", "Called")
        FAILED = "failed", pgettext_lazy("call-back status", "Failed")
        DONE = "done", pgettext_lazy("call-back status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("call-back status", "Cancelled")

    class Source(models.TextChoices):
        CONSOLE = "console", _("Agent's ticket form")
        CHAT = "chat", _("Chat without a free agent")
        SURVEY = "survey", _("Happy call")
        DEPARTMENT_ANSWER = "department_answer", _("Department's answer")
        PHONE_QUEUE = "phone_queue", _("Caller waiting in the phone queue")
        VIDEO = "video", _("Sign-language video call request")

    class Result(models.TextChoices):
        REACHED = "reached", _("Reached the citizen")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
        verbose_name=_("ticket"),
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
        verbose_name=_("queue"),
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.CONSOLE
    )
    # E.164, as Citizen.phone: one format whichever way the request came in.
    phone = PhoneNumberField(_("phone"), region="KR")
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    assigned_to = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
        verbose_name=_("taken by"),
    )
    attempts = models.PositiveSmallIntegerField(_("unanswered attempts"), default=0)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices, blank=True)
    due_at = models.DateTimeField(_("call before"), null=True, blank=True)
    # The time the citizen chose (a sign-language video call-back is booked, not rushed).
    preferred_at = models.DateTimeField(_("preferred time"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        constraints = [
            # One promise per number and queue: a second request joins the one still to do.
            models.UniqueConstraint(
                fields=["phone", "queue"],
                condition=Q(status__in=["open", "taken"]),
                name="callback_one_active_per_phone_and_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"call-back {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone.as_national if self.phone else "")

    @property
    def masked_note(self) -> str:
        """The note as lists show it: a citizen may have typed a number into it."""
        return mask_phones_in_text(self.note)

    @property
    def is_active(self) -> bool:
        """Still to be done by someone: open or taken."""
        return self.status in (self.Status.OPEN, self.Status.TAKEN)


class CallbackEvent(models.Model):
    """One step of a call-back: who did what when. Written by the services, never edited."""

    class Type(models.TextChoices):
        CREATED = "created", _("Requested")
        REQUESTED_AGAIN = "requested_again", _("Requested again")
        TAKEN = "taken", pgettext_lazy("call-back event", "Taken")
        REASSIGNED = "reassigned", _("Reassigned")
        ATTEMPTED = "attempted", _("Call attempted")
        VIDEO_LINK_SENT = "video_link_sent", _("Video call link sent")
        DONE = "done", pgettext_lazy("call-back event", "Done")
        CANCELLED = "cancelled", pgettext_lazy("call-back event", "Cancelled")

    callback = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("call-back event")
        verbose_name_plural = _("call-back events")

    def __str__(self) -> str:
        return f"{self.callback} {self.type}"


class SocketConnection(models.Model):
    """One open socket of an agent's console or a citizen's chat, in any ASGI process.

    The process serving it refreshes ``seen_at`` while it is open and deletes the row when
    it closes; a process that dies says no goodbye, so a row whose ``seen_at`` is older than
    the grace period counts as gone. Routing and dashboards read these rows, not memory.
    """

    channel_name = models.CharField(max_length=200, unique=True)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="sockets"
    )
    session = models.ForeignKey(
        ChatSession, null=True, blank=True, on_delete=models.CASCADE, related_name="sockets"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(agent__isnull=False, session__isnull=True)
                | Q(agent__isnull=True, session__isnull=False),
                name="socket_connection_agent_or_session",
            ),
        ]

    def __str__(self) -> str:
        return f"socket {self.channel_name}"


class VoiceCall(models.Model):
    """What a phone contact has beyond the Contact: its Twilio conference, the menu path the
    caller took, hold time running, the recording. One per voice contact."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="call"
    )
    # The caller's own call (inbound CallSid, or the call-back we dialled).
    call_sid = models.CharField(_("call SID"), max_length=64, blank=True, db_index=True)
    conference_sid = models.CharField(_("conference SID"), max_length=64, blank=True)
    ivr_path = models.JSONField(_("menu path"), default=list, blank=True)
    hold_started_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    recording_sid = models.CharField(_("recording SID"), max_length=64, blank=True)
    recording_url = models.URLField(_("recording URL"), max_length=300, blank=True)
    recording_seconds = models.PositiveIntegerField(_("recording length"), null=True, blank=True)
    recording_channels = models.PositiveSmallIntegerField(
        _("recording channels"), null=True, blank=True
    )
    recording_deleted_at = models.DateTimeField(_("recording deleted at"), null=True, blank=True)
    voicemail = models.BooleanField(_("voicemail"), default=False)
    transcribed = models.BooleanField(_("live transcription"), default=False)

    class Meta:
        verbose_name = _("phone call")
        verbose_name_plural = _("phone calls")

    def __str__(self) -> str:
        return f"{self.contact} {self.call_sid}"

    @property
    def conference_name(self) -> str:
        """The conference's FriendlyName: one per contact, never reused."""
        return f"contact-{self.contact_id}"


class CallLeg(models.Model):
    """One party of a call's conference: the caller, an agent, an interpreter line or a
    colleague consulted before a warm transfer."""

    class Role(models.TextChoices):
        CALLER = "caller", _("Caller")
        AGENT = "agent", _("Agent")
        INTERPRETER = "interpreter", _("Interpreter")
        CONSULT = "consult", _("Colleague (warm transfer)")
        RELAY = "relay", _("Voice party (video relay)")

    class State(models.TextChoices):
        DIALLING = "dialling", _("Dialling")
        JOINED = "joined", _("Connected")
        LEFT = "left", _("Left")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="call_legs")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    call_sid = models.CharField(_("call SID"), max_length=64, blank=True, db_index=True)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(_("language"), max_length=5, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DIALLING
    )
    on_hold = models.BooleanField(_("on hold"), default=False)
    muted = models.BooleanField(_("muted"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("call party")
        verbose_name_plural = _("call parties")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "call_sid"],
                condition=~Q(call_sid=""),
                name="call_leg_sid_once_per_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} {self.role} {self.state}"


class VideoCall(models.Model):
    """What a sign-language video contact has beyond the Contact: the signalling room, the
    recording consent and how the peer-to-peer connection went. One per video contact.

    ``room`` names the signalling socket (``/ws/video/<room>/``); it is not a credential:
    the citizen proves the chat session token, the agent their login and assignment.
    """

    class Outcome(models.TextChoices):
        PENDING = "", _("Not connected yet")
        CONNECTED = "connected", _("Connected")
        FAILED = "failed", _("Connection failed")

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="video"
    )
    room = models.CharField(_("room"), max_length=64, unique=True)
    recording_consent = models.BooleanField(_("consented to recording"), default=False)
    # Both browsers reported "connected" (the first time, and the latest report of each).
    connected_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    citizen_connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    agent_connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    setup_ms = models.PositiveIntegerField(
        _("accept to connected (ms)"), null=True, blank=True, editable=False
    )
    ice_restarts = models.PositiveSmallIntegerField(_("ICE restarts"), default=0)
    ice_failures = models.PositiveSmallIntegerField(_("ICE failures"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, blank=True, default=""
    )
    ended_by = models.CharField(_("ended by"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("video call")
        verbose_name_plural = _("video calls")

    def __str__(self) -> str:
        return f"{self.contact} video"


class VideoRecording(models.Model):
    """A recording of a video call, made in the agent's browser with the citizen's consent
    (``VIDEO_RECORDING`` on) and kept in private storage like chat attachments."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="video_recordings")
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path = models.CharField(max_length=300)
    content_type = models.CharField(max_length=100, default="video/webm")
    size = models.PositiveIntegerField(default=0)
    seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("video recording")
        verbose_name_plural = _("video recordings")

    def __str__(self) -> str:
        return f"{self.contact} recording #{self.pk}"


class StatRow(models.Model):
    """Pre-aggregated service figures of one interval (a 15-minute bucket, a Seoul calendar
    day, week or month) for one slice: everything on one channel, or one queue, agent, category or
    department. Sums only (counts and microseconds), so rows add up to any longer interval;
    ratios are computed when read (callcenter.metrics). Maintained by the worker and rebuilt
    from the raw rows by ``manage.py rebuild_stats``; equal to a direct computation."""

    class Grain(models.TextChoices):
        QUARTER = "15m", _("15 minutes")
        DAY = "1d", _("day")
        # Sums of the daily rows by Seoul week (from Monday) and month, every dimension but
        # "hour": a year's report by week, month or in one period reads a few rows per slice.
        WEEK = "1w", _("week")
        MONTH = "1mo", _("month")

    class Dimension(models.TextChoices):
        ALL = "all", _("all")
        QUEUE = "queue", _("queue")
        AGENT = "agent", _("agent")
        CATEGORY = "category", _("category")
        DEPARTMENT = "department", _("department")
        # Daily rows only, key = the Seoul hour of day: the volume heat-map of long ranges
        # reads 24 rows a day instead of 96 quarter-hours.
        HOUR = "hour", _("hour of day")

    grain = models.CharField(max_length=3, choices=Grain.choices)
    start = models.DateTimeField()
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    # The queue, agent, category or department id; 0 for none (or for dimension "all").
    key = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=20, blank=True)
    # Contacts (bucketed by queued_at; inbound, queued)
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    in_threshold = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    wait_us = models.BigIntegerField(default=0)
    talk_us = models.BigIntegerField(default=0)
    hold_us = models.BigIntegerField(default=0)
    wrap_us = models.BigIntegerField(default=0)
    # Agents' available idle time (occupancy)
    idle_us = models.BigIntegerField(default=0)
    # Tickets and surveys (bucketed by their own event times)
    tickets_opened = models.PositiveIntegerField(default=0)
    tickets_resolved = models.PositiveIntegerField(default=0)
    fcr_resolved = models.PositiveIntegerField(default=0)
    tickets_transferred = models.PositiveIntegerField(default=0)
    tickets_overdue = models.PositiveIntegerField(default=0)
    survey_answers = models.PositiveIntegerField(default=0)
    survey_satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("statistics row")
        verbose_name_plural = _("statistics rows")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "dimension", "start", "key", "channel"], name="statrow_unique"
            ),
        ]
        indexes = [models.Index(fields=["grain", "dimension", "start"], name="statrow_range")]

    def __str__(self) -> str:
        return (
            f"{self.grain} {self.start:%Y-%m-%d %H:%M} {self.dimension}:{self.key} {self.channel}"
        )


from callcenter.models_qa import *  # noqa: E402, F403 - QA scorecards live beside, one app
