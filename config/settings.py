"""Settings, read from the environment once, with safe local defaults.

Nothing else in the project reads ``os.environ``. A variable the environment does not set
is taken from ``.env.local`` when that file exists (``make run`` writes it: the encryption
key and its local defaults), so that ``manage.py`` commands run with what ``make run`` ran
with. ``ORCHESTRATOR_ENV_FILE`` names another file, or none when empty; the test suite
never reads one. Two shapes of deployment:

* embedded (``make run`` on a fresh machine): SQLite, and when no Redis answers,
  an in-process broker, worker, beat and channel layer;
* distributed: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_file_values(path: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export`` and quotes allowed, ``#`` comments), as ``make run`` reads them."""
    try:
        lines = Path(path).read_text().splitlines()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return {}
    values = {}
    for line in lines:
        line = line.strip().removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if not sep or line.startswith("#") or not name.isidentifier():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


# Under pytest a developer's .env.local must not leak into the suite (tests/conftest.py
# also sets ORCHESTRATOR_ENV_FILE="" for the servers and workers the tests start).
ENV_FILE = os.environ.get("ORCHESTRATOR_ENV_FILE", "" if "pytest" in sys.modules else str(BASE_DIR / ".env.local"))
_ENV_FILE_VALUES = _env_file_values(ENV_FILE) if ENV_FILE else {}


def _env(name: str, default: str | None = None) -> str | None:
    """The environment first, then the env file, then ``default``."""
    value = os.environ.get(name)
    if value is None:
        value = _ENV_FILE_VALUES.get(name)
    return default if value is None else value


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def _redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=0.3):
            return True
    except OSError:
        return False


DEBUG = _env_bool("DEBUG", False)
# Outside DEBUG, servers and workers refuse to start on the development key (orchestrator/startup.py).
SECRET_KEY_CONFIGURED = bool(_env("DJANGO_SECRET_KEY"))
SECRET_KEY = _env("DJANGO_SECRET_KEY") or "insecure-local-development-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in _env("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h.strip()
]
PORT = _env_int("PORT", 8000)
ORCHESTRATOR_VERSION = "0.1.0"

# --- Database -------------------------------------------------------------------
DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
# The web tier's PostgreSQL pool (psycopg 3 and Django's native pool; SPEC names psycopg2, which
# has none). Under ASGI each request runs in a thread of its own, and a persistent connection per
# thread piled up idle connections until PostgreSQL refused new ones ("too many clients"). The web
# entry points (config/asgi.py, config/wsgi.py) switch to this pool (orchestrator/dbpool.py): at
# most ORCHESTRATOR_DB_POOL_MAX_SIZE connections per process, handed back at the end of each
# request; a request that finds them all busy waits up to ORCHESTRATOR_DB_POOL_TIMEOUT seconds
# (then 503, never 500). Workers, beat and commands keep one plain connection per process (and
# thread): a prefork child runs one task at a time, Celery closes a pool after every task, and a
# command should fail at once on a wrong DATABASE_URL rather than wait for a pool.
ORCHESTRATOR_DB_POOL_MAX_SIZE = _env_int("ORCHESTRATOR_DB_POOL_MAX_SIZE", 10)
ORCHESTRATOR_DB_POOL_TIMEOUT = float(_env("ORCHESTRATOR_DB_POOL_TIMEOUT", "30"))
ORCHESTRATOR_DB_POOL = {
    "min_size": min(2, ORCHESTRATOR_DB_POOL_MAX_SIZE),
    "max_size": ORCHESTRATOR_DB_POOL_MAX_SIZE,
    "timeout": ORCHESTRATOR_DB_POOL_TIMEOUT,
    "max_idle": 60,  # an idle connection is closed (down to min_size): a burst leaves none held for good
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite has one writer at a time and ignores SELECT ... FOR UPDATE. BEGIN IMMEDIATE takes
    # the write lock when a transaction starts, so writers queue (up to `timeout` seconds)
    # instead of failing with "database is locked" when a read lock cannot be upgraded; the
    # lock also stands in for the row locks the engine takes on PostgreSQL. WAL lets readers
    # (API, streams) go on while a step's transaction writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }

# --- Redis: broker, cache, channel layer ---------------------------------------
# REDIS_URL set → it must be used. Unset → use a local Redis if one answers and the
# database is PostgreSQL, else run embedded (in-process broker and channel layer;
# local-memory cache). SQLite allows one writer: separate worker processes on it
# would fail with "database is locked", so SQLite always runs embedded unless told.
_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
REDIS_URL = _env("REDIS_URL", "")
if not REDIS_URL and not _SQLITE and _redis_answers("redis://127.0.0.1:6379/0"):
    REDIS_URL = "redis://127.0.0.1:6379/0"
EMBEDDED = not REDIS_URL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, not a CDN
    "django_celery_beat",
    "channels",
    "orchestrator",
    "workflows",
    "apikeys",
    "runs",
    "integrations",
]

