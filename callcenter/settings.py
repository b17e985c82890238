"""Open120 settings: one module, configured from the environment (12-factor).

Every value a deployment changes comes from an environment variable read through the
typed helpers below, which fail loudly on a value they cannot parse instead of guessing.
With nothing set beyond ``DEBUG=1`` the project runs embedded: SQLite under ``var/``, the
in-memory channel layer and a filesystem Celery broker, so ``make run`` needs no server.
"""

import ipaddress
import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from callcenter import __version__, devenv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


VERSION = __version__

# --- Safety --------------------------------------------------------------------------------
# A deployment says it is production with OPEN120_ENV=production; anything that runs with
# DEBUG off is treated as production too. Production must never run with DEBUG on (it leaks
# settings and personal data in error pages) nor with the development secret (anyone could
# forge sessions and signed survey links).
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-open120-development-only-do-not-use-in-production"  # noqa: S105
# A development checkout: what `make run` keeps in var/development.env (a SECRET_KEY made for
# this checkout, the PUBLIC_BASE_URL of its port) fills in what the environment leaves unset,
# so commands typed in another shell match the server. Production and tests never read it.
if os.environ.get("OPEN120_ENV", "development").strip() == "development":
    devenv.env_file_apply(devenv.env_file_path())
OPEN120_ENV = env_choice("OPEN120_ENV", "development", ("development", "test", "production"))
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)

if OPEN120_ENV == "production" and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when OPEN120_ENV=production.")
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default: set SECRET_KEY (50+ random characters); "
        "in a development checkout `make run` keeps one in var/development.env."
    )
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off.")

PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_public_host = urlsplit(PUBLIC_BASE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "[::1]", _public_host] if DEBUG else [_public_host],
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

if not DEBUG:
    SESSION_COOKIE_SECURE = OPEN120_ENV == "production" or PUBLIC_BASE_URL.startswith("https://")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Production speaks HTTPS only: redirect plain HTTP (the load balancer's health check aside)
# and tell browsers never to try HTTP again (HSTS).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", OPEN120_ENV == "production")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 365 * 24 * 3600 if OPEN120_ENV == "production" else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from our own origin
# only, no inline scripts or event-handler attributes; sockets to our own host. Style
# attributes stay allowed (style-src-attr): templates escape what they show, so only our own
# markup carries them. Pages that may be framed say so themselves (the citizen chat).
_websocket_origin = ("wss://" if PUBLIC_BASE_URL.startswith("https://") else "ws://") + (
    urlsplit(PUBLIC_BASE_URL).netloc
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        # 'self' covers same-host sockets in current browsers; the explicit origin helps older
        # ones, and development reaches the server under several host names.
        "connect-src": ["'self'", _websocket_origin, *(["ws:", "wss:"] if DEBUG else [])],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Staff sessions end after SESSION_IDLE_SECONDS without a request: a request renews the
# cookie and the stored expiry (at most every SESSION_TOUCH_SECONDS, see
# callcenter.security.IdleSessionMiddleware), so only an idle session runs out.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS

# The client address behind a request: X-Forwarded-For is believed only from these proxies
# (IP addresses or networks, comma-separated); nobody's by default. See callcenter/clientip.py.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from None
# Rate limits (django-ratelimit) count in the shared cache; an unreachable cache lets requests
# through rather than refusing everyone.
RATELIMIT_FAIL_OPEN = True

# Staff logins (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES; a successful login resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "callcenter.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "callcenter.security.login_locked_out"

# --- Applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",  # first, so runserver serves ASGI (WebSockets) too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    "callcenter",
    "tickets",
    "knowledge",
    "channels_app",
    "axes",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]

MIDDLEWARE = [
    "callcenter.clientip.UntrustedForwardedHeadersMiddleware",  # first: before anyone reads them
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "callcenter.middleware.KoreanFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "callcenter.security.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "callcenter.security.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the login page's answer
]

ROOT_URLCONF = "callcenter.urls"
WSGI_APPLICATION = "callcenter.wsgi.application"
ASGI_APPLICATION = "callcenter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "callcenter.context_processors.workspace",
            ],
        },
    },
]

