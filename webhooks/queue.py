"""The webhooks' own Huey queue: deliveries wait on receivers there, never in the payouts' queue.

djhuey configures one Huey instance (settings.HUEY, the payouts'); this is a second one, on the
same Redis (or a SQLite file of its own), consumed by `manage.py run_webhooks`. Its tasks are
declared with `db_task` and `db_periodic_task` below, which close stale database connections
around each task as djhuey's decorators of the same names do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import close_old_connections
from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper

P = ParamSpec("P")
R = TypeVar("R")

QUEUE_NAME = "webhooks"
SQLITE_FILENAME = "webhooks-huey.sqlite3"


def _build() -> Huey:
    immediate: bool = settings.HUEY["immediate"]
    pool = settings.HUEY.get("connection_pool")
    if pool is not None:
        return RedisHuey(QUEUE_NAME, immediate=immediate, utc=True, connection_pool=pool)
    filename = str(settings.DATA_DIR / SQLITE_FILENAME)
    return SqliteHuey(QUEUE_NAME, immediate=immediate, utc=True, filename=filename)


WEBHOOK_HUEY = _build()


def consumer_options() -> dict[str, Any]:
    """run_webhooks' consumer, configured as settings.HUEY's is for run_huey."""
    return {
        "workers": settings.WEBHOOK_WORKERS,
        "worker_type": settings.WEBHOOK_WORKER_TYPE,
        # SIGTERM lets running deliveries finish; past the timeout the sweep sends them again.
        "graceful_signal": "TERM",
        "shutdown_timeout": settings.WEBHOOK_SHUTDOWN_TIMEOUT,
    }


def _closing_connections(fn: Callable[P, R]) -> Callable[P, R]:
    """A consumer's thread keeps its connection between tasks: drop it if Django would (too old,
    or broken), as djhuey's close_db does. In immediate mode the caller's connection is left."""

    @wraps(fn)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        if not WEBHOOK_HUEY.immediate:
            close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            if not WEBHOOK_HUEY.immediate:
                close_old_connections()

    return inner


def db_task(**options: Any) -> Callable[[Callable[..., Any]], TaskWrapper]:
    def decorator(fn: Callable[..., Any]) -> TaskWrapper:
        wrapper: TaskWrapper = WEBHOOK_HUEY.task(**options)(_closing_connections(fn))
        return wrapper

    return decorator


def db_periodic_task(
    validate_datetime: Any, **options: Any
) -> Callable[[Callable[..., Any]], TaskWrapper]:
    def decorator(fn: Callable[..., Any]) -> TaskWrapper:
        wrapper: TaskWrapper = WEBHOOK_HUEY.periodic_task(validate_datetime, **options)(
            _closing_connections(fn)
        )
        return wrapper

    return decorator
