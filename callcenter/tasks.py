from celery import shared_task
from django.utils import timezone

from callcenter.models import WorkerHeartbeat
from callcenter.services.outbox import outbox_sweep


@shared_task
def worker_heartbeat() -> str:
    """Record that a worker is alive and its beat schedule runs (shown by /healthz)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now})
    return now.isoformat()


@shared_task
def outbox_sweep_task() -> int:
    """Send the outbound messages that are due: retries, and rows whose task was lost."""
    return outbox_sweep()
