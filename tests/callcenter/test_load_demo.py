from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from callcenter import metrics
from callcenter.models import (
    Agent,
    CallbackRequest,
    Citizen,
    Contact,
    Evaluation,
    Message,
    Queue,
    Skill,
    StatRow,
    User,
)
from knowledge.models import Article, ArticleVersion
from tickets.models import Category, Department, Officer, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

COUNTED = [
    User,
    CallbackRequest,
    Agent,
    Skill,
    Queue,
    Citizen,
    Contact,
    Message,
    Department,
    Officer,
    Category,
    Ticket,
    TicketEvent,
    Article,
    ArticleVersion,
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo_output():
    out = StringIO()
    # A smaller month than the default 17,000 contacts: the same generator, quicker.
    call_command("load_demo", "--contacts", "3000", stdout=out)
    return out.getvalue(), counts()


def test_loading_the_demo_twice_gives_the_same_counts(demo_output):
    _, first = demo_output
    call_command("load_demo", stdout=StringIO())
    assert counts() == first
    call_command("load_demo", "--seed", "7", stdout=StringIO())
    assert counts() == first


def test_the_demo_month_is_in_the_reports_at_once(demo_output):
    output, _ = demo_output
    today = timezone.localdate()
    history = Contact.objects.filter(provider_id__startswith="demo-")
    assert "Demo history:" in output
    rollup = metrics.totals(start=today - timedelta(days=29), end=today, source="rollup")
    assert rollup.offered == history.exclude(queued_at=None).count() > 2500
    assert rollup.survey_answers > 0 and rollup.tickets_transferred > 0
    assert StatRow.objects.filter(grain=StatRow.Grain.DAY).exists()


def test_the_demo_has_what_the_centre_needs(demo_output):
    _, loaded = demo_output
    assert loaded["Agent"] == 20
    assert User.objects.filter(groups__name="supervisor").count() == 3
    assert loaded["Article"] >= 30
    assert loaded["Contact"] >= 300 and loaded["Ticket"] >= 200
    assert set(Queue.objects.values_list("name", flat=True)) >= {
        "일반",
        "외국어",
        "수어 영상",
        "채팅",
    }
    roots = set(Category.objects.filter(parent=None).values_list("name", flat=True))
    assert {
        "교통",
        "세무",
        "복지",
        "환경·청소",
        "주택·건축",
        "보건",
        "문화·관광",
        "일반행정",
    } <= roots

    days = {
        timezone.localtime(c).date() for c in Contact.objects.values_list("queued_at", flat=True)
    }
    assert min(days) >= timezone.localdate() - timedelta(days=30)
    assert len(days) >= 25


def test_demo_logins_work_and_are_printed(demo_output):
    output, _ = demo_output
    assert "open120-demo" in output
    for username in ("admin", "supervisor1", "agent01", "officer-road"):
        assert username in output
        login = RequestFactory().post("/accounts/login/")  # django-axes checks the request
        assert authenticate(login, username=username, password="open120-demo") is not None


def test_sign_language_queue_is_served_by_signing_agents(demo_output):
    queue = Queue.objects.get(code="sign-video")
    signing = Agent.objects.filter(skills__code="sign-language")
    assert signing.exists()
    served_by = set(
        Contact.objects.filter(queue=queue).exclude(agent=None).values_list("agent", flat=True)
    )
    assert served_by <= set(signing.values_list("pk", flat=True))


def test_demo_tickets_run_on_the_city_hall_calendar_and_offer_open311_questions(demo_output):
    from tickets.models import ServiceAttribute, SlaPolicy

    assert SlaPolicy.objects.filter(calendar__name="시청 근무시간").count() >= 4
    assert not Ticket.objects.filter(resolution_due=None).exclude(channel="open311").exists()
    parking = Category.objects.get(name="주정차", parent__name="교통")
    assert "불법주차" in parking.keywords
    violation = ServiceAttribute.objects.get(category=parking, code="violation")
    assert violation.required and {"key": "crosswalk", "name": "횡단보도"} in violation.values


def test_the_demo_dashboard_fcr_is_not_a_flattering_100_percent(demo_output):
    from tickets.selectors import ticket_overview

    figures = ticket_overview(days=30)
    assert figures["resolved"] > 100
    assert 0.3 < figures["fcr"] < 0.95


def test_the_demo_work_list_has_call_backs_in_each_state_an_agent_meets(demo_output):
    states = sorted(CallbackRequest.objects.values_list("status", flat=True))
    assert states == ["open", "open", "taken", "taken"]
    tried = CallbackRequest.objects.get(attempts=1)
    assert tried.result == CallbackRequest.Result.NO_ANSWER
    phones = CallbackRequest.objects.values_list("phone", flat=True)
    assert all(str(phone).startswith("+82") for phone in phones)


def test_the_demo_evaluations_come_days_after_their_contacts_never_in_the_future(demo_output):
    now = timezone.now()
    evaluations = list(
        Evaluation.objects.filter(status=Evaluation.Status.SUBMITTED).select_related("contact")
    )
    assert len(evaluations) > 20
    for evaluation in evaluations:
        assert evaluation.contact.ended_at <= evaluation.submitted_at <= now
        assert evaluation.created_at == evaluation.submitted_at
        assert evaluation.submitted_at - evaluation.contact.ended_at <= timedelta(days=3)
        answered = evaluation.acknowledged_at or evaluation.disputed_at
        if answered is not None:
            assert evaluation.submitted_at <= answered <= now
            assert answered - evaluation.submitted_at <= timedelta(days=1, hours=12)
    days = {timezone.localdate(e.submitted_at) for e in evaluations}
    assert len(days) >= 10  # spread over the weeks, not all submitted at load time
    assert sum(e.acknowledged_at is not None for e in evaluations) >= 5
    assert sum(e.disputed_at is not None for e in evaluations) == 2
    upheld = Evaluation.objects.get(dispute_outcome=Evaluation.Outcome.UPHELD)
    assert upheld.disputed_at <= upheld.dispute_resolved_at <= now
    assert upheld.rescored and upheld.score > upheld.score_before_dispute
    lags = [e.submitted_at - e.contact.ended_at for e in evaluations]
    assert sum(lag >= timedelta(days=1) for lag in lags) > len(lags) / 2
