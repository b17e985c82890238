"""The generated history (callcenter.services.demo_history) and generate_contacts."""

from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from callcenter import metrics, roles
from callcenter.management.commands import load_demo
from callcenter.management.commands.load_demo import _read_json
from callcenter.models import Agent, AgentPresenceEvent, Citizen, Contact, Message, Queue, User
from callcenter.services.demo_history import HistoryGenerator
from tickets.models import Survey, SurveyAnswer, Ticket, TicketEvent
from tickets.services.sla import sla_due_times

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
# A Tuesday afternoon: the history runs from three weeks before to this morning.
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=SEOUL)
START, END = date(2026, 11, 3), date(2026, 11, 24)


@pytest.fixture
def centre():
    """load_demo's reference data and people without the knowledge base (slow to index)."""
    command = load_demo.Command(stdout=StringIO())
    people = _read_json("callcenter", "people.json")
    skills = command._skills()
    command._categories([], _read_json("tickets", "inquiries.json"))
    command._sla(_read_json("tickets", "services.json"))
    departments = command._departments([], people)
    command._queues(skills)
    for row in people["agents"]:
        command._agent(row, skills)
    for row in people["supervisors"]:
        command._user(row["username"], row["name"], [roles.SUPERVISOR], staff=True)
    for row in people["officers"]:
        command._officer(row, departments)
    for row in people["citizens"]:
        command._citizen(row)


def generate(*, seed: int = 7, contacts: int = 5000, prefix: str = "test-") -> None:
    HistoryGenerator(
        start=START,
        end=END,
        contacts=contacts,
        seed=seed,
        prefix=prefix,
        agents=list(Agent.objects.select_related("user").prefetch_related("skills")),
        queues={queue.code: queue for queue in Queue.objects.all()},
        inquiries=_read_json("tickets", "inquiries.json"),
        now=NOW,
        citizens=Citizen.objects.order_by("pk"),
        citizen_pool=2000,
    ).run()


def fingerprint() -> dict:
    contacts = Contact.objects.all()
    return {
        "contacts": contacts.count(),
        "by_channel": dict(
            contacts.values_list("channel").annotate(n=Count("pk")).values_list("channel", "n")
        ),
        "abandoned": contacts.filter(abandoned=True).count(),
        "hold": contacts.aggregate(s=Sum("hold_seconds"))["s"],
        "answered_at": sorted(str(t) for t in contacts.values_list("answered_at", flat=True)),
        "tickets": Ticket.objects.count(),
        "statuses": Counter(Ticket.objects.values_list("status", flat=True)),
        "events": TicketEvent.objects.count(),
        "scores": SurveyAnswer.objects.aggregate(s=Sum("score"))["s"],
        "presence": AgentPresenceEvent.objects.count(),
        "messages": Message.objects.count(),
    }


def forget_history() -> None:
    for model in (SurveyAnswer, Survey, TicketEvent, Ticket, Message, AgentPresenceEvent):
        model.objects.all().delete()
    Contact.objects.all().delete()
    Citizen.objects.filter(phone__startswith="+821001").delete()


def local(moment: datetime) -> datetime:
    return moment.astimezone(SEOUL)


def test_the_same_seed_gives_the_same_history_and_another_seed_another(centre):
    generate(seed=7)
    first = fingerprint()
    forget_history()
    generate(seed=7)
    assert fingerprint() == first
    forget_history()
    generate(seed=8)
    assert fingerprint()["answered_at"] != first["answered_at"]


def test_a_generated_history_has_the_shapes_of_a_centre(centre):
    generate()
    contacts = list(Contact.objects.all())
    by_day = Counter(local(c.queued_at).date() for c in contacts)
    del by_day[END]  # today: the morning only

    def mean(weekdays) -> float:
        volumes = [n for day, n in by_day.items() if day.weekday() in weekdays]
        return sum(volumes) / len(volumes)

    # Monday the heaviest day, weekends about 40 % of a weekday.
    assert mean({0}) > 1.1 * mean({1, 2, 3, 4})
    assert 0.3 < mean({5, 6}) / mean({1, 2, 3, 4}) < 0.55
    by_hour = Counter(local(c.queued_at).hour for c in contacts)
    assert by_hour[10] > 10 * by_hour[3]
    assert by_hour[12] < by_hour[11] and by_hour[12] < by_hour[14]  # the lunch dip
    channels = Counter(c.channel for c in contacts)
    assert set(channels) == {"voice", "video", "webchat", "kakao", "sms"}
    assert channels.most_common(1)[0][0] == "voice"
    assert 0.01 < channels["video"] / len(contacts) < 0.08
    waits = [(c.ended_at - c.queued_at).total_seconds() for c in contacts if c.abandoned]
    assert any(w <= 5 for w in waits) and any(w > 5 for w in waits)


