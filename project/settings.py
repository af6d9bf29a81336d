"""Settings for every environment, read once from environment variables with safe defaults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_stubs_ext
import redis
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from project.consumer import THREAD, WORKER_TYPES
from project.env import (
    env_bool,
    env_choice,
    env_database,
    env_decimal,
    env_float,
    env_int,
    env_list,
    env_log_level,
    env_port,
    env_rate,
    env_redis_url,
    env_str,
)
from project.huey_stats import StatsDatabase
from project.logs import JSON, LOG_FORMATS, TEXT, logging_config

# Lets classes such as ModelAdmin[Payout] be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))

INSECURE_SECRET_KEY = "django-insecure-payout-service-development-key"
SECRET_KEY = env_str("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
if not DEBUG and SECRET_KEY == INSECURE_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is false: the default key is public."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

# HTTPS only outside DEBUG; with DEBUG on, `make run` serves plain http://127.0.0.1 untouched.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The TLS-terminating proxy says the client's scheme; it must set or strip this header, or a
# client could claim HTTPS over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Orchestrators and the compose healthcheck probe over plain HTTP and do not follow redirects.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to WhiteNoise, as gunicorn does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "strawberry_django",
    "huey.contrib.djhuey",
    # Huey's own dashboard in the admin: queue depth, throughput, errors, running tasks.
    "huey.contrib.djhuey.stats",
    "django_prometheus",
    # Its abstract key model, hasher and admin are what clients.ApiKey builds on; its own
    # concrete APIKey model is unused (and hidden from the admin).
    "rest_framework_api_key",
    "clients",
    "payouts",
    "idempotency",
    "events",
    "webhooks",
    "rest_api",
    "graphql_api",
    "fake_provider",
]

MIDDLEWARE = [
    # django-prometheus' pair: first and last, so that request metrics time the whole stack.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Outermost but for the metrics' timer, so that every response (a redirect, a 500 too)
    # names its request, and every line logged while serving it carries the id.
    "project.request_id.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# The admin shows a new API key once, in a message: kept in the server-side session, not in the
# signed but readable cookie Django uses by default.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

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
            ],
        },
    },
]

# On PostgreSQL, the most connections one process (a web worker, a consumer) opens, whatever
# its threads or greenlets: they share them, one short transaction at a time.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 20, minimum=2)
# One of them is the Huey stats recorder's (HUEY_STATS below): its writer thread holds its own.
# peewee opens one per thread that uses it, so a web thread that served the dashboard, and
# each consumer worker as it flushes the last events at shutdown, add one beyond the count.
DATABASES = {
    "default": env_database(
        "DATABASE_URL", DATA_DIR / "db.sqlite3", pool_size=DATABASE_POOL_SIZE - 1
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves the static files from gunicorn itself, with DEBUG off too. The image sets
# STATIC_COLLECTED and runs collectstatic when it is built: files are then served as
# collectstatic wrote them into STATIC_ROOT, compressed, under names that carry a hash of their
# content, so browsers may cache them for ever. Anywhere else (tests, `make run`, honcho) they
# are served from the installed apps as they are, with no collectstatic step to forget.
STATIC_COLLECTED = env_bool("STATIC_COLLECTED", False)
STATIC_ROOT = BASE_DIR / "staticfiles" if STATIC_COLLECTED else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

# Every page loads its scripts, styles, fonts and images from this service alone: Swagger UI,
# ReDoc (drf-spectacular-sidecar) and GraphiQL (graphql_api/graphiql-vendor.lock) included, so
# they work offline, and an injected script or a script from elsewhere does not run. Inline
# styles are allowed: ReDoc builds its styles in the page, and the admin and the browsable API
# carry style blocks and attributes.
CONTENT_SECURITY_POLICY = {
    # Huey's dashboard in the admin runs inline scripts: its refresh, and a confirmation before
    # each action that deletes tasks. Under the policy that confirmation would not run, and the
    # action would go ahead unasked.
    "EXCLUDE_URL_PREFIXES": ["/admin/hueystats/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The payment provider: `simulated` (a delay and a failure rate) or `http` (Provider HTTP
# contract v1, in the README, at PAYOUT_PROVIDER_URL).
PAYOUT_PROVIDER = env_choice("PAYOUT_PROVIDER", "simulated", ("simulated", "http"))
PAYOUT_PROVIDER_URL = env_str("PAYOUT_PROVIDER_URL", "")
PAYOUT_PROVIDER_TOKEN = env_str("PAYOUT_PROVIDER_TOKEN", "")
PAYOUT_PROVIDER_TIMEOUT_SECONDS = env_float("PAYOUT_PROVIDER_TIMEOUT_SECONDS", 10.0, minimum=0.1)
_PROVIDER_URL = urlsplit(PAYOUT_PROVIDER_URL)
if PAYOUT_PROVIDER == "http" and (
    _PROVIDER_URL.scheme not in {"http", "https"} or not _PROVIDER_URL.hostname
):
    raise ImproperlyConfigured(
        "PAYOUT_PROVIDER_URL must be an http:// or https:// URL when PAYOUT_PROVIDER is http, "
        f"got {PAYOUT_PROVIDER_URL!r}."
    )
# The simulated provider's knobs.
PAYOUT_PROCESSING_DELAY_SECONDS = env_float("PAYOUT_PROCESSING_DELAY_SECONDS", 5.0)
PAYOUT_FAILURE_RATE = env_float("PAYOUT_FAILURE_RATE", 0.1, maximum=1.0)
# Payout rules and processing knobs.
PAYOUT_MAX_RETRIES = env_int("PAYOUT_MAX_RETRIES", 3)
PAYOUT_RETRY_DELAY_SECONDS = env_float("PAYOUT_RETRY_DELAY_SECONDS", 2.0)
# Each retry waits twice as long as the one before (2, 4, 8 s with the defaults), up to this.
PAYOUT_RETRY_BACKOFF = 2
PAYOUT_RETRY_MAX_DELAY_SECONDS = env_float("PAYOUT_RETRY_MAX_DELAY_SECONDS", 120.0)
# Attempts a payout gets past its budget when an earlier attempt may have paid (its answer
# was lost): asking again under the same key is the only way to learn whether it did.
PAYOUT_UNKNOWN_OUTCOME_RETRIES = env_int("PAYOUT_UNKNOWN_OUTCOME_RETRIES", 10)
PAYOUT_LIST_EXACT_COUNT_LIMIT = env_int("PAYOUT_LIST_EXACT_COUNT_LIMIT", 10_000, minimum=1)
PAYOUT_MAX_AMOUNT = env_decimal("PAYOUT_MAX_AMOUNT", Decimal("1000000.00"), places=2)
if Decimal("1e10") <= PAYOUT_MAX_AMOUNT:
    raise ImproperlyConfigured(
        "PAYOUT_MAX_AMOUNT must fit DecimalField(12, 2): below 10000000000.00."
    )

# Recovery: how long a payout may sit untouched before the periodic sweep takes it back.
PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = env_int("PAYOUT_RECOVERY_PENDING_AFTER_SECONDS", 120)
PAYOUT_PROCESSING_LEASE_SECONDS = env_int("PAYOUT_PROCESSING_LEASE_SECONDS", 300, minimum=1)
# A live payout goes untouched for at most one provider call plus the longest wait between two
# attempts; a shorter lease would have the sweep retry payouts whose own retry is merely
# scheduled. An http call's timeout applies to connecting, sending and reading in turn.
_PROVIDER_CALL_SECONDS = (
    3 * PAYOUT_PROVIDER_TIMEOUT_SECONDS
    if PAYOUT_PROVIDER == "http"
    else PAYOUT_PROCESSING_DELAY_SECONDS
)
_LONGEST_QUIET_SECONDS = _PROVIDER_CALL_SECONDS + PAYOUT_RETRY_MAX_DELAY_SECONDS
if PAYOUT_PROCESSING_LEASE_SECONDS <= _LONGEST_QUIET_SECONDS:
    raise ImproperlyConfigured(
        "PAYOUT_PROCESSING_LEASE_SECONDS must be longer than a provider call plus the longest "
        f"retry wait ({_LONGEST_QUIET_SECONDS:g} s with these settings), or live payouts would "
        "be taken for abandoned ones."
    )

REDIS_URL = env_redis_url("REDIS_URL")
# How long a web process trusts a key it checked: a revocation or a deactivated client made in
# another process reaches it within this time (in its own process, at once). 0: every request
# reads the key from the database.
PAYOUT_API_KEY_CACHE_SECONDS = env_float("PAYOUT_API_KEY_CACHE_SECONDS", 5.0)
# How long a client's Idempotency-Key is remembered: a retry within it replays the first answer,
# after it the key is forgotten (purged by a periodic task) and starts anew.
PAYOUT_IDEMPOTENCY_TTL_HOURS = env_int("PAYOUT_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
# Requests a client may make, e.g. "100/second" or "6000/minute"; unset or empty: no limit.
PAYOUT_RATE_LIMIT = env_rate("PAYOUT_RATE_LIMIT")
HUEY_WORKERS = env_int("HUEY_WORKERS", 4, minimum=1)
# Greenlets (gevent) let thousands of payouts wait on the provider at once in one process;
# manage.py patches the standard library for them before anything else is imported.
HUEY_WORKER_TYPE = env_choice("HUEY_WORKER_TYPE", THREAD, WORKER_TYPES)
HUEY: dict[str, Any] = {
    "name": "payouts",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    "consumer": {
        "workers": HUEY_WORKERS,
        "worker_type": HUEY_WORKER_TYPE,
        # SIGTERM (what Docker and Kubernetes send) lets running payouts finish; past the
        # timeout they are interrupted and released for another consumer.
        "graceful_signal": "TERM",
        "shutdown_timeout": env_float("HUEY_SHUTDOWN_TIMEOUT", 30.0),
    },
}
if REDIS_URL:
    # Each worker holds a connection while it waits on the queue (BRPOP), and redis-py caps a
    # pool at 100 unless told otherwise: a consumer of 150 workers failed to read the queue
    # with "Too many connections". Workers, the scheduler and the main thread bound it already;
    # the cap left is Redis's own default maxclients.
    HUEY |= {
        "huey_class": "huey.RedisHuey",
        "connection_pool": redis.ConnectionPool.from_url(REDIS_URL, max_connections=10_000),
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3")}

# Every process (web and consumer) records its Huey task events for the admin's Huey dashboard
# in one database: PostgreSQL's when DATABASE_URL names one, so that the web processes see what
# consumers in other containers or on other machines recorded, else a SQLite file beside
# Huey's own. It keeps the newest `max_events` events (or 48 hours of them).
HUEY_STATS: dict[str, Any] = {"max_events": 20_000}
_DEFAULT_DB = DATABASES["default"]
if _DEFAULT_DB["ENGINE"].endswith("postgresql"):
    _connect = {
        key: _DEFAULT_DB[setting]
        for key, setting in (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST"))
        if _DEFAULT_DB[setting]
    }
    if _DEFAULT_DB["PORT"]:
        _connect["port"] = int(_DEFAULT_DB["PORT"])
    HUEY_STATS["database"] = StatsDatabase(_DEFAULT_DB["NAME"], connect_timeout=5, **_connect)
else:
    HUEY_STATS["filename"] = str(DATA_DIR / "huey-stats.sqlite3")

# Metrics. /metrics is open unless METRICS_TOKEN is set; then it wants `Authorization: Bearer`.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Each consumer serves its own metrics on this port, on every interface; unset: it serves none.
WORKER_METRICS_PORT = env_port("WORKER_METRICS_PORT")
# How often each consumer process writes its heartbeat; one unrenewed for three of these is a
# consumer gone.
PAYOUT_WORKER_HEARTBEAT_SECONDS = env_float("PAYOUT_WORKER_HEARTBEAT_SECONDS", 10.0, minimum=0.1)

# Webhooks. Endpoint URLs must be https:// and reach a public address unless these say
# otherwise (tests and local runs); the address is checked after DNS resolution, at every
# delivery too.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# A failed delivery is tried again after this, then twice as long each time (with jitter),
# up to WEBHOOK_MAX_ATTEMPTS attempts in all.
WEBHOOK_RETRY_DELAY_SECONDS = env_float("WEBHOOK_RETRY_DELAY_SECONDS", 5.0, minimum=0.0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
# An endpoint every delivery to which failed for this long is disabled.
WEBHOOK_DISABLE_AFTER_HOURS = env_float("WEBHOOK_DISABLE_AFTER_HOURS", 72.0, minimum=0.0)
# Deliveries run on their own queue and consumer (`manage.py run_webhooks`, webhooks.queue), so
# slow receivers hold only these workers, never the payouts'. Most of a worker's time is a wait
# on a receiver (up to 15 s), hence more of them than HUEY_WORKERS; greenlets for thousands.
WEBHOOK_WORKERS = env_int("WEBHOOK_WORKERS", 16, minimum=1)
WEBHOOK_WORKER_TYPE = env_choice("WEBHOOK_WORKER_TYPE", THREAD, WORKER_TYPES)
# On SIGTERM running deliveries get this long to finish (a send takes at most 15 s); one cut
# short is sent again by the sweep.
WEBHOOK_SHUTDOWN_TIMEOUT = env_float("WEBHOOK_SHUTDOWN_TIMEOUT", 20.0, minimum=0.0)
# A pending delivery this long past due (past the 30 s claim of an attempt in flight) lost its
# task message or its worker: the minutely sweep sends it again. Longer than a backlog of due
# messages usually waits in the queue, or the sweep enqueues duplicates (harmless: claimed).
WEBHOOK_SWEEP_GRACE_SECONDS = env_float("WEBHOOK_SWEEP_GRACE_SECONDS", 60.0, minimum=0.0)

# Live updates: GraphQL subscriptions over WebSocket, fed by the event stream. A relay reads the
# stream every LIVE_RELAY_POLL_SECONDS and announces new events through the Channels layer
# (events.relay): with Redis, one relay (holding a lease that outlives it by
# LIVE_RELAY_LEASE_SECONDS) announces to every web process through Redis's pub/sub; without, each
# web process relays to its own in-memory layer.
LIVE_RELAY_POLL_SECONDS = env_float("LIVE_RELAY_POLL_SECONDS", 0.05, minimum=0.01, maximum=60.0)
LIVE_RELAY_LEASE_SECONDS = env_float("LIVE_RELAY_LEASE_SECONDS", 5.0, minimum=1.0)
# A subscription that heard nothing this long reads the stream itself: what an announcement lost
# on the way (Redis reconnecting) would have told it.
LIVE_RESYNC_SECONDS = env_float("LIVE_RESYNC_SECONDS", 30.0, minimum=1.0)
if REDIS_URL:
    _REDIS_DB = redis.connection.parse_url(REDIS_URL).get("db", 0)  # type: ignore[no-untyped-call]
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # An unreachable Redis fails an announcement in seconds.
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2, "socket_timeout": 5}],
                # Redis's pub/sub ignores database numbers: the prefix keeps deployments that
                # share a Redis server on different databases from hearing each other.
                "prefix": f"payouts-live-db{_REDIS_DB}",
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {
                # Group membership lasts as long as the subscription (Channels' default: a day).
                "group_expiry": 10 * 365 * 24 * 3600,
                # The process's one channel (events.hub) takes a relay's whole batch, 500
                # events to three groups each (Channels' default: 100, the rest dropped).
                "capacity": 2_000,
            },
        }
    }
# The events a subscriber may leave unread (the network or the client is slower than they
# come); past it the connection is closed (1008) and the client reconnects with `after`.
LIVE_BUFFER_EVENTS = env_int("LIVE_BUFFER_EVENTS", 100, minimum=1)
# How long a new connection may take to send connection_init before it is closed (4408).
LIVE_CONNECTION_INIT_SECONDS = env_float("LIVE_CONNECTION_INIT_SECONDS", 10.0, minimum=0.1)
# How often an open connection's key is checked again: once revoked, expired or of a deactivated
# client, the connection is closed (4401) within this time (plus PAYOUT_API_KEY_CACHE_SECONDS).
LIVE_KEY_CHECK_SECONDS = env_float("LIVE_KEY_CHECK_SECONDS", 30.0, minimum=0.1)
# Operations one connection may run at once.
LIVE_SUBSCRIPTIONS_PER_CONNECTION = 100
# A browser page may open a WebSocket from the service's own origin; these other origins too
# (e.g. https://app.example.com). A page there acts with the browser's staff session cookie,
# so list only origins you trust. Clients that are not browsers send no Origin.
LIVE_ALLOWED_ORIGINS = env_list("LIVE_ALLOWED_ORIGINS", [])

# A payout body is a few hundred bytes and a GraphQL document a few kilobytes; anything near
# this is abuse, refused with a 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_api.parsers.StrictJSONParser"],
    # A client's API key (Authorization: Bearer), or a staff user's admin session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_api.authentication.BearerKeyAuthentication",
        "rest_api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_api.authentication.HasCaller"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_api.authentication.ClientRateThrottle"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_api.pagination.PayoutPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rest_api.errors.exception_handler",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Payout Management Service",
    "DESCRIPTION": (
        "Create payout requests, track them and let the background worker push them through "
        "the payment provider. Status moves PENDING → PROCESSING → COMPLETED | FAILED and is "
        "never writable through the API."
    ),
    "VERSION": "1.0.0",
    # Swagger UI and ReDoc from drf-spectacular-sidecar's pinned copies, served as static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its two viewers are public, whatever credentials a request carries.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rest_api.schema.forbid_unknown_request_fields",
        "rest_api.schema.describe_query_parameters",
        "rest_api.schema.document_response_headers",
        "rest_api.schema.name_enum_values",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PayoutStatusEnum": "payouts.models.PayoutStatus",
        "CurrencyEnum": "payouts.models.Currency",
        "EventTypeEnum": "events.models.EventType",
        "ErrorCodeEnum": "rest_api.responses.ERROR_CODES",
    },
}

# GraphQL
GRAPHQL_GRAPHIQL = env_bool("GRAPHQL_GRAPHIQL", DEBUG)
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10, minimum=1)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 15, minimum=1)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 2000, minimum=1)

# One JSON object per line in production, text for people under DEBUG (LOG_FORMAT chooses).
LOG_FORMAT = env_choice("LOG_FORMAT", TEXT if DEBUG else JSON, LOG_FORMATS)
LOG_LEVEL = env_log_level("LOG_LEVEL", "INFO")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
