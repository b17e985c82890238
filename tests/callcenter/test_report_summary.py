"""The supervisors' daily summary e-mail: yesterday's figures, once per day."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from callcenter.metrics import SEOUL
from callcenter.models import Channel
from callcenter.services.report_summary import report_daily_summary_send
from callcenter.services.stats import stats_rebuild
from callcenter.tasks import report_daily_summary_task
from tests import factories

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 30)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("smtp down")


def _call(queue, day: date, hour: int, *, wait: int):
    queued = datetime.combine(day, time(hour), tzinfo=SEOUL)
    answered = queued + timedelta(seconds=wait)
    return factories.ContactFactory(
        channel=Channel.VOICE,
        queue=queue,
        queued_at=queued,
        answered_at=answered,
        ended_at=answered + timedelta(minutes=2),
        wrapup_ended_at=answered + timedelta(minutes=2, seconds=30),
    )


@pytest.fixture
def recipients(settings):
    settings.REPORT_SUMMARY_RECIPIENTS = ["chief@city.example.kr", "sora@city.example.kr"]
    settings.LANGUAGE_CODE = "en"
    return settings.REPORT_SUMMARY_RECIPIENTS


@pytest.fixture
def busy_day(db):
    """On DAY, queue 민원상담 answered three calls, two within 20 s (service level 66.7 %);
    the day before, one call after 50 s (0 %)."""
    queue = factories.QueueFactory(code="civil", name="민원상담")
    for hour, wait in ((9, 5), (10, 12), (11, 45)):
        _call(queue, DAY, hour, wait=wait)
    _call(queue, DAY - timedelta(days=1), 9, wait=50)
    stats_rebuild(start=DAY - timedelta(days=1), end=DAY)


def test_without_recipients_nothing_is_sent(settings, busy_day):
    settings.REPORT_SUMMARY_RECIPIENTS = []

    assert report_daily_summary_send(day=DAY) == 0
    assert mail.outbox == []


def test_each_recipient_gets_the_days_figures_against_the_day_before(recipients, busy_day):
    sent = report_daily_summary_send(day=DAY)

    assert sent == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted(recipients)
    assert all(len(message.to) == 1 for message in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == "[Open120] 2026-11-30 daily summary"
    assert "Service level: 66.7% (▲ 66.7 pp; the day before 0.0%)" in message.body
    assert "민원상담: 3 · 3 · 0 · 66.7%" in message.body
    assert "/supervisor/reports/?from=2026-11-30&to=2026-11-30&interval=hour" in message.body


def test_the_html_part_has_inline_styles_and_no_script(recipients, busy_day):
    report_daily_summary_send(day=DAY)
    html, content_type = mail.outbox[0].alternatives[0]

    assert content_type == "text/html"
    assert "<script" not in html and "<link" not in html and "<style" not in html
    assert 'style="' in html
    assert "민원상담" in html and "66.7%" in html and "▲ 66.7 pp" in html


def test_the_summary_of_a_day_is_sent_once_even_if_the_task_runs_twice(recipients, busy_day):
    assert report_daily_summary_send(day=DAY) == 2
    assert report_daily_summary_send(day=DAY) == 0
    assert len(mail.outbox) == 2
    assert report_daily_summary_send(day=DAY + timedelta(days=1)) == 2
    assert len(mail.outbox) == 4


def test_a_send_that_fails_leaves_the_day_for_the_next_run(settings, recipients, busy_day):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with pytest.raises(ConnectionRefusedError):
        report_daily_summary_send(day=DAY)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert report_daily_summary_send(day=DAY) == 2


def test_the_scheduled_task_sends_yesterdays_summary(recipients):
    yesterday = timezone.localdate() - timedelta(days=1)

    assert report_daily_summary_task() == 2
    assert mail.outbox[0].subject == f"[Open120] {yesterday.isoformat()} daily summary"
    assert "No contact was queued" in mail.outbox[0].body


def test_the_summary_is_written_in_the_centres_language(settings, busy_day):
    settings.REPORT_SUMMARY_RECIPIENTS = ["chief@city.example.kr"]
    settings.LANGUAGE_CODE = "ko"

    report_daily_summary_send(day=DAY)

    body = mail.outbox[0].body
    assert "서비스 수준: 66.7%" in body
    assert "2026-11-30" in mail.outbox[0].subject
