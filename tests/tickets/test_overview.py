"""The supervisor's ticket figures: open, late, breaches, FCR and CSAT."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tickets.models import SlaAlert, SurveyAnswer, Ticket
from tickets.selectors import ticket_overview
from tickets.services import category_get_or_create_path, contact_ticket_save, ticket_create

pytestmark = pytest.mark.django_db


def resolved_by_phone(citizen, agent_user, category) -> Ticket:
    contact = factories.ContactFactory(citizen=citizen, agent=agent_user.agent)
    return contact_ticket_save(
        contact=contact,
        actor=agent_user,
        category=category,
        subject="불법주차 신고",
        answer="견인 요청함",
        resolve=True,
    )


def test_the_overview_counts_open_late_and_breached_tickets_and_fcr_and_csat(agent_user, citizen):
    parking = category_get_or_create_path(path="교통/주정차")
    roads = category_get_or_create_path(path="교통/도로시설")
    late = ticket_create(subject="포트홀", channel="voice", category=roads)
    Ticket.objects.filter(pk=late.pk).update(resolution_due=timezone.now() - timedelta(hours=1))
    ticket_create(subject="가로등", channel="voice", category=roads)
    SlaAlert.objects.create(ticket=late, clock="resolution", level="breach", due_at=timezone.now())
    once = resolved_by_phone(citizen, agent_user, parking)
    resolved_by_phone(factories.CitizenFactory(), agent_user, roads)
    resolved_by_phone(citizen, agent_user, parking)  # the same citizen calls again: a repeat
    SurveyAnswer.objects.create(ticket=once, score=5, solved=True, channel="sms")
    SurveyAnswer.objects.create(ticket=once, score=2, solved=False, channel="sms")

    figures = ticket_overview(days=30)

    assert (figures["active"], figures["overdue"], figures["breaches"]) == (2, 1, 1)
    assert figures["resolved"] == 2  # the repeat call reopened and re-resolved the first ticket
    assert figures["fcr"] == 0.5
    assert (figures["csat"], figures["survey_answers"]) == (0.5, 2)


def test_without_resolved_tickets_or_answers_the_rates_are_unknown_not_zero():
    figures = ticket_overview(days=30)
    assert figures["fcr"] is None and figures["csat"] is None


def test_the_supervisor_dashboard_shows_the_ticket_figures_with_links(client, supervisor_user):
    late = ticket_create(subject="포트홀", channel="voice")
    Ticket.objects.filter(pk=late.pk).update(resolution_due=timezone.now() - timedelta(hours=1))
    client.force_login(supervisor_user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("supervisor-dashboard")).content.decode()
    assert "Overdue now" in page and "First-contact resolution" in page and "CSAT" in page
    assert f"{reverse('ticket-list')}?overdue=1" in page
