"""The background worker: a real Celery worker process consuming from the real broker."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from callcenter import celery_app
from callcenter.models import WorkerHeartbeat
from callcenter.tasks import worker_heartbeat


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
# Tests run tasks eagerly; send_task goes through the broker regardless, which is the point.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_process_runs_tasks_sent_through_redis():
    queue = f"open120-test-{os.getpid()}"  # our own queue: no other worker can take the task
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        # The worker must write to the database this test reads: the test database.
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "callcenter",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        celery_app.send_task(worker_heartbeat.name, queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.25)
        assert WorkerHeartbeat.objects.filter(name="worker").exists()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
