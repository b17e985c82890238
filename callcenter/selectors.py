"""Reads for the contact centre: service metrics, queue overviews, an agent's day.

Service metrics are callcenter.metrics' (DESIGN.md's definitions, one module for every
screen); the functions here give its sums the shapes the pages use.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callcenter import metrics
from callcenter.models import (
    Agent,
    CallLeg,
    Channel,
    Contact,
    ContactEvent,
    Language,
    Presence,
    Queue,
    VideoCall,
    VoiceCall,
)
from callcenter.roles import ADMINISTRATOR, AGENT, SUPERVISOR, user_roles

# The contact figures of every screen are callcenter.metrics' sums (one definition).
ContactMetrics = metrics.Measures


def contact_metrics(contacts: QuerySet[Contact]) -> metrics.Measures:
    """Service level, ASA, abandonment and AHT (talk, hold, wrap-up) of the queued ones of
    ``contacts``: :func:`callcenter.metrics.contact_measures`, the reports' own aggregate."""
    return metrics.contact_measures(contacts)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of a calendar day in Asia/Seoul, as aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def contacts_on(day: date) -> QuerySet[Contact]:
    """The day's inbound contacts (the service metrics' population: a call-back the router
    queued is the centre calling out, not a citizen waiting)."""
    start, end = local_day_bounds(day)
    return Contact.objects.filter(
        queued_at__gte=start, queued_at__lt=end, direction=Contact.Direction.INBOUND
    )


def queue_for_language(*, language: str, channel: str) -> Queue | None:
    """The queue a contact in ``language`` waits in on ``channel``: Korean ones in the
    channel's own queue (``chat`` for chats, ``general`` for calls), the others in the
    foreign-language queue; without those, any active queue that takes the channel."""
    korean = "chat" if channel != "voice" else "general"
    code = korean if language == "ko" else "foreign"
    queue = Queue.objects.filter(code=code, is_active=True).first()
    if queue is None:
        queue = next(
            (q for q in Queue.objects.filter(is_active=True) if channel in q.channels), None
        )
    return queue


def waiting_by_queue() -> dict[int, int]:
    """Contacts waiting right now, by queue id."""
    return dict(
        Contact.objects.waiting()
        .filter(queue__isnull=False, queued_at__isnull=False)
        .values_list("queue")
        .annotate(n=Count("id"))
    )


def queue_overview(*, now: datetime | None = None) -> list[dict]:
    """Each active queue with its waiting contacts and today's figures so far (Seoul day,
    from callcenter.metrics: the same sums as the reports)."""
    now = now or timezone.now()
    waiting = waiting_by_queue()
    midnight, _end = local_day_bounds(timezone.localdate(now))
    today = metrics.by_group_between(midnight, now, group="queue")
    return [
        {
            "queue": queue,
            "waiting": waiting.get(queue.pk, 0),
            "metrics": today.get(queue.pk, metrics.Measures()),
        }
        for queue in Queue.objects.filter(is_active=True).prefetch_related("required_skills")
    ]


def queues_for_agent(agent: Agent) -> list[Queue]:
    """Active queues whose required skills the agent has all of."""
    own = set(agent.skills.values_list("pk", flat=True))
    return [
        queue
        for queue in Queue.objects.filter(is_active=True).prefetch_related("required_skills")
        if {skill.pk for skill in queue.required_skills.all()} <= own
    ]


def presence_counts() -> dict[str, int]:
    """Agents by presence; one whose console is gone counts as offline, whatever it says."""
    counts = dict(
        Agent.objects.signed_in().order_by().values_list("presence").annotate(n=Count("id"))
    )
    counts[Presence.OFFLINE] = Agent.objects.count() - sum(counts.values())
    return {value: counts.get(value, 0) for value in Presence.values}


def daily_contact_counts(*, days: int) -> list[dict]:
    """Contacts per Seoul calendar day for the last ``days`` days, oldest first, zeros kept
    (finished days from the statistics rows, today from the raw rows)."""
    return [
        {"day": day, "offered": figures.offered, "answered": figures.answered}
        for day, figures in metrics.recent_days(days=days)
    ]


