"""Periodic task: send the happy-call surveys that are due (beat runs it every minute)."""

from celery import shared_task

from callcenter.services.scheduler import job_claim
from tickets.services.surveys import surveys_send_due

# Beat asks every 60 s; a turn a little shorter so one beat's jitter never skips a minute,
# while a second beat (two workers started with -B) finds the turn taken.
SURVEY_TURN_SECONDS = 50


@shared_task
def surveys_send_due_task() -> int:
    if not job_claim("surveys", SURVEY_TURN_SECONDS):
        return 0
    return surveys_send_due()
