"""A greenlet consumer: hundreds of payouts wait on the provider at once, on a bounded pool."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from django.db import connection
from huey.api import Result
from huey.exceptions import HueyException, TaskException

from tests.integration.conftest import Consumer, proc_status
from tests.integration.tasks import call_like_a_payout, sleep_in_the_database

TASKS = 500
PROVIDER_SECONDS = 1.0
RESULT_TIMEOUT = 60
# gevent runs blocking calls it cannot make cooperative (name resolution, for Redis's
# connections) in a pool of at most this many OS threads.
GEVENT_THREADPOOL_SIZE = 10


def greenlet_consumer(start_consumer, workers: int, **knobs) -> tuple[Consumer, str]:
    """A consumer with `workers` greenlets that loads the test tasks and names its database
    connections (application_name) so that they can be counted; ready when it returns."""
    name = f"consumer-{uuid.uuid4().hex[:12]}"
    consumer = start_consumer(
        workers=workers,
        HUEY_WORKER_TYPE="greenlet",
        DJANGO_SETTINGS_MODULE="tests.integration.consumer_settings",
        PGAPPNAME=name,
        **knobs,
    )
    gather([call_like_a_payout(0)], consumer, within=RESULT_TIMEOUT)
    return consumer, name


def gather(results: list[Result], consumer: Consumer, *, within: float) -> list[Any]:
    """The tasks' return values, all within `within` seconds, or a failure with the log."""
    deadline = time.monotonic() + within
    try:
        return [
            result.get(blocking=True, timeout=max(deadline - time.monotonic(), 0.1))
            for result in results
        ]
    except (HueyException, TaskException) as error:
        raise AssertionError(f"{error}\n{consumer.output()[-3000:]}") from error


@dataclass
class Peaks:
    connections: int = 0
    threads: int = 0


@contextmanager
def watching(consumer: Consumer, application_name: str) -> Iterator[Peaks]:
    """Sample the consumer's open PostgreSQL connections and OS threads until the block ends."""
    peaks = Peaks()
    done = threading.Event()
    database = connection.settings_dict

    def sample() -> None:
        with psycopg.connect(
            host=database["HOST"] or "127.0.0.1",
            port=database["PORT"] or 5432,
            user=database["USER"],
            dbname=database["NAME"],
            autocommit=True,
        ) as watcher:
            while not done.is_set():
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [application_name],
                ).fetchone()
                assert row is not None
                peaks.connections = max(peaks.connections, row[0])
                peaks.threads = max(peaks.threads, proc_status(consumer.pid, "Threads"))
                done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield peaks
    finally:
        done.set()
        sampler.join(timeout=10)


@pytest.mark.parametrize("pool_size", [20, 5])
def test_a_greenlet_consumer_waits_on_hundreds_of_calls_at_once_within_its_pool(
    start_consumer, pool_size
):
    consumer, name = greenlet_consumer(start_consumer, TASKS, DATABASE_POOL_SIZE=pool_size)

    with watching(consumer, name) as peaks:
        started = time.monotonic()
        results = [call_like_a_payout(PROVIDER_SECONDS) for _ in range(TASKS)]
        seen = gather(results, consumer, within=RESULT_TIMEOUT)
        elapsed = time.monotonic() - started

    assert {report["pid"] for report in seen} == {consumer.pid}
    # One after another they would take 500 s; all at once, one provider call and the queue.
    assert elapsed < 10, f"{elapsed:.1f} s\n{consumer.output()[-3000:]}"
    # Greenlets, not 500 threads: the main thread and gevent's own pool.
    assert peaks.threads <= 1 + GEVENT_THREADPOOL_SIZE
    # The task's own count of its consumer's connections, taken while it holds one, and the
    # samples taken from outside (which see the consumer's connections, so they count).
    assert max(report["connections"] for report in seen) <= pool_size
    assert 0 < peaks.connections <= pool_size


def test_a_greenlet_waiting_on_postgresql_lets_the_others_run(start_consumer):
    consumer, _ = greenlet_consumer(start_consumer, 10)

    started = time.monotonic()
    results = [sleep_in_the_database(1) for _ in range(10)]
    pids = set(gather(results, consumer, within=RESULT_TIMEOUT))
    elapsed = time.monotonic() - started

    assert pids == {consumer.pid}
    # psycopg blocking the one OS thread would make this 10 s.
    assert elapsed < 3, f"{elapsed:.1f} s\n{consumer.output()[-3000:]}"