def live_contacts(limit: int = 100) -> QuerySet[Contact]:
    """Contacts waiting or in conversation now, longest running first (the wallboard list)."""
    return (
        Contact.objects.filter(ended_at__isnull=True, abandoned=False, queued_at__isnull=False)
        .select_related("queue", "agent", "citizen", "video")
        .order_by("queued_at")[:limit]
    )


def citizen_phone_revealable(*, user, citizen) -> bool:
    """Whether ``user`` may see ``citizen``'s full phone: supervisors and administrators,
    or the agent serving the citizen right now (answered, not yet through wrap-up)."""
    if user_roles(user) & {SUPERVISOR, ADMINISTRATOR}:
        return True
    return citizen.contacts.filter(
        agent__user=user, answered_at__isnull=False, wrapup_ended_at__isnull=True
    ).exists()


def recording_playable(*, user, contact: Contact) -> bool:
    """Whether ``user`` may hear ``contact``'s recording: supervisors and administrators,
    and the agents who were on that call (who took it, or joined it as a party); no other
    agent, whatever else they may read."""
    roles = user_roles(user)
    if roles & {SUPERVISOR, ADMINISTRATOR}:
        return True
    if not user.is_authenticated or AGENT not in roles:
        return False
    if contact.agent_id is not None and contact.agent.user_id == user.pk:
        return True
    return CallLeg.objects.filter(
        contact=contact,
        agent__user=user,
        role__in=(CallLeg.Role.AGENT, CallLeg.Role.CONSULT),
    ).exists()


CALL_STEP_TYPES = (ContactEvent.Type.TRANSFERRED, ContactEvent.Type.CONFERENCED)
# The phone menu's choices as the ticket shows them (VoiceCall.ivr_path: "menu:0", …).
MENU_CHOICES = {
    "0": gettext_lazy("agent"),
    "1": gettext_lazy("general city information"),
    "2": gettext_lazy("foreign languages"),
    "3": gettext_lazy("sign language information"),
    "none": gettext_lazy("no answer"),
}


def ivr_step_label(step: str) -> str:
    """One step of a call's path, in words: "menu:2" → "Menu 2 (foreign languages)"."""
    kind, _sep, value = str(step).partition(":")
    if kind == "menu":
        if value == "none":
            return str(MENU_CHOICES["none"])
        return _("Menu %(key)s (%(choice)s)") % {
            "key": value,
            "choice": MENU_CHOICES.get(value, _("invalid")),
        }
    if kind == "language":
        return _("Language: %(language)s") % {"language": dict(Language.choices).get(value, value)}
    if kind == "transfer":
        return _("Transferred to %(queue)s") % {"queue": value}
    if kind == "callback":
        return _("Call-back #%(id)s") % {"id": value}
    return str(step)


def _call_step(event: ContactEvent, agents: dict[int, str], queues: dict[str, str]) -> dict:
    data = event.data if isinstance(event.data, dict) else {}
    to = agents.get(data.get("to_agent")) or queues.get(data.get("to_queue")) or ""
    return {
        "at": event.created_at,
        "label": event.get_type_display(),
        "by": event.actor.display_name if event.actor_id else "",
        "to": to,
    }


