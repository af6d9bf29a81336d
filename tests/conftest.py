"""Fixtures shared by every test: an API client, payout factories and a quiet, instant Huey."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import URLPattern, URLResolver, get_resolver
from huey.contrib.djhuey import HUEY
from huey.contrib.djhuey.stats.apps import stats_options
from huey.contrib.stats import MODELS as STATS_MODELS
from huey.contrib.stats import enable_stats
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient
from rest_framework.views import APIView

from clients import ratelimit
from clients.authentication import (
    MSG_CLIENT_INACTIVE,
    MSG_EXPIRED,
    MSG_INVALID,
    MSG_MALFORMED,
    MSG_NO_CREDENTIALS,
    MSG_REVOKED,
    MSG_WRONG_SCHEME,
)
from clients.models import ApiKey, Client
from clients.services import api_key_create
from payouts import services
from payouts.callers import Caller
from payouts.errors import ErrorCode
from payouts.models import Payout, PayoutStatus
from project import logs
from webhooks.queue import WEBHOOK_HUEY

ROOT = Path(__file__).resolve().parents[1]


def fresh_environment(**env: str) -> dict[str, str]:
    """The environment of a service started afresh: none of this process's payout, database,
    queue, consumer or HTTPS settings, only `env` on top of a production-like base (DEBUG off,
    a secret key set)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "PAYOUT_",
                "DATABASE_",
                "REDIS_",
                "HUEY_",
                "WEBHOOK_",
                "SECURE_",
                "DJANGO_SETTINGS_MODULE",
            )
        )
    }
    clean.update({"SECRET_KEY": "s3cret", "DEBUG": "false", **env})
    return clean


def run_in_fresh_process(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python `code` in a new interpreter at the repository root, as a service starts, in
    `fresh_environment(**env)`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=fresh_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="session", autouse=True)
def _huey_stats_on_the_test_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL, Huey's stats recorder (its own peewee connection, opened at start-up)
    points at the database DATABASE_URL names, which pytest-django replaced by a test database
    it made later, and which need not even exist: point the recorder at the test database, as
    a service process started on it is."""
    if django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        yield
        return
    request.getfixturevalue("django_db_setup")
    stats = getattr(HUEY, "_stats", None)
    database = django_settings.HUEY_STATS["database"]
    database.init(connection.settings_dict["NAME"])
    if stats is None:
        stats = enable_stats(HUEY, database, **stats_options())
    else:
        database.create_tables(STATS_MODELS, safe=True)
    yield
    # Its connections (the writer thread's, this thread's) would keep the test database from
    # being dropped.
    stats.close()
    database.close()


@pytest.fixture(autouse=True)
def _instant_processing(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    """Unit tests run tasks in-process (Huey immediate mode) with no delay and no random failure."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PAYOUT_PROCESSING_DELAY_SECONDS = 0
    settings.PAYOUT_FAILURE_RATE = 0
    HUEY.immediate = True
    WEBHOOK_HUEY.immediate = True
    yield
    HUEY.storage.flush_all()
    WEBHOOK_HUEY.storage.flush_all()


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no request counted: on SQLite a rolled-back test's client pk is
    handed out again, so the next test's client would inherit its count in the memory store."""
    monkeypatch.setattr(ratelimit, "_memory", ratelimit._MemoryCounts())
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)


@dataclass(frozen=True)
class KeyHolder:
    """A client with one API key, as `create_api_key` makes them."""

    client: Client
    api_key: ApiKey
    key: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.key}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    @property
    def caller(self) -> Caller:
        return Caller.for_key(self.client, self.api_key.prefix)


def key_holder(client_name: str) -> KeyHolder:
    api_key, key = api_key_create(client_name)
    return KeyHolder(api_key.client, api_key, key)


@pytest.fixture
def owner(db: None) -> KeyHolder:
    """The client whose key the tests' API clients use and whose payouts the factories make."""
    return key_holder("acme")


@pytest.fixture
def stranger(db: None) -> KeyHolder:
    """Another client: it must never see or change the owner's payouts."""
    return key_holder("globex")


@dataclass(frozen=True)
class Refusal:
    """Credentials both APIs refuse with 401, and what they must say."""

    authorization: str | None  # the Authorization header, or None to send none
    code: ErrorCode
    message: str
    prefix: str | None = None  # the key prefix the message names, when it knows one


UNKNOWN_PREFIX = "Unknown1"
UNKNOWN_KEY = f"{UNKNOWN_PREFIX}.{'k' * 32}"
EXPIRED_AT = datetime(2020, 1, 1, tzinfo=UTC)

# Every way a request can lack a valid key; `refusal` builds each from the owner's key.
REFUSALS = [
    "no header",
    "Token scheme",
    "malformed key",
    "unknown key",
    "wrong secret",
    "revoked key",
    "expired key",
    "inactive client",
]


