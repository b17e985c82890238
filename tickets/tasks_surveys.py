"""Periodic task: send the happy-call surveys that are due (beat runs it every minute)."""

from celery import shared_task

from tickets.services.surveys import surveys_send_due


@shared_task
def surveys_send_due_task() -> int:
    return surveys_send_due()
