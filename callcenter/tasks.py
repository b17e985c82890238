from celery import shared_task
from django.utils import timezone

from callcenter.models import WorkerHeartbeat


@shared_task
def worker_heartbeat() -> str:
    """Record that a worker is alive and its beat schedule runs (shown by /healthz)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now})
    return now.isoformat()
