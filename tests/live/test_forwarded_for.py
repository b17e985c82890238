"""The server as the Procfile starts it: a forged X-Forwarded-For does not reset rate limits."""

import shlex
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.live.servers import BASE_DIR, daphne

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 5
ATTEMPTS = 30


def procfile_daphne_options() -> list[str]:
    """The options the Procfile's web process gives daphne, less address, port and app."""
    procfile = (Path(BASE_DIR) / "Procfile").read_text()
    line = next(line.split(":", 1)[1] for line in procfile.splitlines() if line.startswith("web:"))
    words = shlex.split(line)
    assert words[0] == "daphne" and words[-1] == "callcenter.asgi:application"
    options, skip = [], False
    for word in words[1:-1]:
        if skip:
            skip = False
        elif word in ("-b", "-p"):
            skip = True
        else:
            options.append(word)
    return options


def server_env() -> dict[str, str]:
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return {"DATABASE_URL": url, "TRACK_LIMIT_PER_HOUR": str(LIMIT), "REDIS_URL": ""}


def test_forged_forwarded_for_headers_do_not_reset_the_tracking_limit():
    with daphne(server_env(), options=procfile_daphne_options()) as base:
        session = requests.Session()
        session.get(f"{base}/track/", timeout=10)
        statuses = []
        for attempt in range(ATTEMPTS):
            response = session.post(
                f"{base}/track/",
                data={
                    "number": f"120-2026-{attempt:06d}",
                    "phone": "010-1234-5678",
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={
                    "Referer": f"{base}/track/",
                    "X-Forwarded-For": f"10.{attempt}.{uuid.uuid4().int % 250}.1",
                },
                timeout=10,
            )
            statuses.append(response.status_code)
    assert statuses.count(404) == LIMIT
    assert statuses.count(429) == ATTEMPTS - LIMIT


@pytest.mark.redis
def test_two_server_processes_count_against_one_limit_in_redis():
    """Behind a load balancer every process must see the same count: the cache is Redis."""
    env = {
        **server_env(),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings",
        "DEBUG": "1",  # static files from the finders, no collectstatic
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"open120-limits-{uuid.uuid4().hex[:8]}",  # the cache's prefix
    }
    with daphne(env) as first, daphne(env) as second:
        statuses = []
        for attempt in range(2 * LIMIT):
            base = (first, second)[attempt % 2]
            session = requests.Session()
            session.get(f"{base}/track/", timeout=10)
            response = session.post(
                f"{base}/track/",
                data={
                    "number": f"120-2026-{attempt:06d}",
                    "phone": "010-1234-5678",
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/track/"},
                timeout=10,
            )
            statuses.append(response.status_code)
    assert statuses == [404] * LIMIT + [429] * LIMIT
