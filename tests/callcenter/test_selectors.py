from datetime import timedelta

import pytest
from django.utils import timezone

from callcenter import metrics
from callcenter.models import Contact
from callcenter.selectors import contact_metrics, daily_contact_counts
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def make(channel: str, *, wait: int, answered: bool = True, talk: int = 120, wrapup: int = 30):
    t0 = timezone.now() - timedelta(hours=1)
    if not answered:
        return ContactFactory(
            channel=channel, queued_at=t0, abandoned=True, ended_at=t0 + timedelta(seconds=wait)
        )
    return ContactFactory(
        channel=channel,
        queued_at=t0,
        answered_at=t0 + timedelta(seconds=wait),
        ended_at=t0 + timedelta(seconds=wait + talk),
        wrapup_ended_at=t0 + timedelta(seconds=wait + talk + wrapup),
    )


def test_service_level_counts_per_channel_threshold_and_ignores_short_abandons():
    make("voice", wait=10)  # in 20 s
    make("voice", wait=30)  # late for voice
    make("webchat", wait=45)  # in 60 s for chat
    make("voice", wait=3, answered=False)  # abandoned within 5 s: not counted at all
    make("voice", wait=40, answered=False)  # abandoned later: counts against
    metrics = contact_metrics(Contact.objects.all())
    assert metrics.offered == 5
    assert metrics.answered == 3
    assert metrics.short_abandoned == 1
    assert metrics.abandoned == 1
    assert metrics.service_level == pytest.approx(2 / 4)
    assert metrics.abandonment_rate == pytest.approx(1 / 5)
    assert metrics.asa == timedelta(seconds=(10 + 30 + 45) / 3)
    assert metrics.aht == timedelta(seconds=150)


def test_no_contacts_means_no_figures_rather_than_zero():
    metrics = contact_metrics(Contact.objects.all())
    assert metrics.service_level is None and metrics.asa is None and metrics.aht is None


def test_daily_counts_cover_every_day_with_zeros():
    make("voice", wait=5)
    days = daily_contact_counts(days=30)
    assert len(days) == 30
    assert days[-1]["day"] == timezone.localdate()
    assert sum(day["offered"] for day in days) == 1


def test_an_agents_day_on_the_console_is_counted_as_the_reports_count_it(agent_user):
    """The console's figures and the reports come from one aggregate: talk excludes hold,
    and AHT counts talk + hold + wrap-up either way."""
    agent = agent_user.agent
    t0 = timezone.now() - timedelta(hours=1)
    ContactFactory(
        agent=agent,
        queued_at=t0,
        answered_at=t0 + timedelta(seconds=10),
        ended_at=t0 + timedelta(seconds=310),
        wrapup_ended_at=t0 + timedelta(seconds=340),
        hold_seconds=60,
    )
    figures = contact_metrics(Contact.objects.filter(agent=agent))
    report = metrics.between(t0 - timedelta(minutes=1), timezone.now(), agent_id=agent.pk)
    assert (figures.talk_us, figures.hold_us, figures.wrap_us) == (240e6, 60e6, 30e6)
    assert figures.aht == timedelta(seconds=330)
    contact_sums = ("offered", "answered", "handled", "wait_us", "talk_us", "hold_us", "wrap_us")
    assert all(getattr(figures, name) == getattr(report, name) for name in contact_sums)
