"""Real ASGI server processes (daphne) for tests that cross process boundaries."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings

BASE_DIR = str(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def daphne(
    env: dict[str, str], *, inherit: bool = True, options: list[str] | None = None
) -> Iterator[str]:
    """A daphne process on a free loopback port; yields its base URL.

    ``inherit=False`` starts it with ``env`` alone instead of this process's environment
    plus ``env`` (which carries the test settings' defaults); ``options`` are more daphne
    command-line options."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - outlives this block: read on failure
        "w+", prefix=f"daphne-{port}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            *(options or []),
            "callcenter.asgi:application",
        ],
        cwd=BASE_DIR,
        env={**(os.environ if inherit else {}), **env, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited: {Path(log.name).read_text()}")
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code in (200, 503):
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting, or busy
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("daphne did not start in 30 s")
            time.sleep(0.2)
        yield base
    except BaseException:
        print(f"--- daphne log ({log.name}) ---\n{Path(log.name).read_text()[-5000:]}")
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def database_env_for_tests() -> dict[str, str]:
    """Point a server process at the database this test process uses (PostgreSQL)."""
    from django.db import connection

    db = connection.settings_dict
    return {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}


def login(base: str, username: str, password: str) -> str:
    """Log in through the real login form; returns the Cookie header for sockets."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path