def call_details(contact: Contact, *, user) -> dict | None:
    """A phone contact as the ticket and the supervisor show it: its times, the menu path
    the caller took, its transfers, and its recording (playable by ``user`` or not).
    None for a contact that is not a call (a video call's voice relay shows with the video
    call, :func:`video_details`)."""
    if contact.channel == Channel.VIDEO:
        return None
    call = VoiceCall.objects.filter(contact=contact).first()
    if call is None:
        return None
    events = list(
        contact.events.filter(type__in=CALL_STEP_TYPES).select_related("actor").order_by("id")
    )
    agent_ids = {e.data.get("to_agent") for e in events if isinstance(e.data, dict)}
    queue_codes = {e.data.get("to_queue") for e in events if isinstance(e.data, dict)}
    agents = dict(Agent.objects.filter(pk__in=agent_ids - {None}).values_list("pk", "display_name"))
    queues = dict(Queue.objects.filter(code__in=queue_codes - {None}).values_list("code", "name"))
    recorded = bool(call.recording_sid) and call.recording_deleted_at is None
    return {
        "contact_id": contact.pk,
        "queued_at": contact.queued_at,
        "answered_at": contact.answered_at,
        "ended_at": contact.ended_at,
        "talk_time": contact.talk_time,
        "hold_time": timedelta(seconds=contact.hold_seconds),
        "ivr_path": [ivr_step_label(step) for step in call.ivr_path],
        "steps": [_call_step(event, agents, queues) for event in events],
        "transcribed": call.transcribed,
        "voicemail": call.voicemail,
        "recorded": recorded,
        "recording_seconds": call.recording_seconds,
        "recording_deleted_at": call.recording_deleted_at,
        "can_play": recorded and recording_playable(user=user, contact=contact),
        "simulated": settings.VOICE_BACKEND == "simulated",
    }


VIDEO_STEP_TYPES = (
    ContactEvent.Type.ACCEPTED,
    ContactEvent.Type.VIDEO_CONNECTED,
    ContactEvent.Type.VIDEO_RESTARTED,
    ContactEvent.Type.VIDEO_FAILED,
    ContactEvent.Type.RECORDED,
    ContactEvent.Type.CONFERENCED,  # the voice relay, dialled and ended
    ContactEvent.Type.ENDED,
    ContactEvent.Type.ABANDONED,
)
VIDEO_PARTIES = {
    "citizen": gettext_lazy("the citizen"),
    "agent": gettext_lazy("the agent"),
    "system": gettext_lazy("the system"),
}


def _video_step_detail(event: ContactEvent) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    by = str(VIDEO_PARTIES.get(data.get("by"), data.get("by") or ""))
    if event.type == ContactEvent.Type.VIDEO_CONNECTED:
        if data.get("recovered"):
            return _("connection recovered")
        if data.get("setup_ms") is not None:
            return _("%(seconds)s s from accept") % {"seconds": f"{data['setup_ms'] / 1000:.1f}"}
        return ""
    if event.type == ContactEvent.Type.VIDEO_FAILED:
        return _("%(by)s gave up") % {"by": by} if data.get("gave_up") else by
    if event.type in (ContactEvent.Type.ENDED, ContactEvent.Type.ABANDONED):
        return _("by %(by)s") % {"by": by} if by else ""
    if event.type == ContactEvent.Type.RECORDED and data.get("seconds"):
        return _("%(seconds)s s") % {"seconds": data["seconds"]}
    if event.type == ContactEvent.Type.CONFERENCED:
        party = data.get("department") or data.get("number") or ""
        return _("%(party)s: ended") % {"party": party} if data.get("ended") else party
    return by


def _video_step_label(event: ContactEvent) -> str:
    if event.type == ContactEvent.Type.CONFERENCED:
        return _("Voice relay")
    return event.get_type_display()


def video_details(contact: Contact, *, user) -> dict | None:
    """A video contact as the ticket and the supervisor show it: its times, how the
    connection went (setup, ICE restarts and failures, outcome), who ended it, its steps,
    and its recordings (playable by ``user`` or not). None for a contact that is no video
    call."""
    video = VideoCall.objects.filter(contact=contact).first()
    if video is None:
        return None
    events = list(contact.events.filter(type__in=VIDEO_STEP_TYPES).order_by("id"))
    ended = next((e for e in events if e.type == ContactEvent.Type.ENDED), None)
    ended_by = video.ended_by or (ended.data.get("by", "") if ended and ended.data else "")
    connected_for = (
        contact.ended_at - video.connected_at if video.connected_at and contact.ended_at else None
    )
    recordings = list(contact.video_recordings.filter(deleted_at__isnull=True))
    return {
        "contact_id": contact.pk,
        "queued_at": contact.queued_at,
        "answered_at": contact.answered_at,
        "connected_at": video.connected_at,
        "ended_at": contact.ended_at,
        "talk_time": contact.talk_time,
        "connected_for": connected_for,
        "setup_seconds": video.setup_ms / 1000 if video.setup_ms is not None else None,
        "outcome": video.outcome,
        "outcome_label": video.get_outcome_display(),
        "ice_restarts": video.ice_restarts,
        "ice_failures": video.ice_failures,
        "ended_by": str(VIDEO_PARTIES.get(ended_by, ended_by)),
        "recording_consent": video.recording_consent,
        "steps": [
            {"at": e.created_at, "label": _video_step_label(e), "detail": _video_step_detail(e)}
            for e in events
        ],
        "recordings": recordings,
        "can_play": bool(recordings) and recording_playable(user=user, contact=contact),
    }


