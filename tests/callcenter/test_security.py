"""Staff logins, sessions and the browser-side protections of pages with personal data."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

PASSWORD = "correct-horse-battery"
LOCKED_OUT = "Too many failed logins for this username from your connection."


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def log_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_wrong_passwords_lock_the_username_out_even_for_the_right_password(
    english, agent_user, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [log_in(english, "minji", "wrong").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = log_in(english, "minji", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_OUT in response.text
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "_auth_user_id" not in english.session


def test_the_lockout_reads_in_korean_on_a_korean_login_page(client, agent_user, settings):
    settings.AXES_FAILURE_LIMIT = 1
    log_in(client, "minji", "wrong")
    response = log_in(client, "minji", PASSWORD)
    assert response.status_code == 429
    assert "로그인에 여러 번 실패하여" in response.text


def test_a_forged_forwarded_for_does_not_lift_a_lockout(english, agent_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for i in range(2):
        log_in(english, "minji", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    response = log_in(english, "minji", PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert response.status_code == 429


def test_a_lockout_is_per_username_and_address(english, agent_user, other_agent_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        log_in(english, "minji", "wrong")
    assert log_in(english, "junho", PASSWORD).status_code == 302
    from django.test import Client

    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(elsewhere, "minji", PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures(english, agent_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    log_in(english, "minji", "wrong")
    log_in(english, "minji", "wrong")
    assert log_in(english, "minji", PASSWORD).status_code == 302
    english.post(reverse("logout"))
    log_in(english, "minji", "wrong")
    log_in(english, "minji", "wrong")
    assert log_in(english, "minji", PASSWORD).status_code == 302


def test_a_staff_session_ends_after_the_idle_time(client, agent_user):
    assert log_in(client, "minji", PASSWORD).status_code == 302
    assert client.get(reverse("agent-console")).status_code == 200
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert timedelta(seconds=settings.SESSION_IDLE_SECONDS - 60) < remaining
    assert remaining <= timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("agent-console"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_request_pushes_the_idle_deadline_back(client, agent_user, settings):
    settings.SESSION_TOUCH_SECONDS = 0
    log_in(client, "minji", PASSWORD)
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get(reverse("agent-console")).status_code == 200
    remaining = Session.objects.get().expire_date - timezone.now()
    assert remaining > timedelta(seconds=settings.SESSION_IDLE_SECONDS - 60)


def test_a_busy_console_writes_its_session_at_most_once_a_minute(client, agent_user):
    log_in(client, "minji", PASSWORD)
    assert client.get(reverse("agent-console")).status_code == 200
    deadline = Session.objects.get().expire_date
    Session.objects.update(expire_date=deadline - timedelta(seconds=5))

    assert client.get(reverse("agent-console")).status_code == 200

    assert Session.objects.get().expire_date == deadline - timedelta(seconds=5)


@pytest.mark.parametrize("name", ["agent-console", "ticket-list", "supervisor-dashboard"])
def test_staff_pages_are_never_stored_by_the_browser(client, supervisor_user, agent_user, name):
    user = agent_user if name == "agent-console" else supervisor_user
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_citizen_pages_with_personal_data_are_never_stored(client):
    assert "no-store" in client.get(reverse("track"))["Cache-Control"]
    assert "no-store" in client.get(reverse("chat"))["Cache-Control"]


def test_pages_carry_a_content_security_policy_without_inline_script(client, agent_user):
    client.force_login(agent_user)
    response = client.get(reverse("agent-console"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style")[0]
    assert "frame-ancestors 'none'" in policy
    assert "onchange=" not in response.text and "hx-on" not in response.text


def production_env(database: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "DEBUG"))
    }
    env.update(
        OPEN120_ENV="production",
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="callcenter.settings",
        SECRET_KEY="production-like-secret-" + "k7Qz!x9#Lm2$" * 5,
        PUBLIC_BASE_URL="https://120.example.go.kr",
        ALLOWED_HOSTS="120.example.go.kr",
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL="",
    )
    return env


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=production_env(tmp_path / "db.sqlite3"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_answers_with_hsts_and_redirects_plain_http(tmp_path):
    """/chat/start answers a GET with 405 from the view, without templates or database."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "plain = c.get('/chat/start', HTTP_HOST='120.example.go.kr')\n"
        "secure = c.get('/chat/start', HTTP_HOST='120.example.go.kr', secure=True)\n"
        "print(plain.status_code, plain['Location'])\n"
        "print(secure['Strict-Transport-Security'])\n"
        "print(secure['Content-Security-Policy'])\n"
    )
    result = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=production_env(tmp_path / "db.sqlite3"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    redirect, hsts, policy = result.stdout.strip().splitlines()[-3:]
    assert redirect == "301 https://120.example.go.kr/chat/start"
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "default-src 'self'" in policy and "wss://120.example.go.kr" in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=|\shx-on", re.I)


@pytest.mark.parametrize(
    "name",
    [
        "login",
        "home",
        "agent-console",
        "supervisor-dashboard",
        "ticket-list",
        "knowledge-list",
        "faq",
        "track",
        "chat",
        "admin:index",
    ],
)
def test_pages_hold_no_script_the_policy_would_block(client, agent_user, administrator_user, name):
    """The policy allows our own script files only: inline code would silently not run."""
    user = agent_user if name == "agent-console" else administrator_user
    if name != "login":
        client.force_login(user)
    response = client.get(reverse(name), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER_ATTRIBUTE.findall(html) == []
