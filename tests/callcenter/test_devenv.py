"""`make run` on any port, and the README's commands typed afterwards without DEBUG=1.

Each test runs real processes (make, manage.py) that see only PATH, HOME and what the test
sets: the development file and the database live in a temporary folder.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

README = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
LINKS = (
    "from tickets.models import Survey; from tickets.services.surveys import survey_url; "
    "from channels_app.open311.rendering import discovery_record; "
    "print(survey_url(Survey(pk=1))); print(discovery_record(endpoint_url='x')['contact'])"
)


@pytest.fixture
def checkout(tmp_path) -> dict[str, str]:
    """The environment of a shell in a development checkout: no DEBUG, no SECRET_KEY."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env["OPEN120_ENV_FILE"] = str(tmp_path / "development.env")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'open120.sqlite3'}"
    return env


def run(args: list[str], env: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=settings.BASE_DIR,
    )


def python(command: str, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
    """``command`` as the README writes it (``python manage.py …``), in the project's venv."""
    args = command.split()
    assert args[0] == "python"
    return run([sys.executable, *args[1:]], env, **extra)


def make_run_setup(env: dict[str, str], port: int, *, migrate: bool = True) -> None:
    """What `make run PORT=…` does before it starts the servers, read from the Makefile."""
    plan = run(["make", "-n", "run", f"PORT={port}"], env)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    devenv = next(line for line in lines if "callcenter.devenv" in line)
    assert f'--public-base-url "http://127.0.0.1:{port}"' in devenv
    assert f'PUBLIC_BASE_URL="http://127.0.0.1:{port}"' in lines[-1]  # honcho's line
    result = run([sys.executable, "-m", "callcenter.devenv", "--public-base-url",
                  f"http://127.0.0.1:{port}"], env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "DEBUG=1 .venv/bin/python manage.py migrate --noinput" in lines
    if migrate:
        migrated = python("python manage.py migrate --noinput", env, DEBUG="1")
        assert migrated.returncode == 0, migrated.stderr


def test_make_run_on_another_port_sends_survey_and_open311_links_to_that_port(checkout):
    make_run_setup(checkout, 8010, migrate=False)
    shell = [sys.executable, "manage.py", "shell", "-c", LINKS]
    links = run(shell, checkout)
    assert links.returncode == 0, links.stderr
    survey, contact = links.stdout.strip().splitlines()[-2:]
    assert survey.startswith("http://127.0.0.1:8010/survey/")
    assert "http://127.0.0.1:8010" in contact
    explicit = run(shell, checkout, PUBLIC_BASE_URL="https://120.example.kr")
    assert "https://120.example.kr/survey/" in explicit.stdout


def test_the_readme_commands_work_without_debug_after_make_run(checkout, tmp_path):
    make_run_setup(checkout, 8000)
    line = {
        "external_id": "kb-readme-1",
        "title": "여권 재발급",
        "question": "여권을 잃어버렸어요",
        "answer": "가까운 구청 여권민원실에서 재발급을 신청합니다.",
        "category": "일반행정/여권",
        "status": "published",
    }
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    commands = [
        "python manage.py open311_key create NAME",
        "python manage.py open311_key list",
        "python manage.py import_knowledge FILE.jsonl",
        "python manage.py rebuild_search_index",
        "python manage.py export_knowledge",
    ]
    for command in commands:
        assert f"`{command.removeprefix('python manage.py ')}" in README or command in README
        result = python(command.replace("FILE.jsonl", str(articles)), checkout)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
        if command.endswith("export_knowledge"):
            assert "kb-readme-1" in result.stdout
    assert "DEBUG" not in checkout


def test_production_never_reads_the_development_file(checkout):
    make_run_setup(checkout, 8000, migrate=False)
    result = python("python manage.py check", checkout, OPEN120_ENV="production")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_the_development_secret_is_made_once_per_checkout(checkout):
    env_file = Path(checkout["OPEN120_ENV_FILE"])
    make_run_setup(checkout, 8000, migrate=False)
    first = env_file.read_text(encoding="utf-8")
    make_run_setup(checkout, 8010, migrate=False)
    second = env_file.read_text(encoding="utf-8")
    secret = next(line for line in first.splitlines() if line.startswith("SECRET_KEY="))
    assert secret in second and len(secret) > 60
    assert "PUBLIC_BASE_URL=http://127.0.0.1:8010" in second
    assert env_file.stat().st_mode & 0o077 == 0  # readable by its owner only