def live_call_flags(contact_ids: list[int]) -> dict[int, dict]:
    """For the wallboard's live list: which of these calls has its caller on hold or an
    interpreter on the line (one query; contacts that are no call are left out)."""
    flags: dict[int, dict] = {}
    legs = CallLeg.objects.filter(
        contact_id__in=contact_ids, state__in=(CallLeg.State.DIALLING, CallLeg.State.JOINED)
    ).values_list("contact_id", "role", "on_hold")
    for contact_id, role, on_hold in legs:
        flag = flags.setdefault(contact_id, {"on_hold": False, "interpreter": False})
        flag["on_hold"] |= role == CallLeg.Role.CALLER and on_hold
        flag["interpreter"] |= role == CallLeg.Role.INTERPRETER
    return flags


def interpreter_languages() -> list[tuple[str, str]]:
    """The caller languages an interpreter line is set for, with their names."""
    names = dict(Language.choices)
    return [(code, names.get(code, code)) for code in settings.VOICE_INTERPRETER_LINES]


SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class BotDay:
    """One Seoul calendar day of KakaoTalk conversations and what became of them."""

    day: date
    conversations: int
    answered_by_bot: int
    handed_over: int

    @property
    def abandoned(self) -> int:
        """Neither answered by the bot nor handed over: the citizen left unanswered."""
        return self.conversations - self.answered_by_bot - self.handed_over

    @property
    def containment_rate(self) -> float | None:
        """Answered by the bot ÷ conversations: the share no agent had to take."""
        return self.answered_by_bot / self.conversations if self.conversations else None

    def share(self, count: int) -> float:
        return 100 * count / self.conversations if self.conversations else 0.0

    @property
    def bot_share(self) -> float:
        return self.share(self.answered_by_bot)

    @property
    def handed_over_share(self) -> float:
        return self.share(self.handed_over)

    @property
    def abandoned_share(self) -> float:
        return self.share(self.abandoned)


def bot_containment_by_day(*, days: int) -> list[BotDay]:
    """KakaoTalk conversations per Seoul day for the last ``days`` days, oldest first, zero
    days kept. A conversation is a Contact on channel kakao, counted on the day it began;
    handed over when it reached the agents' queue (a ``handed_over`` event, or queued at all:
    a conversation an agent took from the queue without the bot), answered by the bot when it
    has a ``bot_answered`` event and was not handed over, abandoned when it has neither."""
    today = timezone.localdate(timezone=SEOUL)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=SEOUL)
    events = ContactEvent.objects.filter(contact=OuterRef("pk"))
    rows = (
        Contact.objects.filter(channel=Channel.KAKAO, created_at__gte=start)
        .annotate(
            day=TruncDate("created_at", tzinfo=SEOUL),
            was_handed_over=Exists(events.filter(type=ContactEvent.Type.HANDED_OVER))
            | Q(queued_at__isnull=False),
            bot_answered=Exists(events.filter(type=ContactEvent.Type.BOT_ANSWERED)),
        )
        .values("day")
        .annotate(
            conversations=Count("id"),
            handed_over=Count("id", filter=Q(was_handed_over=True)),
            answered_by_bot=Count("id", filter=Q(bot_answered=True, was_handed_over=False)),
        )
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(
            BotDay(
                day=day,
                conversations=row.get("conversations", 0),
                answered_by_bot=row.get("answered_by_bot", 0),
                handed_over=row.get("handed_over", 0),
            )
        )
    return result
