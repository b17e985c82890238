"""Personas and service switches shared by every suite.

With REQUIRE_SERVICES=1 (CI), PostgreSQL and Redis must be there: a missing one fails the
run at start instead of skipping the tests that need it.
"""

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from callcenter import roles
from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes", "on"}


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2):
            return True
    except OSError:
        return False


def _database_vendor() -> str:
    return "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_SERVICES:
        return
    problems = []
    if _database_vendor() != "postgresql":
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    elif not _redis_reachable(settings.REDIS_URL):
        problems.append(f"Redis is not reachable at {settings.REDIS_URL}")
    if problems:
        pytest.exit("REQUIRE_SERVICES=1 but " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip service-bound tests when the service is absent (never under REQUIRE_SERVICES)."""
    if REQUIRE_SERVICES:
        return
    no_postgres = _database_vendor() != "postgresql"
    no_redis = not settings.REDIS_URL or not _redis_reachable(settings.REDIS_URL)
    for item in items:
        if no_postgres and "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://…"))
        if no_redis and "redis" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL and a running Redis"))


@pytest.fixture
def agent_user(db):
    """Minji, an agent who speaks Korean and handles traffic questions."""
    return factories.AgentFactory(user__username="minji", display_name="김민지").user


@pytest.fixture
def other_agent_user(db):
    return factories.AgentFactory(user__username="junho", display_name="이준호").user


@pytest.fixture
def supervisor_user(db):
    return factories.UserFactory(username="sora", first_name="박소라", roles=[roles.SUPERVISOR])


@pytest.fixture
def administrator_user(db):
    return factories.UserFactory(
        username="admin", first_name="관리자", roles=[roles.ADMINISTRATOR], is_staff=True
    )


@pytest.fixture
def officer_user(db):
    """An officer of the road management department."""
    return factories.OfficerFactory(user__username="roads", department__name="도로관리과").user


@pytest.fixture
def other_officer_user(db):
    return factories.OfficerFactory(user__username="taxes", department__name="세무과").user


@pytest.fixture
def citizen(db):
    return factories.CitizenFactory(name="홍길동", phone="+821012345678")


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate limits live in the cache: every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _remove_test_files():
    """Uploads and SQLite's side files of this run go away with it."""
    yield
    import shutil
    from pathlib import Path

    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name:
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup, django_db_blocker):
    """Socket tests run database work on asgiref's pool threads, which outlive the tests
    and keep their PostgreSQL sessions open, so dropping the test database at the end
    fails ("being accessed by other users"). End those sessions before it is dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def cache_down(settings):
    """The shared cache (Redis in production) refuses connections: nothing listens there."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