MIDDLEWARE = [
    "orchestrator.api.middleware.BodySizeLimitMiddleware",
    "orchestrator.api.middleware.InputGuardMiddleware",
    "orchestrator.tenancy.ratelimit.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and Swagger UI's static files under uvicorn, with or without DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
APPEND_SLASH = False
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

AUTH_USER_MODEL = "orchestrator.User"
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
# Static files are served from the apps' folders (WhiteNoise finders): no collectstatic
# step. STATIC_ROOT only matters to whoever runs collectstatic anyway.
STATIC_ROOT = _env("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Orchestrator knobs ---------------------------------------------------------
ORCHESTRATOR_MAX_BODY_BYTES = _env_int("ORCHESTRATOR_MAX_BODY_BYTES", 1024 * 1024)
# Nesting depth of any JSON or YAML value accepted (bodies, run inputs, step configs).
ORCHESTRATOR_MAX_JSON_DEPTH = _env_int("ORCHESTRATOR_MAX_JSON_DEPTH", 64)
# A stored workflow definition as compact JSON, however it arrives (create, update, import, duplicate).
ORCHESTRATOR_MAX_DEFINITION_BYTES = _env_int("ORCHESTRATOR_MAX_DEFINITION_BYTES", 4 * 1024 * 1024)
ORCHESTRATOR_MAX_OUTPUT_BYTES = _env_int("ORCHESTRATOR_MAX_OUTPUT_BYTES", 1024 * 1024)
ORCHESTRATOR_MAX_RESPONSE_BYTES = _env_int("ORCHESTRATOR_MAX_RESPONSE_BYTES", 5 * 1024 * 1024)
ORCHESTRATOR_RATE_LIMIT = _env_int("ORCHESTRATOR_RATE_LIMIT", 100)
ORCHESTRATOR_ENABLE_SCRIPTS = _env_bool("ORCHESTRATOR_ENABLE_SCRIPTS", False)
ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = _env_bool("ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS", False)
ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS = _env_int("ORCHESTRATOR_TENANT_MAX_CONCURRENT_RUNS", 100)
WORKFLOW_MAX_CONCURRENT_RUNS = _env_int("WORKFLOW_MAX_CONCURRENT_RUNS", 10)
ORCHESTRATOR_DEFAULT_STEP_TIMEOUT = _env_int("ORCHESTRATOR_DEFAULT_STEP_TIMEOUT", 300)
# A running step's lease; its worker renews it every third of this. Expired → the reaper steps in.
ORCHESTRATOR_STEP_LEASE_SECONDS = _env_int("ORCHESTRATOR_STEP_LEASE_SECONDS", 30)
# Web processes of `manage.py serve` (make run) in the distributed shape, and of docker-compose's
# web service (uvicorn reads WEB_CONCURRENCY itself). The embedded shape is always one process.
WEB_CONCURRENCY = max(1, _env_int("WEB_CONCURRENCY", 2))
# Eager successors: a task that records a step may claim one successor it made ready and run it
# next, without a broker round trip: at most this many per task (0: never) ...
ORCHESTRATOR_EAGER_STEPS = _env_int("ORCHESTRATOR_EAGER_STEPS", 50)
# ... and only within this many seconds of the task's start, so no task runs long.
ORCHESTRATOR_EAGER_SECONDS = float(_env("ORCHESTRATOR_EAGER_SECONDS", "2") or 2)
# A step whose worker died is re-queued this many times before its retry policy decides.
ORCHESTRATOR_MAX_WORKER_LOSSES = _env_int("ORCHESTRATOR_MAX_WORKER_LOSSES", 3)
# Delays up to this go to the broker as a countdown; longer ones are rows the sweeper dispatches.
ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS = _env_int("ORCHESTRATOR_SWEEP_THRESHOLD_SECONDS", 10)
# A queued step whose message has not been picked up for this long is sent again (a lost message).
# 120 s: a message a killed worker had reserved stays unacked in Redis for the visibility timeout
# (an hour); sending its step again sooner costs at most a refused claim.
ORCHESTRATOR_REDISPATCH_AFTER_SECONDS = _env_int("ORCHESTRATOR_REDISPATCH_AFTER_SECONDS", 120)
ORCHESTRATOR_ENCRYPTION_KEYS = _env("ORCHESTRATOR_ENCRYPTION_KEYS", "")
# Provider API roots; an integration's own base_url wins (tests and self-hosted gateways point them elsewhere).
ORCHESTRATOR_SLACK_BASE_URL = _env("ORCHESTRATOR_SLACK_BASE_URL") or "https://slack.com/api"
ORCHESTRATOR_OPENAI_BASE_URL = _env("ORCHESTRATOR_OPENAI_BASE_URL") or "https://api.openai.com/v1"
# Bytes of request body Django itself will read; the middleware answers 413 first.
DATA_UPLOAD_MAX_MEMORY_SIZE = ORCHESTRATOR_MAX_BODY_BYTES

# --- Retries of database and broker errors (orchestrator/engine/retries.py) -----------
# A task that meets a database or broker error (connection refused or reset, "too many
# clients", a deadlock) is sent again after a backoff with jitter, capped at this many seconds,
ORCHESTRATOR_TASK_RETRY_MAX_DELAY = float(_env("ORCHESTRATOR_TASK_RETRY_MAX_DELAY", "5"))
# up to this many times (≈15 minutes at the cap); after that the sweeper's safety nets
# (lost messages, lost admissions) take over.
ORCHESTRATOR_TASK_TRANSIENT_RETRIES = _env_int("ORCHESTRATOR_TASK_TRANSIENT_RETRIES", 180)
# Any other exception while claiming or recording a step is a bug: retried this many times,
# then the step and its run fail with the error, so that no run hangs on it.
ORCHESTRATOR_TASK_ERROR_RETRIES = _env_int("ORCHESTRATOR_TASK_ERROR_RETRIES", 3)

# --- Celery ---------------------------------------------------------------------
# Embedded: an in-process broker. Naming its host keeps kombu from warning that none was given.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each task unless this
# is set (celery#9824 reverted honouring CONN_MAX_AGE): a new PostgreSQL connection per step,
# 5-10 ms, more than the step itself. With it, a worker process keeps its connection for this
# many tasks; config/celery.py checks it before each task as Django does before a request
# (closed when unusable, or older than CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 1000
# Sending a task retries a broker hiccup for ~10 s (Celery's default gives up after ~1 s).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 10, "interval_start": 0.1, "interval_step": 0.5, "interval_max": 2}
# Redis redelivers an unacked task after this; every countdown we use stays far below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if not REDIS_URL:
    # The memory transport polls its queues (every second by default: a second per step).
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.01
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# One queue for everything; the test suite sets its own so that no other worker takes its tasks.
CELERY_TASK_DEFAULT_QUEUE = _env("ORCHESTRATOR_TASK_QUEUE", "orchestrator")
ORCHESTRATOR_SWEEP_INTERVAL = float(_env("ORCHESTRATOR_SWEEP_INTERVAL", "1"))
ORCHESTRATOR_REAP_INTERVAL = float(_env("ORCHESTRATOR_REAP_INTERVAL", "5"))
CELERY_BEAT_SCHEDULE = {
    # Due retries, finished waits, overdue runs: rows with a due time, never broker ETAs.
    "orchestrator-sweep": {
        "task": "orchestrator.sweep",
        "schedule": ORCHESTRATOR_SWEEP_INTERVAL,
        "options": {"expires": max(5.0, ORCHESTRATOR_SWEEP_INTERVAL * 5)},  # a busy worker skips stale sweeps
    },
    # Expired leases (dead workers) and lost messages.
    "orchestrator-reap": {
        "task": "orchestrator.reap",
        "schedule": ORCHESTRATOR_REAP_INTERVAL,
        "options": {"expires": max(10.0, ORCHESTRATOR_REAP_INTERVAL * 3)},
    },
}

# --- Channels -------------------------------------------------------------------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, the length of channels-redis's
            # blocking BZPOPMIN: idle receivers then fail with TimeoutError (channels_redis#422).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}], "capacity": 1000, "expiry": 60},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Seconds of silence before an SSE stream sends a `: keepalive` comment (and a live socket
# re-reads the database for an event the lossy channel layer may have dropped).
ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS = float(_env("ORCHESTRATOR_STREAM_HEARTBEAT_SECONDS", "15"))

# --- REST framework -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.ApiKeyAuthentication",
        "orchestrator.tenancy.authentication.TenantJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["orchestrator.tenancy.permissions.TenantRolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["orchestrator.tenancy.ratelimit.RedisRateThrottle"],
    # Bounded nesting, no NUL or lone surrogate (orchestrator/input_limits.py).
    "DEFAULT_PARSER_CLASSES": ["orchestrator.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "orchestrator.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "orchestrator.api.schema.OrchestratorAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=yaml` on export is ours, not DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=_env_int("ORCHESTRATOR_JWT_ACCESS_MINUTES", 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestrator API",
    "DESCRIPTION": "Define, version, run, schedule and watch workflows: DAGs of steps.",
    "VERSION": ORCHESTRATOR_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The docs work offline: their JavaScript, CSS and favicon come from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl None: Swagger UI would otherwise fetch a badge from its online validator.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "validatorUrl": None},
    # Several fields are called "status"/"state"/"trigger"; each choice set gets one clear name.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "runs.models.RunStatus",
        "StepStatusEnum": "runs.models.StepStatus",
        "RunTriggerEnum": "runs.models.RunTrigger",
        "WorkflowStatusEnum": "workflows.models.WorkflowStatus",
        "Seed002RunStatusEnum": ["cancelled", "error", "running", "success"],
        "HealthStatusEnum": ["ok", "starting", "degraded"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
