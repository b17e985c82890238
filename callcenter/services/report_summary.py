"""The supervisors' daily summary e-mail: yesterday's figures (the headline measures, by
channel, by queue, against the day before), sent once per day by the worker's beat
(``callcenter.tasks.report_daily_summary_task``) to REPORT_SUMMARY_RECIPIENTS."""

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from callcenter import exports, metrics
from callcenter.services.scheduler import job_state_swap

JOB = "report_daily_summary"
# The measures of the by-channel and by-queue tables.
SLICE_COLUMNS = ("offered", "answered", "abandoned", "service_level", "asa", "aht")


def report_daily_summary_send(*, day: date | None = None) -> int:
    """E-mail ``day``'s summary (default yesterday, Seoul) to each recipient; returns the
    number of messages sent. A day already sent is not sent again (the beat task may run
    twice, or in two workers): the day is claimed in the job's shared state first, and
    given back if sending fails so that a later run tries again."""
    recipients = list(settings.REPORT_SUMMARY_RECIPIENTS)
    if not recipients:
        return 0
    day = day or timezone.localdate() - timedelta(days=1)
    claimed = day.isoformat()
    previous = job_state_swap(JOB, "sent_day", claimed)
    if previous == claimed:
        return 0
    try:
        with translation.override(settings.LANGUAGE_CODE):
            messages = _summary_messages(day, recipients)
        return get_connection().send_messages(messages) or 0
    except Exception:
        job_state_swap(JOB, "sent_day", previous)
        raise


def _summary_messages(day: date, recipients: list[str]) -> list[EmailMultiAlternatives]:
    context = report_summary_context(day)
    subject = _("[Open120] %(day)s daily summary") % {"day": day.isoformat()}
    text = render_to_string("email/report_summary.txt", context)
    html = render_to_string("email/report_summary.html", context)
    messages = []
    for recipient in recipients:
        message = EmailMultiAlternatives(subject, text, None, [recipient])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return messages


def report_summary_context(day: date) -> dict:
    """What the summary shows for ``day``, compared with the day before."""
    before = day - timedelta(days=1)
    current = metrics.totals(start=day, end=day)
    previous = metrics.totals(start=before, end=before)
    columns = [column for column in exports.COLUMNS if column.key in SLICE_COLUMNS]

    def slices(group: str) -> list[dict]:
        rows = metrics.report(start=day, end=day, interval=None, group=group)
        return [
            {
                "label": row.label or _("(none)"),
                "cells": [column.display(row.measures) for column in columns],
            }
            for row in rows
            if row.measures.offered  # these tables are about contacts (not idle time)
        ]

    query = urlencode({"from": day.isoformat(), "to": day.isoformat(), "interval": "hour"})
    return {
        "day": day,
        "before": before,
        "kpis": exports.kpi_cards(current, previous),
        "columns": [column.title for column in columns],
        "by_channel": slices("channel"),
        "by_queue": slices("queue"),
        "empty": current == metrics.Measures(),
        "report_url": f"{settings.PUBLIC_BASE_URL}{reverse('supervisor-reports')}?{query}",
    }
