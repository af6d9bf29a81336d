"""Typed readers for environment variables that fail start-up with a message naming the variable."""

from __future__ import annotations

import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_float(
    name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None
) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {value!r}.")
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ImproperlyConfigured(f"{name} must be {bounds}, got {value!r}.")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None or value == "":
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be {' or '.join(choices)}, got {value!r}.")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    """A logging level name in any case (`debug`, `INFO`), returned in upper case."""
    value = _raw(name)
    if value is None or value == "":
        return default
    if value.upper() not in LOG_LEVELS:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(LOG_LEVELS)} (in any case), got {value!r}."
        )
    return value.upper()


def env_decimal(name: str, default: Decimal, *, places: int) -> Decimal:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a decimal number, got {value!r}.") from None
    if not number.is_finite() or number <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive decimal, got {value!r}.")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ImproperlyConfigured(f"{name} allows at most {places} decimal places, got {value!r}.")
    return number


# How long a checkout from the pool waits before failing. A consumer's greenlets share the pool
# one short transaction at a time: 1,000 of them starting together on 20 connections waited
# 1.4 s at most, 3,000 waited 3.4 s (measured; that is one core's queue, as 5 or 50 connections
# waited as long). A web process never waits for a free connection; it waits this long only
# for a server it cannot reach (the pool retries behind it), and must answer its 503 before
# gunicorn kills the worker at 30 s. A consumer whose claim times out retries it, unspent.
POOL_TIMEOUT_SECONDS = 10.0


def env_database(name: str, sqlite_path: Path, *, pool_size: int) -> dict[str, Any]:
    """Return a Django DATABASES entry: PostgreSQL from the URL, with a pool of at most
    `pool_size` connections in each process, else embedded SQLite."""
    value = _raw(name)
    if value is None or value == "":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {
                # The API and the consumer write to one file: WAL lets readers run beside a
                # writer, IMMEDIATE takes the write lock up front instead of failing mid-way.
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    parts = urlsplit(value)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// URL (or unset for SQLite), got scheme {parts.scheme!r}."
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {value!r}.") from None
    database = parts.path.lstrip("/")
    if not database:
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/payouts.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        # Django refuses a pool with persistent connections: closing one returns it to the pool,
        # which is what keeps it open.
        "CONN_MAX_AGE": 0,
        # Each checkout from the pool first sends an empty query, so a connection the server
        # or the network dropped while it sat idle is replaced, never handed to a request or a
        # payout.
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "pool": {
                # An idle web process (one thread) keeps one connection, as it did before the
                # pool; a busy consumer grows to max_size and shrinks back when idle.
                "min_size": 1,
                "max_size": pool_size,
                "timeout": POOL_TIMEOUT_SECONDS,
            },
            # Fail fast (and let /readyz say so) when the server is unreachable, instead of hanging.
            "connect_timeout": 5,
            # A connection the network dropped silently fails within about a minute instead of
            # hanging a worker (say, while it records a payment) past its processing lease.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        },
    }


def env_redis_url(name: str) -> str | None:
    value = _raw(name)
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0, got {value!r}.")
    try:
        _ = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {value!r}.") from None
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ImproperlyConfigured(f"{name} database must be a number, got {db!r}.")
    return value


_RATE = re.compile(r"(\d+)/(s|sec|second|m|min|minute|h|hour|d|day)s?")
_RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str) -> tuple[int, int] | None:
    """A rate in DRF's syntax ("100/second", "6000/minute", "100/s"): (requests, seconds).

    Empty or unset means no limit.
    """
    value = _raw(name)
    if value is None or value == "":
        return None
    match = _RATE.fullmatch(value.lower())
    if match is None or int(match[1]) < 1:
        raise ImproperlyConfigured(
            f"{name} must look like 100/second or 6000/minute (or hour, day), got {value!r}."
        )
    return int(match[1]), _RATE_PERIODS[match[2][0]]


def env_port(name: str) -> int | None:
    """A TCP port (1 to 65535); unset or empty means none (the feature it serves is off)."""
    value = _raw(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ImproperlyConfigured(f"{name} must be a port number from 1 to 65535, got {value!r}.")
    return int(value)
