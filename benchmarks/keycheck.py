"""The key check's own cost: caller_for_authorization timed in-process on the stack's PostgreSQL.

A request pays the check of a key its process remembers (PAYOUT_API_KEY_CACHE_SECONDS); the
check that reads the key from the database, which each process pays once per key and cache
period, is timed beside it.

Over HTTP its fraction of a millisecond would drown in a request's few milliseconds and the load
generator's jitter. Here it runs alone, as a request runs it (the benchmark settings, DEBUG off, a
warm connection to the same PostgreSQL), taking turns with a `SELECT 1` on that connection: the
one round trip no check that reads the database can avoid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.results import KeyCheckRun
from benchmarks.stats import summarize

KEY_CHECK = "key check"
KEY_READ = "key check, read from the database"
ROUND_TRIP = "SELECT 1"


@dataclass(frozen=True)
class KeyCheckPlan:
    iterations: int = 5000
    max_seconds: float = 20.0
    warmup: int = 100


def measure_key_check(authorization: str, plan: KeyCheckPlan) -> list[KeyCheckRun]:
    """Time the check of `authorization` and a bare round trip, in turns, plan.iterations each.

    The warm-up takes the key's first use, so the once-a-minute write of last_used_at falls
    outside the timed calls, as it does for all but one request a minute.
    """
    # Imported late: the harness sets Django up with the stack's environment first.
    from django.db import connection

    from clients.authentication import (
        AuthenticationRefused,
        caller_for_authorization,
        forget_verified_keys,
    )

    def check() -> None:
        caller_for_authorization(authorization)

    def read() -> None:
        # Forgetting the remembered key takes a fraction of a microsecond of the timed call.
        forget_verified_keys()
        caller_for_authorization(authorization)

    def round_trip() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    actions: list[tuple[str, Callable[[], None]]] = [
        (KEY_CHECK, check),
        (KEY_READ, read),
        (ROUND_TRIP, round_trip),
    ]
    latencies: dict[str, list[float]] = {name: [] for name, _ in actions}
    try:
        try:
            check()
        except AuthenticationRefused as refused:
            raise RuntimeError(f"the key check refused the benchmark's key: {refused}") from None
        for _ in range(plan.warmup):
            for _, action in actions:
                action()
        deadline = time.perf_counter() + plan.max_seconds
        done = 0
        while done < plan.iterations and time.perf_counter() < deadline:
            # A B, B A, ...: neither always runs right after the other.
            for name, action in actions if done % 2 == 0 else reversed(actions):
                begin = time.perf_counter()
                action()
                latencies[name].append(time.perf_counter() - begin)
            done += 1
    finally:
        connection.close()
    return [
        KeyCheckRun(target=name, latency=summarize(values)) for name, values in latencies.items()
    ]