def test_generated_contacts_keep_their_times_in_order_and_in_the_past(centre):
    generate(contacts=3000)
    for contact in Contact.objects.all():
        assert contact.queued_at <= contact.ended_at < NOW
        if contact.abandoned:
            assert contact.answered_at is None and contact.agent_id is None
        else:
            assert contact.queued_at <= contact.offered_at <= contact.answered_at
            assert contact.answered_at <= contact.ended_at <= contact.wrapup_ended_at < NOW
            assert contact.hold_seconds <= (contact.ended_at - contact.answered_at).total_seconds()
    signing = set(Agent.objects.filter(skills__code="sign-language").values_list("pk", flat=True))
    video_agents = set(
        Contact.objects.filter(channel="video").exclude(agent=None).values_list("agent", flat=True)
    )
    assert video_agents and video_agents <= signing
    assert not Ticket.objects.filter(resolved_at__lt=models_created_at()).exists()


def models_created_at():
    from django.db.models import F

    return F("created_at")


def test_tickets_transfers_repeats_and_surveys_make_the_reports_figures(centre):
    generate()
    tickets = Ticket.objects.all()
    answered = Contact.objects.filter(abandoned=False).count()
    assert 0.8 < tickets.count() / answered < 0.97
    transferred = TicketEvent.objects.filter(type=TicketEvent.Type.TRANSFERRED)
    assert transferred.count() > 0.08 * tickets.count()
    assert not tickets.filter(pk__in=transferred.values("ticket"), department=None).exists()
    # Some transferred tickets are still open past their due time.
    assert tickets.filter(status=Ticket.Status.TRANSFERRED, resolution_due__lt=NOW).exists()
    # Due times as ticket_create sets them from the matching policy's calendar.
    for ticket in tickets.filter(department=None).select_related("category")[:200]:
        due = sla_due_times(
            category=ticket.category,
            priority=ticket.priority,
            channel=ticket.channel,
            start=ticket.created_at,
        )
        assert (ticket.first_response_due, ticket.resolution_due) == (
            due["first_response_due"],
            due["resolution_due"],
        )
    surveys = Survey.objects.exclude(status=Survey.Status.SCHEDULED)
    assert 0.2 < SurveyAnswer.objects.count() / surveys.count() < 0.4
    # The same citizen on the same category again within 7 days.
    seen: dict[tuple, datetime] = {}
    repeats = 0
    for citizen, category, created in tickets.order_by("created_at").values_list(
        "citizen", "category", "created_at"
    ):
        before = seen.get((citizen, category))
        if before and created - before <= timedelta(days=7):
            repeats += 1
        seen[citizen, category] = created
    assert repeats > 0.05 * tickets.count()
    measures = metrics.totals(start=START, end=END, source="raw")
    assert 0.5 < measures.fcr < 0.95
    assert 0.75 < measures.csat < 0.95
    assert 0.6 < measures.service_level < 0.95
    assert 0.02 < measures.abandonment_rate < 0.15
    assert 0.2 < measures.occupancy < 1
    assert measures.tickets_overdue > 0


def test_service_level_is_worse_at_the_morning_peak_than_at_night(centre):
    generate()
    peak, night = metrics.Measures(), metrics.Measures()
    for day in range(21):
        midnight = datetime.combine(START + timedelta(days=day), datetime.min.time(), SEOUL)
        peak += metrics.between(midnight + timedelta(hours=9), midnight + timedelta(hours=12))
        night += metrics.between(midnight + timedelta(hours=1), midnight + timedelta(hours=6))
    assert peak.service_level < night.service_level


def test_agents_presence_covers_their_hours_with_calls_and_breaks(centre):
    generate(contacts=3000)
    kinds = set(AgentPresenceEvent.objects.values_list("presence", flat=True))
    assert kinds == {"available", "busy", "wrapup", "break", "offline"}
    assert not AgentPresenceEvent.objects.filter(created_at__gte=NOW).exists()
    chats = Contact.objects.filter(channel="webchat", abandoned=False).first()
    senders = list(chats.messages.order_by("created_at").values_list("sender", flat=True))
    assert senders == ["citizen", "agent", "agent", "citizen"]


def test_generate_contacts_adds_a_small_history_with_its_agents(centre):
    out = StringIO()
    call_command("generate_contacts", contacts=1500, days=7, agents=24, seed=3, stdout=out)
    assert "rows/s" in out.getvalue()
    assert 1400 <= Contact.objects.filter(provider_id__startswith="gen3-").count() <= 1600
    generated = User.objects.filter(username__startswith="gen-agent-")
    assert generated.count() == 4
    assert not any(user.has_usable_password() for user in generated)
    assert Ticket.objects.count() > 1000
    with pytest.raises(CommandError, match="already generated"):
        call_command("generate_contacts", contacts=100, days=1, seed=3, stdout=StringIO())


def test_generate_contacts_needs_the_centres_reference_data():
    with pytest.raises(CommandError, match="load_demo --no-history"):
        call_command("generate_contacts", contacts=100, days=1, stdout=StringIO())
