from celery import shared_task

from callcenter.services.outbox import outbox_sweep
from callcenter.services.scheduler import worker_heartbeat_record


@shared_task
def worker_heartbeat() -> str:
    """Record that a worker is alive and its beat schedule runs (shown by /healthz)."""
    return worker_heartbeat_record().isoformat()


@shared_task
def outbox_sweep_task() -> int:
    """Send the outbound messages that are due: retries, and rows whose task was lost."""
    return outbox_sweep()
