"""Test settings: the real settings, with only what tests must swap.

The environment (DATABASE_URL, REDIS_URL) still chooses the database and the channel
layer, so CI runs the suite against PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("OPEN120_ENV", "test")
# Tests drive the router loop by calling router_tick() themselves.
os.environ.setdefault("ROUTER_TICKER", "0")
# No persistent connections: pool threads must not hold the test database open.
os.environ.setdefault("CONN_MAX_AGE", "0")
# pytest-django's test database and its transactions want plain connections; the server
# processes that live tests start get the pool from their own environment.
os.environ.setdefault("DB_POOL_MAX_SIZE", "0")
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"open120-test-{os.getpid()}")

from callcenter.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the process that queues them (the outbox's delivery after commit), so a test
# sees the whole path; tests of the worker process itself send through the broker by name.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / "var" / f"test-media-{os.getpid()}"  # noqa: F405
# Each test clears the cache (rate limits); a local one, so no test ever flushes Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# SQLite's in-memory test database shares one cache between connections, where a busy table
# fails at once ("table is locked") instead of waiting; sockets write from several threads,
# so the SQLite test database is a file that honours the busy timeout.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