AUTH_USER_MODEL = "callcenter.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Database ------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'open120.sqlite3'}"
# PostgreSQL: a connection pool per process (psycopg_pool), DB_POOL_MAX_SIZE connections at
# most. Under ASGI every HTTP request runs in a thread of its own, so a connection kept per
# thread (CONN_MAX_AGE) grew with the requests in flight until PostgreSQL refused clients;
# with the pool a burst waits up to DB_POOL_TIMEOUT seconds for a free connection instead.
# DB_POOL_MAX_SIZE=0 turns the pool off (then CONN_MAX_AGE applies).
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 20)
# Worker threads per ASGI process for the sockets' database calls (0: asyncio's default).
# Few on purpose: they share one interpreter lock with the event loop, and the more of them
# are busy the less the loop gets to read frames and send events. Measured with make bench
# on 2 cores, 1,000 chats (more than one process can carry): 16 threads echoed 330 messages
# of 10,000 and 8 threads 746, 4 threads 3,249; at 200 chats 4 threads are as fast as 16
# (message p99 10.9 ms) and offer sooner (p99 184 ms against 279). Sends no longer wait in
# a thread (channels_app.events), so a thread is only ever busy with the database.
ASGI_THREADS = env_int("ASGI_THREADS", 4)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env_int("DB_POOL_TIMEOUT", 20),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers (ASGI
    # threads, the worker) queue behind it instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, cache ---------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
REQUIRE_SERVICES = env_bool("REQUIRE_SERVICES", False)
CHANNEL_LAYER_PREFIX = env_str("CHANNEL_LAYER_PREFIX", "open120")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's default 5 s read timeout races channels-redis's 5 s BZPOPMIN
                # and drops busy sockets; give blocking reads room.
                # redis-py's pool raises once it holds max_connections (no waiting): room
                # for every socket's receive plus the sends in flight (bounded in events).
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000),
                    }
                ],
                "prefix": CHANNEL_LAYER_PREFIX,
                "capacity": 1000,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
            # Rate limits fail open when Redis is gone; a hung Redis must not hang pages.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Kombu's filesystem transport: a broker that is just a folder, shared by the web
    # process (which sends) and the worker (which consumes).
    CELERY_BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # else ./control in the cwd
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

# --- Supervisor reports and QA ---------------------------------------------------------------
# The daily summary e-mail: to these addresses, at this Seoul hour, yesterday's figures.
REPORT_SUMMARY_RECIPIENTS = env_list("REPORT_SUMMARY_RECIPIENTS", [])
REPORT_SUMMARY_HOUR = env_int("REPORT_SUMMARY_HOUR", 7)
# The worker recomputes today's and yesterday's statistics rows every minute, and this many
# recent days every 15 minutes (FCR's 7-day window, late surveys change older days).
STATS_REFRESH_DAYS = env_int("STATS_REFRESH_DAYS", 8)
# QA random sampling: contacts per agent per week queued for evaluation.
QA_SAMPLE_PER_AGENT_WEEK = env_int("QA_SAMPLE_PER_AGENT_WEEK", 3)
# Wallboard alerts: a contact waiting longer than this (seconds) raises one.
WALLBOARD_WAIT_ALERT_SECONDS = env_int("WALLBOARD_WAIT_ALERT_SECONDS", 60)

CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Seoul"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Task modules beyond each app's tasks.py, which autodiscovery finds by itself.
CELERY_IMPORTS = ["tickets.tasks_surveys"]
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "callcenter.tasks.worker_heartbeat", "schedule": 30.0},
    "surveys-send-due": {"task": "tickets.tasks_surveys.surveys_send_due_task", "schedule": 60.0},
    # Retries and lost tasks of the outbox; a fresh row is sent by its own task on commit.
    "outbox-sweep": {"task": "callcenter.tasks.outbox_sweep_task", "schedule": 60.0},
    # KakaoTalk conversations the bot kept that went quiet (KAKAO_CONVERSATION_IDLE_SECONDS).
    "kakao-close-idle": {
        "task": "callcenter.tasks.kakao_conversations_close_idle_task",
        "schedule": 300.0,
    },
    # Call recordings past VOICE_RECORDING_RETENTION_DAYS: deleted at Twilio, once a day.
    "recordings-expire": {
        "task": "callcenter.tasks.recordings_expire_task",
        "schedule": 24 * 60 * 60.0,
    },
    # Supervisor reports: the recent buckets of the pre-aggregated statistics (StatRow),
    # recomputed from the raw rows (callcenter.services.stats).
    "stats-refresh": {"task": "callcenter.tasks.stats_refresh_task", "schedule": 60.0},
    # QA: N contacts per agent per week queued for evaluation (idempotent; hourly is enough).
    "qa-sample": {"task": "callcenter.tasks.qa_sample_task", "schedule": 60 * 60.0},
    # The supervisors' daily summary by e-mail (REPORT_SUMMARY_RECIPIENTS; none: not sent).
    "report-daily-summary": {
        "task": "callcenter.tasks.report_daily_summary_task",
        "schedule": crontab(hour=REPORT_SUMMARY_HOUR, minute=0),
    },
}
# /healthz names the worker stale when its heartbeat (every 30 s) is older than this.
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 120)
# SLA clocks (80 % warnings, breaches) are checked every SLA_CHECK_SECONDS (0: never) by the
# router loop of each ASGI process, whose sockets hear the notices. A worker's notices reach
# sockets only through Redis, so beat checks them too only then; the alert rows are unique,
# so checks running side by side notify once.
SLA_CHECK_SECONDS = env_int("SLA_CHECK_SECONDS", 60)
if REDIS_URL and SLA_CHECK_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["sla-check"] = {
        "task": "tickets.tasks.sla_check_task",
        "schedule": float(SLA_CHECK_SECONDS),
    }

# --- Channels: Twilio and messaging ---------------------------------------------------------
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_KEY = env_str("TWILIO_API_KEY")
TWILIO_API_SECRET = env_str("TWILIO_API_SECRET")
TWILIO_TWIML_APP_SID = env_str("TWILIO_TWIML_APP_SID")
TWILIO_CALLER_ID = env_str("TWILIO_CALLER_ID")
MESSAGING_BACKEND = env_choice("MESSAGING_BACKEND", "outbox", ("outbox", "console", "twilio"))
if MESSAGING_BACKEND == "twilio" and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN):
    raise ImproperlyConfigured(
        "MESSAGING_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
    )
# Calls: "simulated" (default: no Twilio account; call commands are built by Twilio's library
# and kept on their outbox rows, agents' consoles show a simulated softphone) or "twilio"
# (REST commands with the API key; agents' browsers get Voice SDK tokens).
VOICE_BACKEND = env_choice("VOICE_BACKEND", "simulated", ("simulated", "twilio"))
if VOICE_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID
    and TWILIO_API_KEY
    and TWILIO_API_SECRET
    and TWILIO_TWIML_APP_SID
    and TWILIO_CALLER_ID
):
    raise ImproperlyConfigured(
        "VOICE_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY, TWILIO_API_SECRET, "
        "TWILIO_TWIML_APP_SID and TWILIO_CALLER_ID (the city's number)."
    )
