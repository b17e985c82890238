"""The settings module refuses configurations that are unsafe in production."""

import os
import subprocess
import sys

from django.conf import settings

SAFE_SECRET = "s" * 60


def start_django(
    script: str = "import django; django.setup(); print('started')", **environment: str
) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh process that sees only ``environment`` (and PATH, HOME)."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    # Not the checkout's var/development.env (`make run` writes one): no secret from it.
    env["OPEN120_ENV_FILE"] = os.devnull
    env.update(environment, DJANGO_SETTINGS_MODULE="callcenter.settings")
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )


def test_debug_off_with_the_development_secret_refuses_to_start():
    result = start_django(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr


def test_production_with_debug_on_refuses_to_start():
    result = start_django(OPEN120_ENV="production", DEBUG="1", SECRET_KEY=SAFE_SECRET)
    assert result.returncode != 0
    assert "DEBUG must be off when OPEN120_ENV=production" in result.stderr


def test_production_with_the_development_secret_refuses_to_start():
    result = start_django(OPEN120_ENV="production", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_short_secret_is_refused_in_production():
    result = start_django(OPEN120_ENV="production", SECRET_KEY="short")
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_an_unparseable_boolean_is_an_error_not_a_guess():
    result = start_django(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_an_unknown_messaging_backend_is_refused():
    result = start_django(DEBUG="1", MESSAGING_BACKEND="pigeon")
    assert result.returncode != 0
    assert "MESSAGING_BACKEND='pigeon' must be one of" in result.stderr


def test_a_safe_production_configuration_starts():
    result = start_django(
        OPEN120_ENV="production",
        SECRET_KEY=SAFE_SECRET,
        ALLOWED_HOSTS="120.example.go.kr",
        PUBLIC_BASE_URL="https://120.example.go.kr",
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_development_with_debug_starts_with_embedded_defaults():
    script = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CELERY_BROKER_URL, s.LANGUAGE_CODE, s.TIME_ZONE, s.USE_TZ)"
    )
    result = start_django(script, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "filesystem://",
        "ko",
        "Asia/Seoul",
        "True",
    ]


def test_redis_url_switches_layer_broker_and_cache_to_redis():
    script = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL,"
        " s.CACHES['default']['BACKEND'])"
    )
    result = start_django(script, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "channels_redis.core.RedisChannelLayer",
        "redis://127.0.0.1:6379/3",
        "django.core.cache.backends.redis.RedisCache",
    ]
