"""One scheduler across every process.

Each ASGI process runs a loop (channels_app.ticker) and Celery beat runs periodic tasks; both
ask ``job_claim`` before a periodic job, and exactly one caller per period gets it: the claim
is one conditional UPDATE of the job's row, which PostgreSQL (row lock, re-checked WHERE) and
SQLite (one writer) both serialise. A process that dies simply stops claiming; another takes
the next period. Nothing is kept per process: what a job remembers lives in its row.
"""

import os
import socket
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from callcenter.models import ScheduledJob, WorkerHeartbeat

HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def job_claim(name: str, every_seconds: float) -> bool:
    """True for the one caller, across processes, that runs ``name`` this period."""
    now = timezone.now()
    claimed = ScheduledJob.objects.filter(name=name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=every_seconds), last_run_at=now, last_holder=HOLDER
    )
    if claimed:
        return True
    if ScheduledJob.objects.filter(name=name).exists():
        return False
    try:
        with transaction.atomic():
            ScheduledJob.objects.create(
                name=name,
                next_run_at=now + timedelta(seconds=every_seconds),
                last_run_at=now,
                last_holder=HOLDER,
            )
    except IntegrityError:
        return False  # another process created it, and runs this period
    return True


def job_state_swap(name: str, key: str, value):
    """Store ``value`` under ``key`` in the job's shared state; returns what was there (None
    when nothing). Row-locked, so two processes swapping at once see each other's value; a
    value already stored is only read (the router loop swaps every tick, mostly the same)."""
    stored = ScheduledJob.objects.filter(name=name).values_list("state", flat=True).first()
    if stored is not None and key in stored and stored[key] == value:
        return value
    with transaction.atomic():
        job, _created = ScheduledJob.objects.select_for_update().get_or_create(
            name=name, defaults={"next_run_at": timezone.now()}
        )
        previous = job.state.get(key)
        if previous != value:
            job.state = {**job.state, key: value}
            job.save(update_fields=["state"])
    return previous


def worker_heartbeat_record() -> datetime:
    """Note that a worker is alive and its beat schedule runs: /healthz shows the time and
    names the worker stale when it grows old."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now})
    return now