if VOICE_BACKEND == "twilio":
    # The console's Voice SDK signals to Twilio's edges (wss://voice-js.<edge>.twilio.com),
    # reports call quality to its event gateway and plays its ringtones from Twilio's host.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] += [
        "wss://*.twilio.com",
        "https://eventgw.twilio.com",
    ]
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["media-src"] += ["https://sdk.twilio.com"]
# A caller who has waited this long hears, with their place, "press 1 to be called back".
VOICE_CALLBACK_OFFER_SECONDS = env_int("VOICE_CALLBACK_OFFER_SECONDS", 120)
# Lifetime of an agent's Voice SDK token.
VOICE_TOKEN_TTL_SECONDS = env_int("VOICE_TOKEN_TTL_SECONDS", 600)
# Answered calls are recorded (dual channel) after the greeting's notice says so; recordings
# are deleted at Twilio and forgotten here after VOICE_RECORDING_RETENTION_DAYS.
VOICE_RECORDING = env_bool("VOICE_RECORDING", True)
VOICE_RECORDING_RETENTION_DAYS = env_int("VOICE_RECORDING_RETENTION_DAYS", 90)
# Live transcription of answered calls (Twilio Real-Time Transcriptions, Korean), announced
# in the greeting; each final segment becomes a message of the call.
VOICE_TRANSCRIPTION = env_bool("VOICE_TRANSCRIPTION", True)
# The interpreter line an agent conferences in, per caller language (E.164). By default
# every language goes to BBB Korea's volunteer interpretation line (1588-5644), as the
# 120 centres do; a city with its own contract sets VOICE_INTERPRETER_LINES, e.g.
# "en=+8215885644,zh=+8215885644".
VOICE_INTERPRETER_LINES = {
    language: number
    for language, _sep, number in (
        item.partition("=")
        for item in env_list(
            "VOICE_INTERPRETER_LINES",
            [f"{code}=+8215885644" for code in ("en", "zh", "ja", "vi", "mn")],
        )
    )
    if number
}

# --- Routing and chat ------------------------------------------------------------------------
ROUTING_OFFER_TIMEOUT_SECONDS = env_int("ROUTING_OFFER_TIMEOUT_SECONDS", 20)
ROUTING_WRAPUP_LIMIT_SECONDS = env_int("ROUTING_WRAPUP_LIMIT_SECONDS", 120)
ROUTING_REOFFER_AFTER_SECONDS = env_int("ROUTING_REOFFER_AFTER_SECONDS", 60)
# Every ASGI process runs the router loop (offer time-outs, wrap-up limits, queue positions):
# the events it publishes then reach that process's sockets even on the in-memory layer.
ROUTER_TICKER = env_bool("ROUTER_TICKER", True)
ROUTER_TICK_SECONDS = float(env_int("ROUTER_TICK_MS", 1000)) / 1000
# Sign-outs of closed consoles, abandoned chats and wrap-up limits (grace periods of tens of
# seconds) are checked this often, not every tick: each tick runs beside live conversations.
ROUTER_HOUSEKEEPING_SECONDS = env_int("ROUTER_HOUSEKEEPING_SECONDS", 5)
# Knowledge suggestions for the conversation a console shows wait this long after a citizen's
# message, so a burst of messages gives one search (off the message's own path).
KNOWLEDGE_SUGGEST_DELAY_SECONDS = float(env_int("KNOWLEDGE_SUGGEST_DELAY_MS", 800)) / 1000
# An agent whose last console socket has been gone this long is offline (reason: console
# closed); a reload within it keeps the presence. Each ASGI process's router loop refreshes the
# sockets it holds every third of it, so a crashed process's sockets go stale by themselves.
PRESENCE_GRACE_SECONDS = env_int("PRESENCE_GRACE_SECONDS", 30)
# A waiting web chat whose citizen has had no socket this long is abandoned; after
# CHAT_OFFER_GRACE_SECONDS without one it is no longer offered to agents.
CHAT_ABANDON_SECONDS = env_int("CHAT_ABANDON_SECONDS", 180)
CHAT_OFFER_GRACE_SECONDS = env_int("CHAT_OFFER_GRACE_SECONDS", 5)
CHAT_START_LIMIT_PER_HOUR = env_int("CHAT_START_LIMIT_PER_HOUR", 30)  # per client address
CHAT_MAX_UPLOAD_BYTES = env_int("CHAT_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
# Upload quotas: per chat (all its legs) and per client address per hour.
CHAT_UPLOAD_MAX_FILES = env_int("CHAT_UPLOAD_MAX_FILES", 10)
CHAT_UPLOAD_MAX_TOTAL_BYTES = env_int("CHAT_UPLOAD_MAX_TOTAL_BYTES", 20 * 1024 * 1024)
CHAT_UPLOADS_PER_HOUR = env_int("CHAT_UPLOADS_PER_HOUR", 30)
# After a chat ends its token still rates the chat and asks for the transcript this long;
# then the token is dead (sockets closed with 4410, HTTP 410) and the browser forgets it.
CHAT_AFTER_END_SECONDS = env_int("CHAT_AFTER_END_SECONDS", 600)
# Sites allowed to embed the citizen chat in an iframe (CSP frame-ancestors).
CHAT_EMBED_ORIGINS = env_list("CHAT_EMBED_ORIGINS", ["'self'"])
DATA_UPLOAD_MAX_MEMORY_SIZE = CHAT_MAX_UPLOAD_BYTES + 1024 * 1024

# --- Citizen pages: happy-call surveys and ticket tracking ----------------------------------
SURVEY_TOKEN_MAX_AGE_DAYS = env_int("SURVEY_TOKEN_MAX_AGE_DAYS", 14)
TRACK_LIMIT_PER_HOUR = env_int("TRACK_LIMIT_PER_HOUR", 10)  # lookups per client address

# --- Language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "KR"
PHONENUMBER_DEFAULT_FORMAT = "E164"

# --- Static files: all vendor assets come from npm (node_modules) or Python packages --------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/twilio-voice", BASE_DIR / "node_modules" / "@twilio" / "voice-sdk" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Serve straight from the finders when collectstatic has not run (development, tests).
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").exists()
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# Every handler masks registration numbers (callcenter.pii) in whatever it writes. Django's
# own loggers are redefined so that none keeps a default handler without the filter: their
# records (request lines with query strings, errors) reach the masked console handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "callcenter.pii.PersonalDataLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # every login at INFO; lockouts come at WARNING
    },
}

