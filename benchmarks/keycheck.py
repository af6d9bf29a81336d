"""The key check's own cost, timed in-process: over HTTP a fraction of a millisecond would drown
in a request's jitter.

`caller_for_authorization` as a request pays it (the key remembered by its process), and reading
the key from the database (once per key, process and PAYOUT_API_KEY_CACHE_SECONDS), in turns with
a `SELECT 1` on the same warm connection to the stack's PostgreSQL: the one round trip no check
that reads the database can avoid.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.report import LATENCY_COLUMNS, Figure, Latency, Results, Table, number

KEY_CHECK_MAX_MEAN_MS = 0.2


def measure_key_check(authorization: str, iterations: int, results: Results) -> None:
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
        forget_verified_keys()
        caller_for_authorization(authorization)

    def round_trip() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    actions: dict[str, Callable[[], None]] = {
        "key check": check,
        "key check, read from the database": read,
        "SELECT 1": round_trip,
    }
    seconds: dict[str, list[float]] = {name: [] for name in actions}
    try:
        try:
            check()
        except AuthenticationRefused as refused:
            raise RuntimeError(f"the key check refused the benchmark's key: {refused}") from None
        # The warm-up takes the key's once-a-minute last_used_at write, as all but one
        # request a minute do not pay it.
        for turn in range(iterations + 100):
            # A B C, C B A, ...: none always runs right after another.
            for name in list(actions) if turn % 2 == 0 else reversed(actions):
                begin = time.perf_counter()
                actions[name]()
                if turn >= 100:
                    seconds[name].append(time.perf_counter() - begin)
    finally:
        connection.close()
    cached, read_db, floor = (Latency.of(values) for values in seconds.values())
    base, ceiling = "SELECT 1, same connection", f"< {KEY_CHECK_MAX_MEAN_MS} ms"
    passed = cached.count > 0 and cached.mean_ms < KEY_CHECK_MAX_MEAN_MS
    results.figures += [
        Figure("Auth", "API key check mean", cached.mean_ms, "ms", floor.mean_ms, base)
        .at_most(KEY_CHECK_MAX_MEAN_MS, ceiling, passed),
        Figure("Auth", "API key check p99", cached.p99_ms, "ms", floor.p99_ms, base),
        Figure("Auth", "API key read from the database mean", read_db.mean_ms, "ms",
               floor.mean_ms, base),
    ]  # fmt: skip
    results.tables.append(
        Table(
            "API key check",
            "Timed call by call in the harness's process with the service's settings, in turns.",
            ["Call", "Calls", *LATENCY_COLUMNS, "max ms"],
            [
                [name, str(latency.count), *latency.cells(), number(latency.max_ms)]
                for name, latency in zip(actions, (cached, read_db, floor), strict=True)
            ],
        )
    )
