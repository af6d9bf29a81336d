"""One rate limit per client, for REST and GraphQL alike: PAYOUT_RATE_LIMIT requests a window.

Counted per client in fixed windows: in Redis when REDIS_URL is set, so every web process
shares the count, and in this process's memory on the embedded default. Each client has its own
counter, so one client at its limit never delays another.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from payouts.callers import Caller

logger = logging.getLogger(__name__)

KEY_PREFIX = "payouts:rate"


class _MemoryCounts:
    """Counts of the current windows only: memory stays one entry per active client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: tuple[int, int] | None = None
        self._counts: Counter[object] = Counter()

    def increment(self, client_id: object, window: tuple[int, int]) -> int:
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, Counter()
            self._counts[client_id] += 1
            return self._counts[client_id]


_memory = _MemoryCounts()
_redis_clients: dict[str, redis.Redis] = {}


# A Redis that does not answer must not hold every request up: each call waits at most this
# long, and after a failure the limit is skipped for a while instead of waiting again.
REDIS_TIMEOUT_SECONDS = 0.1
REDIS_RETRY_AFTER_FAILURE_SECONDS = 10.0
_redis_down_until = 0.0


def _redis(url: str) -> redis.Redis:
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
    return _redis_clients[url]


def _count(client_id: object, window_seconds: int, window: int) -> int:
    """Add one request to the client's count in this window and return the count."""
    url: str | None = settings.REDIS_URL
    if not url:
        return _memory.increment(client_id, (window_seconds, window))
    key = f"{KEY_PREFIX}:{client_id}:{window_seconds}:{window}"
    pipe = _redis(url).pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window_seconds + 1)
    count, _ = pipe.execute()
    return int(count)


def retry_after(caller: Caller) -> int | None:
    """Count a request of the caller's client: the seconds to wait if it is over the limit.

    Staff sessions are not limited. If Redis cannot be reached the request goes through (and is
    logged): the limit protects the service, it must not take the API down with it.
    """
    limit: tuple[int, int] | None = settings.PAYOUT_RATE_LIMIT
    if limit is None or caller.client is None:
        return None
    global _redis_down_until
    requests, window_seconds = limit
    now = time.time()
    if now < _redis_down_until:
        return None
    window = int(now // window_seconds)
    try:
        count = _count(caller.client.pk, window_seconds, window)
    except redis.RedisError as error:
        _redis_down_until = now + REDIS_RETRY_AFTER_FAILURE_SECONDS
        logger.warning(
            "Rate limit not applied for %g s: Redis did not answer (%s)",
            REDIS_RETRY_AFTER_FAILURE_SECONDS,
            error,
        )
        return None
    if count <= requests:
        return None
    return max(1, math.ceil((window + 1) * window_seconds - now))


_UNITS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
MSG_RATE_LIMITED = "Rate limit of {requests} requests per {unit} exceeded; retry in {wait} s."


def refusal_message(wait: int) -> str:
    """What a request over the limit is told, on both APIs."""
    limit: tuple[int, int] | None = settings.PAYOUT_RATE_LIMIT
    assert limit is not None, "only asked when a limit refused a request"
    requests, seconds = limit
    unit = _UNITS.get(seconds, f"{seconds} seconds")
    return MSG_RATE_LIMITED.format(requests=requests, unit=unit, wait=wait)
