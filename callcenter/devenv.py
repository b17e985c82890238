"""A development checkout's own settings file, ``var/development.env``.

``make run`` writes it: a SECRET_KEY generated once for this checkout, the
PUBLIC_BASE_URL of the port it serves on, and a TWILIO_AUTH_TOKEN made up for this checkout
(no Twilio account: ``manage.py simulate_call`` signs its webhooks with it, as Twilio would
with a real one). The settings read it in development only (never
with OPEN120_ENV=production or test), under whatever the environment sets, so a
``python manage.py …`` typed in another shell signs and builds links like the server that
``make run`` started, without ``DEBUG=1`` in front. Standard library only: the settings
import it before Django is configured.
"""

import argparse
import os
import secrets
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "development.env"


def env_file_path() -> Path:
    """``OPEN120_ENV_FILE`` when set (tests point it elsewhere), else var/development.env."""
    return Path(os.environ.get("OPEN120_ENV_FILE") or DEFAULT_PATH)


def env_file_read(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def env_file_apply(path: Path) -> None:
    """Fill in the variables the environment leaves unset: the environment always wins."""
    for name, value in env_file_read(path).items():
        os.environ.setdefault(name, value)


def env_file_write(path: Path, *, public_base_url: str) -> dict[str, str]:
    """Keep the checkout's SECRET_KEY and Twilio auth token (made on the first run) and
    record PUBLIC_BASE_URL."""
    values = env_file_read(path)
    values.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    values.setdefault("TWILIO_AUTH_TOKEN", "development-" + secrets.token_hex(16))
    values["PUBLIC_BASE_URL"] = public_base_url.rstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    lines = ["# Written by `make run` for this development checkout; never used in production."]
    lines += [f"{name}={value}" for name, value in values.items()]
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(partial, path)
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--public-base-url", required=True, help="e.g. http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    path = env_file_path()
    values = env_file_write(path, public_base_url=args.public_base_url)
    print(
        f"{path}: PUBLIC_BASE_URL={values['PUBLIC_BASE_URL']}, SECRET_KEY and "
        "TWILIO_AUTH_TOKEN kept for this checkout"
    )


if __name__ == "__main__":
    main()