# --- Two-way SMS and WhatsApp (Twilio Messaging; issue 12) ----------------------------------
# Replies to citizens go from TWILIO_MESSAGING_FROM (a number or short code Twilio texts from;
# empty: the phone line's TWILIO_CALLER_ID) and, on WhatsApp, from TWILIO_WHATSAPP_FROM (the
# approved WhatsApp sender, E.164, sent as "whatsapp:+82…"; empty: WhatsApp replies fail with
# that reason).
TWILIO_MESSAGING_FROM = env_str("TWILIO_MESSAGING_FROM")
TWILIO_WHATSAPP_FROM = env_str("TWILIO_WHATSAPP_FROM")
# How long one outbound text may be. Twilio takes a body of up to 1,600 characters and splits
# it into segments the phone joins again, so the default splits only past that. A Korean
# carrier's own limits are counted in EUC-KR bytes (SMS 90, LMS 2,000): behind such a gateway
# set SMS_MAX_BYTES=2000 and each part is one LMS. Longer replies go as several messages, cut
# between sentences or words, numbered "(1/2)".
SMS_MAX_CHARS = env_int("SMS_MAX_CHARS", 1600)
SMS_MAX_BYTES = env_int("SMS_MAX_BYTES", 0)
if SMS_MAX_CHARS < 100 or SMS_MAX_BYTES < 0 or 0 < SMS_MAX_BYTES < 90:
    raise ImproperlyConfigured(
        "SMS_MAX_CHARS must be at least 100 and SMS_MAX_BYTES 0 (no byte limit) or at least 90."
    )

