import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from callcenter import __version__
from callcenter.models import WorkerHeartbeat


@pytest.fixture
def fresh_layers():
    """Channel layers are built once per process; rebuild them around a settings change."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.django_db
def test_health_reports_every_part_ok(client, fresh_layers):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    assert body["version"] == __version__


@pytest.mark.django_db
def test_health_names_the_channel_layer_when_redis_is_down(client, settings, fresh_layers):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens on port 1
        }
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["channel_layer"].startswith("error")


@pytest.mark.django_db
def test_health_needs_no_login_and_is_not_cached(client, fresh_layers):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_health_names_the_database_when_it_is_down():
    """A real outage: a separate process whose DATABASE_URL points at a closed port."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(r.status_code, json.dumps(r.json()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings_test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/open120_nowhere",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_health_names_a_stale_worker_and_fails_only_when_asked_to_be_strict(client, fresh_layers):
    WorkerHeartbeat.objects.create(name="worker", seen_at=timezone.now() - timedelta(minutes=10))
    plain = client.get(reverse("healthz"))
    strict = client.get(reverse("healthz") + "?strict=1")
    assert plain.status_code == 200
    assert plain.json()["worker"]["stale"] is True
    assert plain.json()["worker"]["age_seconds"] >= 600
    assert plain.json()["problems"] == ["worker: stale, last seen 600 s ago"]
    assert strict.status_code == 503
    assert strict.json()["status"] == "error"


@pytest.mark.django_db
def test_strict_health_is_ok_with_a_fresh_worker_heartbeat(client, fresh_layers):
    WorkerHeartbeat.objects.create(name="worker", seen_at=timezone.now())
    response = client.get(reverse("healthz") + "?strict=1")
    assert response.status_code == 200
    assert response.json()["worker"]["stale"] is False
    assert response.json()["problems"] == []


@pytest.mark.django_db
def test_strict_health_fails_when_no_worker_ever_beat(client, fresh_layers):
    response = client.get(reverse("healthz") + "?strict=1")
    assert response.status_code == 503
    assert response.json()["problems"] == ["worker: no heartbeat yet"]
