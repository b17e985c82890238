"""Periodic task: check the SLA clocks (deployments with Redis; see SLA_CHECK_SECONDS)."""

from celery import shared_task
from django.conf import settings

from callcenter.services.scheduler import job_claim
from tickets.services.sla import sla_check


@shared_task
def sla_check_task() -> int:
    """Warn and record breaches; returns how many alerts this run created (0 when an ASGI
    process's loop already checked this period: one check per period across processes)."""
    if not job_claim("sla", settings.SLA_CHECK_SECONDS):
        return 0
    return len(sla_check())