# --- KakaoTalk skill server (POST /kakao/skill; channels_app.kakao, callcenter.services.kakao)
# Open Builder sends this secret in the X-Skill-Secret header; empty: every request refused.
KAKAO_SKILL_SECRET = env_str("KAKAO_SKILL_SECRET", "")
# When set, the request's bot.id must be this bot's id.
KAKAO_BOT_ID = env_str("KAKAO_BOT_ID", "")
# Longer utterances get a polite answer asking for a shorter question (nothing stored).
KAKAO_UTTERANCE_MAX_CHARS = env_int("KAKAO_UTTERANCE_MAX_CHARS", 1000)
# Questions in a row the bot cannot answer before it hands the citizen to an agent.
KAKAO_HANDOVER_AFTER_UNANSWERED = env_int("KAKAO_HANDOVER_AFTER_UNANSWERED", 2)
# A bot-only conversation quiet this long is over; the next utterance starts a new one.
KAKAO_CONVERSATION_IDLE_SECONDS = env_int("KAKAO_CONVERSATION_IDLE_SECONDS", 1800)
# Kakao's callbackUrl works once within 60 s; keep a margin for the outbox to send it.
KAKAO_CALLBACK_WINDOW_SECONDS = env_int("KAKAO_CALLBACK_WINDOW_SECONDS", 50)
# Search scores (BM25F, knowledge.search) in hundredths: the best article is given as the
# answer when it scores at least this and clearly beats the second.
KAKAO_BOT_MIN_SCORE_CENTS = env_int("KAKAO_BOT_MIN_SCORE_CENTS", 800)
# At or above this search score the best article is the answer even when others score alike.
KAKAO_BOT_SURE_SCORE_CENTS = env_int("KAKAO_BOT_SURE_SCORE_CENTS", 2000)
# Wrong ticket-number / phone-digit pairs a Kakao user may try per hour.
KAKAO_TRACK_FAILURES_PER_HOUR = env_int("KAKAO_TRACK_FAILURES_PER_HOUR", 5)

# --- KakaoTalk: business messages (알림톡) and skill callbacks ------------------------------
# 알림톡 go through NHN Cloud's KakaoTalk Bizmessage API (callcenter.services.kakao_outbound)
# when MESSAGING_BACKEND is a real sender. Answers and happy-call surveys for citizens who
# came through KakaoTalk go as 알림톡 while KAKAO_BIZMSG_ENABLED (on once the app key, secret
# and sender key are set), else by SMS; never by SMS to a citizen who texted STOP.
KAKAO_BIZMSG_URL = env_str("KAKAO_BIZMSG_URL", "https://api-alimtalk.cloud.toast.com").rstrip("/")
KAKAO_BIZMSG_APPKEY = env_str("KAKAO_BIZMSG_APPKEY")
KAKAO_BIZMSG_SECRET = env_str("KAKAO_BIZMSG_SECRET")
KAKAO_BIZMSG_SENDER_KEY = env_str("KAKAO_BIZMSG_SENDER_KEY")
KAKAO_BIZMSG_ENABLED = env_bool(
    "KAKAO_BIZMSG_ENABLED",
    bool(KAKAO_BIZMSG_APPKEY and KAKAO_BIZMSG_SECRET and KAKAO_BIZMSG_SENDER_KEY),
)
if (
    KAKAO_BIZMSG_ENABLED
    and MESSAGING_BACKEND not in ("outbox", "console")
    and not (KAKAO_BIZMSG_APPKEY and KAKAO_BIZMSG_SECRET and KAKAO_BIZMSG_SENDER_KEY)
):
    raise ImproperlyConfigured(
        "KAKAO_BIZMSG_ENABLED needs KAKAO_BIZMSG_APPKEY, KAKAO_BIZMSG_SECRET and "
        "KAKAO_BIZMSG_SENDER_KEY (NHN Cloud KakaoTalk Bizmessage)."
    )
