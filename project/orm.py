"""The ORM from async code (WebSocket consumers, the live events relay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")

# Each call runs in a worker thread of the event loop's pool, so that one slow query holds up
# no other connection's; the thread gives its database connection back when done. Tests on
# the in-memory SQLite database set it to run them all in one thread, one after the other.
ONE_THREAD = False


async def in_thread(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    call = database_sync_to_async(function, thread_sensitive=ONE_THREAD)
    result: R = await call(*args, **kwargs)
    return result
