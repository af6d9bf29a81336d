"""Processing rate: payouts finished per second by one consumer, against a no-op task on it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from benchmarks.listing import SEED_COLUMNS, pending_row
from benchmarks.memory import MemorySampler
from benchmarks.results import ProcessingRun
from benchmarks.stack import Stack, StackError
from benchmarks.stats import rate

POLL_INTERVAL_SECONDS = 0.1
READY_TIMEOUT_SECONDS = 60
# The retry budget a payout gets with the default PAYOUT_MAX_RETRIES of 3.
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class ProcessingPlan:
    threads: tuple[int, ...] = (1, 4, 16)
    payouts: int = 600
    noop_tasks: int = 2000
    max_seconds: float = 45.0
    slow_threads: int = 64
    slow_delay_seconds: float = 5.0
    slow_payouts: int = 256
    slow_max_seconds: float = 60.0


def _huey() -> Any:
    # Imported late: djhuey reads the settings when imported, and the harness sets Django up
    # with the stack's environment only once the stack exists.
    from huey.contrib.djhuey import HUEY

    return HUEY


def _wait_ready(stack: Stack, threads: int, **knobs: str) -> Any:
    from benchmarks.tasks import noop

    consumer = stack.start_consumer(threads, **knobs)
    try:
        noop().get(blocking=True, timeout=READY_TIMEOUT_SECONDS)
    except Exception as error:
        raise StackError(f"consumer not ready: {error}\n{consumer.log_tail()}") from error
    return consumer


def run_noop_batch(threads: int, count: int, max_seconds: float) -> ProcessingRun:
    from benchmarks.tasks import noop

    huey = _huey()
    huey.flush()
    started = time.time()
    handles = [noop() for _ in range(count)]
    deadline = time.monotonic() + max_seconds
    while huey.storage.result_store_size() < count and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_SECONDS)
    finished = [value for value in (handle.get() for handle in handles) if value is not None]
    seconds = (max(finished) - started) if len(finished) == count else time.time() - started
    return ProcessingRun(
        kind="noop",
        threads=threads,
        delay_seconds=0.0,
        tasks=count,
        completed=len(finished),
        seconds=seconds,
        rate=rate(len(finished), seconds),
    )


def insert_pending(stack: Stack, count: int) -> list[str]:
    """Store `count` PENDING payouts of the benchmark's client straight away, as if the API had
    just accepted them."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now(tz=UTC)
    client_id = stack.client_key.client_id
    with (
        stack.connect() as conn,
        conn.cursor().copy(f"COPY payouts_payout ({', '.join(SEED_COLUMNS)}) FROM STDIN") as copy,
    ):
        for payout_id in ids:
            copy.write_row(pending_row(payout_id, client_id, now, MAX_ATTEMPTS))
    return ids


def run_payout_batch(
    stack: Stack, threads: int, count: int, delay: float, max_seconds: float
) -> ProcessingRun:
    from payouts.tasks import enqueue_processing

    _huey().flush()
    ids = insert_pending(stack, count)
    started = time.time()
    for payout_id in ids:
        enqueue_processing(payout_id, attempt=1, max_attempts=MAX_ATTEMPTS)
    deadline = time.monotonic() + max_seconds
    completed = 0
    last_update: datetime | None = None
    with stack.connect() as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'COMPLETED'), "
                "count(*) FILTER (WHERE status IN ('COMPLETED', 'FAILED')), max(updated_at) "
                "FROM payouts_payout WHERE id = ANY(%s::uuid[])",
                (ids,),
            ).fetchone()
            completed, finished, last_update = cast("tuple[int, int, datetime | None]", row)
            if finished >= count or time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL_SECONDS)
    done = completed == count and last_update is not None
    seconds = last_update.timestamp() - started if done and last_update else time.time() - started
    return ProcessingRun(
        kind="payouts",
        threads=threads,
        delay_seconds=delay,
        tasks=count,
        completed=completed,
        seconds=seconds,
        rate=rate(completed, seconds),
    )


def measure_processing(
    stack: Stack, plan: ProcessingPlan, sampler: MemorySampler
) -> list[ProcessingRun]:
    runs: list[ProcessingRun] = []
    configs = [(threads, 0.0) for threads in plan.threads]
    configs.append((plan.slow_threads, plan.slow_delay_seconds))
    for threads, delay in configs:
        consumer = _wait_ready(stack, threads, PAYOUT_PROCESSING_DELAY_SECONDS=str(delay))
        sampler.watch(consumer.pid, "consumer")
        try:
            if delay == 0:
                runs.append(run_noop_batch(threads, plan.noop_tasks, plan.max_seconds))
                runs.append(run_payout_batch(stack, threads, plan.payouts, delay, plan.max_seconds))
            else:
                runs.append(
                    run_payout_batch(
                        stack, threads, plan.slow_payouts, delay, plan.slow_max_seconds
                    )
                )
        finally:
            sampler.unwatch(consumer.pid)
            stack.stop(consumer)
    return runs
