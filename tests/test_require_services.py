"""Under REQUIRE_SERVICES=1 a missing PostgreSQL or Redis fails the run, never skips."""

import os
import subprocess
import sys

from django.conf import settings


def run_pytest(**environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **environment}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_require_services.py",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_redis_down_fails_the_run():
    result = run_pytest(
        REQUIRE_SERVICES="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/open120_ci",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 3
    assert "Redis is not reachable" in result.stdout + result.stderr


def test_sqlite_fails_the_run():
    env = {"REQUIRE_SERVICES": "1", "REDIS_URL": "redis://127.0.0.1:6379/0", "DATABASE_URL": ""}
    result = run_pytest(**env)
    assert result.returncode == 3
    assert "DATABASE_URL must point at PostgreSQL" in result.stdout + result.stderr