def refusal(case: str, owner: KeyHolder) -> Refusal:
    """Set the owner's key up for `case` (revoke it, expire it...) and return the refusal."""
    prefix = owner.api_key.prefix
    if case == "no header":
        return Refusal(None, ErrorCode.NOT_AUTHENTICATED, MSG_NO_CREDENTIALS)
    if case == "Token scheme":
        return Refusal(f"Token {owner.key}", ErrorCode.NOT_AUTHENTICATED, MSG_WRONG_SCHEME)
    if case == "malformed key":
        return Refusal("Bearer not-a-key", ErrorCode.AUTHENTICATION_FAILED, MSG_MALFORMED)
    if case == "unknown key":
        message = MSG_INVALID.format(prefix=UNKNOWN_PREFIX)
        authorization = f"Bearer {UNKNOWN_KEY}"
        return Refusal(authorization, ErrorCode.AUTHENTICATION_FAILED, message, UNKNOWN_PREFIX)
    if case == "wrong secret":
        wrong = f"{prefix}.{'w' * 32}"
        message = MSG_INVALID.format(prefix=prefix)
        return Refusal(f"Bearer {wrong}", ErrorCode.AUTHENTICATION_FAILED, message, prefix)
    if case == "revoked key":
        ApiKey.objects.filter(pk=owner.api_key.pk).update(revoked=True)
        message = MSG_REVOKED.format(prefix=prefix)
        return Refusal(owner.authorization, ErrorCode.API_KEY_REVOKED, message, prefix)
    if case == "expired key":
        ApiKey.objects.filter(pk=owner.api_key.pk).update(expiry_date=EXPIRED_AT)
        message = MSG_EXPIRED.format(prefix=prefix, expiry=EXPIRED_AT)
        return Refusal(owner.authorization, ErrorCode.API_KEY_EXPIRED, message, prefix)
    if case == "inactive client":
        Client.objects.filter(pk=owner.client.pk).update(is_active=False)
        message = MSG_CLIENT_INACTIVE.format(prefix=prefix)
        return Refusal(owner.authorization, ErrorCode.CLIENT_INACTIVE, message, prefix)
    raise ValueError(case)


@pytest.fixture
def api_client(owner: KeyHolder) -> APIClient:
    """A REST client sending the owner's key, as every real client does."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=owner.authorization)
    return client


@pytest.fixture
def keyed_client(owner: KeyHolder) -> DjangoClient:
    """Django's test client sending the owner's key on every request."""
    return DjangoClient(headers=owner.headers)


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


def api_error(code: str, detail: str) -> dict[str, Any]:
    """The REST error body for an error that is not about one field."""
    return {
        "detail": detail,
        "code": code,
        "errors": [{"field": None, "code": code, "message": detail}],
    }


def field_errors(response: Any) -> dict[str | None, list[str]]:
    """A 400's errors as {field: [messages]}, after checking the envelope around them."""
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert (body["detail"], body["code"]) == ("Invalid input.", "invalid")
    messages: dict[str | None, list[str]] = {}
    for error in body["errors"]:
        messages.setdefault(error["field"], []).append(error["message"])
    return messages


def field_codes(response: Any) -> dict[str | None, list[str]]:
    codes: dict[str | None, list[str]] = {}
    for error in response.json()["errors"]:
        codes.setdefault(error["field"], []).append(error["code"])
    return codes


# DRF routes anyone may read, whatever credentials a request carries: the OpenAPI document and
# its two viewers.
OPEN_REST_ROUTES = {"schema", "swagger-ui", "redoc"}


def rest_operations() -> set[tuple[str, str]]:
    """(route name, HTTP method) of every DRF operation the URL resolver serves, less the open
    routes: what a key or a staff session is needed for."""
    operations: set[tuple[str, str]] = set()

    def walk(patterns: list[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is None or not issubclass(view_class, APIView):
                continue
            if pattern.name in OPEN_REST_ROUTES:
                continue
            # A viewset's methods are its actions' (DRF adds `head` to them once it has served
            # a GET); any other view's are the handlers it defines.
            actions = getattr(pattern.callback, "actions", None)
            methods = actions or [m for m in view_class.http_method_names if hasattr(view_class, m)]
            operations.update(
                (str(pattern.name), method.upper())
                for method in methods
                if method not in ("head", "options")
            )

    walk(get_resolver().url_patterns)
    return operations


def payout_queries(captured: Any) -> list[str]:
    """The SQL of captured queries, less the API key check's (a lookup by prefix, and at most
    one write of last_used_at a minute): what serving the request itself cost."""
    return [query["sql"] for query in captured if '"clients_apikey"' not in query["sql"]]


def post_graphql(
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    client: DjangoClient | None = None,
) -> Any:
    """POST a GraphQL document to /graphql/ (by default with no credentials and a fresh client)
    and return the response unchecked."""
    return (client or DjangoClient()).post(
        "/graphql/",
        {"query": query, "variables": variables or {}},
        content_type="application/json",
        headers=headers or {},
    )


def payout_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "amount": "250.00",
        "currency": "EUR",
        "recipient_details": {"account_number": "DE89370400440532013000", "bank_name": "DB"},
        "description": "Contractor payment - March",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def make_payout(owner: KeyHolder) -> Callable[..., Payout]:
    """Create an owner's payout through the service, optionally forcing a status as a worker
    would."""

    def make(status: str = PayoutStatus.PENDING, **overrides: Any) -> Payout:
        payout = services.payout_create(owner.caller, payout_payload(**overrides))
        if status != PayoutStatus.PENDING:
            fields: dict[str, Any] = {"status": status, "attempts": 1}
            if status == PayoutStatus.FAILED:
                fields["failure_code"] = "provider_unavailable"
                fields["failure_reason"] = "Failed after 1 attempt(s): declined"
            Payout.objects.filter(pk=payout.pk).update(**fields)
            payout.refresh_from_db()
        return payout

    return make


@pytest.fixture
def pending_payout(make_payout: Callable[..., Payout]) -> Payout:
    return make_payout(amount=Decimal("100.00"))


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every line logged from INFO up, through the service's JSON formatter and filter, parsed
    one line at a time."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(logs.JSON))
    handler.addFilter(logs.QueueUnreachable())
    # "huey" does not propagate: the service's handler is attached to it too.
    loggers = [logging.getLogger(), logging.getLogger("huey")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
