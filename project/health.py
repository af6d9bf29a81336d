"""Health probes: /healthz says the process serves, /readyz that the database and queue answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# A probe that hangs is worse than one that fails: orchestrators time out and restart the pod.
PROBE_TIMEOUT_SECONDS = 1.0
ERROR_MAX_LENGTH = 200


def _check_database() -> None:
    # A connection of its own, outside the pool: with the server down, a checkout from the pool
    # waits the pool's whole timeout (seconds) while the pool retries behind it, then says only
    # that it waited; a connection of its own fails within connect_timeout and names the cause.
    probe = connection.copy(alias="readiness")
    probe.settings_dict["OPTIONS"].pop("pool", None)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        probe.close()


def _ping_redis(storage: RedisStorage) -> None:
    # A fresh connection with short timeouts and no retries, instead of the shared pool whose
    # defaults (seconds of timeout, three retries with backoff) would stall the probe.
    pool = storage.pool
    probe = pool.connection_class(
        **{
            **pool.connection_kwargs,
            "socket_timeout": PROBE_TIMEOUT_SECONDS,
            "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), 0),
        }
    )
    try:
        probe.send_command("PING")
        probe.read_response()
    finally:
        probe.disconnect()


def _check_queue() -> None:
    storage = HUEY.storage
    if isinstance(storage, RedisStorage):
        _ping_redis(storage)
    else:
        # SQLite storage (a query on its file) or the in-process storage of immediate mode.
        storage.queue_size()


_CHECKS: dict[str, Callable[[], None]] = {"database": _check_database, "queue": _check_queue}


def _run(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:  # whatever breaks a dependency makes it unavailable, not a 500
        logger.warning("Readiness check %s failed: %s", name, error)
        return f"unavailable: {error}"[:ERROR_MAX_LENGTH]
    return "ok"


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(name, check) for name, check in _CHECKS.items()}
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