# Codes of the approved templates (their texts: callcenter.services.kakao_outbound).
KAKAO_BIZMSG_TEMPLATE_ANSWER = env_str("KAKAO_BIZMSG_TEMPLATE_ANSWER", "OPEN120_ANSWER")
KAKAO_BIZMSG_TEMPLATE_SURVEY = env_str("KAKAO_BIZMSG_TEMPLATE_SURVEY", "OPEN120_SURVEY")
# The only hosts a skill reply is POSTed to, whatever callbackUrl a request carried.
KAKAO_CALLBACK_HOSTS = env_list("KAKAO_CALLBACK_HOSTS", ["bot-api.kakao.com"])

# --- Sign-language video calls (WebRTC) -------------------------------------------------------
# The browsers' ICE servers, as RTCPeerConnection's iceServers (JSON list of {"urls", and for
# TURN "username" and "credential"}). Empty: host candidates only, enough on one network.
VIDEO_ICE_SERVERS = json.loads(env_str("VIDEO_ICE_SERVERS", "[]") or "[]")
if not isinstance(VIDEO_ICE_SERVERS, list) or not all(
    isinstance(server, dict) and server.get("urls") for server in VIDEO_ICE_SERVERS
):
    raise ImproperlyConfigured('VIDEO_ICE_SERVERS is a JSON list of {"urls": …} objects.')
# "twilio": each call also gets a short-lived TURN credential from Twilio Network Traversal
# (POST /2010-04-01/Accounts/<sid>/Tokens.json through the voice backend), valid this long.
VIDEO_TURN = env_choice("VIDEO_TURN", "", ("", "twilio"))
VIDEO_TURN_TTL_SECONDS = env_int("VIDEO_TURN_TTL_SECONDS", 3600)
# Recording of video calls: off unless the city turns it on, and then only with the
# citizen's consent, asked on the video page before the call starts.
VIDEO_RECORDING = env_bool("VIDEO_RECORDING", False)
VIDEO_RECORDING_MAX_BYTES = env_int("VIDEO_RECORDING_MAX_BYTES", 500 * 1024 * 1024)
# Signalling limits per socket: frames per second (sustained, and the burst allowed) and ICE
# candidates per connection attempt; an SDP larger than VIDEO_MAX_SDP_BYTES is refused.
VIDEO_SIGNAL_RATE_PER_SECOND = env_int("VIDEO_SIGNAL_RATE_PER_SECOND", 20)
VIDEO_SIGNAL_BURST = env_int("VIDEO_SIGNAL_BURST", 60)
VIDEO_MAX_CANDIDATES = env_int("VIDEO_MAX_CANDIDATES", 200)
VIDEO_MAX_SDP_BYTES = env_int("VIDEO_MAX_SDP_BYTES", 32 * 1024)
# A broken connection is restarted (ICE restart) for this long before the browsers give up.
VIDEO_RECOVERY_SECONDS = env_int("VIDEO_RECOVERY_SECONDS", 20)
# Test mode for the browsers: pass on only loopback candidates (tests must not leave the box).
VIDEO_LOOPBACK_ONLY = env_bool("VIDEO_LOOPBACK_ONLY", False)

# --- Sign-language video: the citizen's page (channels_app/video.py) --------------------------
# Per client address and hour: video calls started, and video call-back requests.
VIDEO_START_LIMIT_PER_HOUR = env_int("VIDEO_START_LIMIT_PER_HOUR", 30)
VIDEO_CALLBACK_LIMIT_PER_HOUR = env_int("VIDEO_CALLBACK_LIMIT_PER_HOUR", 10)

# --- Video calls: the voice relay (issue 13, relay helper) ------------------------------------
# The agent of a video call may conference a voice party (a department by phone) through the
# voice backend. Off: the console's relay answers 503 voice_unavailable.
VIDEO_RELAY = env_bool("VIDEO_RELAY", True)

# --- Sign-language video call-backs: the link sent by SMS (issue 13, video call-back helper) --
# The signed link a signing agent texts to a citizen who booked a video call-back opens the
# call with that agent for this long (seconds).
VIDEO_CALLBACK_LINK_SECONDS = env_int("VIDEO_CALLBACK_LINK_SECONDS", 7200)
