"""Periodic task: check the SLA clocks (deployments with Redis; see SLA_CHECK_SECONDS)."""

from celery import shared_task

from tickets.services.sla import sla_check


@shared_task
def sla_check_task() -> int:
    """Warn and record breaches; returns how many alerts this run created."""
    return len(sla_check())
