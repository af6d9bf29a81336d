"""Processing: payouts paid per second through the fake provider, and the ledger check of them.

Every run inserts fresh PENDING payouts, starts its consumers (the http adapter pointed at a
`manage.py fake_provider`), waits until every worker reads the queue, enqueues each payout as
the service does and times the first enqueue to the last payout final.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import psutil

from benchmarks.ledger import Recorded, check_ledger
from benchmarks.listing import SEED_COLUMNS, pending_row
from benchmarks.memory import MB, MemorySampler
from benchmarks.results import (
    DELAY_0,
    GREENLET,
    PROVIDER,
    ROUGH,
    SCALE_OUT,
    THREAD,
    THREADS,
    LedgerCheck,
    ProcessingRun,
)
from benchmarks.stack import FakeProvider, Process, Stack, StackError
from benchmarks.stats import rate

POLL_INTERVAL_SECONDS = 0.25
# Connections come and go with each short transaction: sampled often enough to catch a peak.
CONNECTION_SAMPLE_SECONDS = 0.1
READY_TIMEOUT_SECONDS = 60.0
# The retry budget a payout gets with the default PAYOUT_MAX_RETRIES of 3.
MAX_ATTEMPTS = 4

# tests/integration/test_ledger.py's rough provider, without its killed consumer: 10% each of
# declines, 503s, hangs and paid-then-dropped connections. A hang outlives the adapter's
# timeout, and two attempts a payout make most lost answers meet the end of their budget,
# where failing a payout that may have been paid would be wrong.
ROUGH_PROVIDER = {
    "latency": 0.02,
    "decline_rate": 0.1,
    "error_rate": 0.1,
    "timeout_rate": 0.1,
    "drop_rate": 0.1,
    "hang_seconds": 1.5,
    "retry_after": 0,
    "seed": 13,
}
ROUGH_KNOBS = {
    "PAYOUT_PROVIDER_TIMEOUT_SECONDS": "1",
    "PAYOUT_RETRY_DELAY_SECONDS": "0.05",
    "PAYOUT_RETRY_MAX_DELAY_SECONDS": "0.5",
}
ROUGH_MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class ProcessingPlan:
    greenlets: int = 1000
    latency_seconds: float = 2.0
    baseline_payouts: int = 3000
    # The runs at the provider's latency last about this long at the rate the delay-0 run
    # predicts, so that the latency's ramp at the start and tail at the end stay a small part.
    run_seconds: float = 30.0
    min_payouts: int = 4000
    max_payouts: int = 6000
    consumers: int = 4
    threads: int = 64
    thread_payouts: int = 384
    rough_payouts: int = 300
    rough_consumers: int = 2
    max_seconds: float = 90.0

    def provider_payouts(self, baseline_rate: float) -> int:
        expected = min(self.greenlets / self.latency_seconds, baseline_rate)
        return min(max(round(expected * self.run_seconds), self.min_payouts), self.max_payouts)


@dataclass(frozen=True)
class Shape:
    """The consumers of a run: `consumers` processes of `workers` workers each."""

    kind: str
    worker_type: str
    consumers: int
    workers: int


@dataclass(frozen=True)
class Batch:
    """Payouts inserted together: they share one created_at, by which the harness finds them."""

    ids: list[str]
    created_at: datetime
    max_attempts: int


@dataclass
class Processing:
    runs: list[ProcessingRun] = field(default_factory=list)
    ledger: list[LedgerCheck] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _huey() -> Any:
    # Imported late: djhuey reads the settings when imported, and the harness sets Django up
    # with the stack's environment only once the stack exists.
    from huey.contrib.djhuey import HUEY

    return HUEY


def insert_pending(stack: Stack, count: int, max_attempts: int = MAX_ATTEMPTS) -> Batch:
    """Store `count` PENDING payouts of the benchmark's client straight away, as if the API had
    just accepted them."""
    batch = Batch([str(uuid.uuid4()) for _ in range(count)], datetime.now(tz=UTC), max_attempts)
    client_id = stack.client_key.client_id
    with (
        stack.connect() as conn,
        conn.cursor().copy(f"COPY payouts_payout ({', '.join(SEED_COLUMNS)}) FROM STDIN") as copy,
    ):
        for payout_id in batch.ids:
            copy.write_row(pending_row(payout_id, client_id, batch.created_at, max_attempts))
    return batch


def _wait_ready(stack: Stack, consumers: list[Process], workers: int) -> None:
    """Until every worker of every consumer waits on the queue: a consumer still starting
    when the payouts are enqueued would leave the others its share."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while stack.queue_readers() < workers:
        for consumer in consumers:
            if not consumer.alive():
                raise StackError(f"{consumer.name} exited:\n{consumer.log_tail()}")
        if time.monotonic() > deadline:
            raise StackError(
                f"{workers} workers not reading the queue after {READY_TIMEOUT_SECONDS:.0f} s; "
                f"see {consumers[0].log}"
            )
        time.sleep(POLL_INTERVAL_SECONDS)


@dataclass
class Usage:
    """What a run's consumers used: their peak PostgreSQL connections together, their CPU
    seconds, and how busy the whole machine was meanwhile (0 to 1 over every core), which says
    whether a rate was bounded by the consumers' own cores or by a machine shared with others."""

    connections: int = 0
    consumer_cpu_seconds: float = 0.0
    machine_busy: float = 0.0


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(
        float(process.cpu_times().user + process.cpu_times().system) for process in processes
    )


@contextmanager
def watching(stack: Stack, consumers: list[Process], names: list[str]) -> Iterator[Usage]:
    """Measure the consumers' usage until the block ends. Connections are counted from outside,
    by the application_name (PGAPPNAME) each consumer is started with."""
    usage = Usage()
    done = threading.Event()

    def sample_connections() -> None:
        with stack.connect() as conn:
            while not done.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s)",
                    (names,),
                ).fetchone()
                usage.connections = max(usage.connections, int(cast("tuple[int]", row)[0]))
                done.wait(CONNECTION_SAMPLE_SECONDS)

    processes = [psutil.Process(consumer.pid) for consumer in consumers]
    cpu_before, machine_before = _cpu_seconds(processes), psutil.cpu_times()
    sampler = threading.Thread(target=sample_connections, name="connections", daemon=True)
    sampler.start()
    try:
        yield usage
    finally:
        done.set()
        sampler.join(timeout=5)
    machine_after = psutil.cpu_times()
    usage.consumer_cpu_seconds = _cpu_seconds(processes) - cpu_before
    total = sum(machine_after) - sum(machine_before)
    idle = machine_after.idle + machine_after.iowait - machine_before.idle - machine_before.iowait
    usage.machine_busy = (total - idle) / total if total > 0 else 0.0


def _wait_final(stack: Stack, batch: Batch, max_seconds: float) -> None:
    deadline = time.monotonic() + max_seconds
    with stack.connect() as conn:
        while time.monotonic() < deadline:
            # The partial index of unfinished payouts keeps this poll off the measured cores.
            row = conn.execute(
                "SELECT count(*) FROM payouts_payout WHERE deleted_at IS NULL "
                "AND status IN ('PENDING', 'PROCESSING') AND created_at = %s",
                (batch.created_at,),
            ).fetchone()
            if cast("tuple[int]", row)[0] == 0:
                return
            time.sleep(POLL_INTERVAL_SECONDS)


def run_batch(
    stack: Stack, shape: Shape, provider: FakeProvider, batch: Batch, max_seconds: float,
    **knobs: str,
) -> ProcessingRun:  # fmt: skip
    from payouts.tasks import enqueue_processing

    _huey().flush()
    stack.settle()
    names = [f"bench-{shape.kind.replace(' ', '-')}-{n}" for n in range(1, shape.consumers + 1)]
    consumers = [
        stack.start_consumer(
            name,
            shape.workers,
            shape.worker_type,
            PAYOUT_PROVIDER="http",
            PAYOUT_PROVIDER_URL=provider.url,
            PGAPPNAME=name,
            **knobs,
        )
        for name in names
    ]
    memory = MemorySampler()
    try:
        _wait_ready(stack, consumers, shape.consumers * shape.workers)
        for consumer in consumers:
            memory.watch(consumer.pid, "consumer")
        memory.start()
        with watching(stack, consumers, names) as usage:
            started = time.time()
            for payout_id in batch.ids:
                enqueue_processing(payout_id, attempt=1, max_attempts=batch.max_attempts)
            _wait_final(stack, batch, max_seconds)
    finally:
        memory.stop()
        stack.stop(*consumers)
    if not provider.process.alive():
        # Its payouts failed as unreachable: a figure of the harness, not of the service.
        raise StackError(
            f"{provider.process.name} exited mid-run ({provider.process.popen.returncode}); "
            f"see {provider.process.log}"
        )
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'COMPLETED'), "
            "count(*) FILTER (WHERE status = 'FAILED'), max(updated_at) "
            "FROM payouts_payout WHERE created_at = %s",
            (batch.created_at,),
        ).fetchone()
    completed, failed, last_final = cast("tuple[int, int, datetime | None]", row)
    count = len(batch.ids)
    done = completed + failed == count and last_final is not None
    seconds = (last_final.timestamp() if done and last_final else time.time()) - started
    consumer_memory = memory.roles["consumer"]
    return ProcessingRun(
        kind=shape.kind,
        worker_type=shape.worker_type,
        consumers=shape.consumers,
        workers=shape.workers,
        latency_seconds=provider.latency,
        payouts=count,
        completed=completed,
        failed=failed,
        seconds=seconds,
        rate=rate(completed + failed, seconds),
        start_rss_mb=round(consumer_memory.first / MB, 1),
        peak_rss_mb=round(consumer_memory.peak / MB, 1),
        peak_connections=usage.connections,
        consumer_cpu_seconds=round(usage.consumer_cpu_seconds, 2),
        machine_busy=round(usage.machine_busy, 3),
    )


def _records(stack: Stack, batches: list[Batch]) -> list[Recorded]:
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT id::text, status, provider_reference, failure_code, amount::text "
            "FROM payouts_payout WHERE created_at = ANY(%s)",
            ([batch.created_at for batch in batches],),
        ).fetchall()
    return [Recorded(*cast("tuple[str, str, str, str, str]", row)) for row in rows]


def measure_processing(stack: Stack, plan: ProcessingPlan, deadline: float) -> Processing:
    """The runs in order, each only while the run's budget (`deadline`) lasts; the ledger check
    of every payout they paid; then the rough run and its own ledger check."""
    result = Processing()

    def measure(
        shape: Shape,
        provider: FakeProvider,
        count: int,
        batches: list[Batch],
        max_attempts: int = MAX_ATTEMPTS,
        **knobs: str,
    ) -> ProcessingRun | None:
        if time.monotonic() > deadline:
            result.skipped.append(f"processing: {shape.kind}")
            return None
        batches.append(insert_pending(stack, count, max_attempts))
        run = run_batch(stack, shape, provider, batches[-1], plan.max_seconds, **knobs)
        result.runs.append(run)
        return run

    # One provider for each latency, so that each ledger holds the runs at its latency.
    instant = stack.start_fake_provider("fake-provider-0", latency=0)
    slow = stack.start_fake_provider(
        f"fake-provider-{plan.latency_seconds:g}", latency=plan.latency_seconds
    )
    batches: list[Batch] = []
    greenlets = Shape(DELAY_0, GREENLET, 1, plan.greenlets)
    baseline = measure(greenlets, instant, plan.baseline_payouts, batches)
    count = plan.provider_payouts(baseline.rate if baseline else math.inf)
    measure(replace(greenlets, kind=PROVIDER), slow, count, batches)
    # As many greenlets as the one consumer had, so that both runs share the provider's
    # ceiling (greenlets / latency) and the ratio shows what more processes buy.
    spread = Shape(SCALE_OUT, GREENLET, plan.consumers, plan.greenlets // plan.consumers)
    measure(spread, slow, count, batches)
    measure(Shape(THREADS, THREAD, 1, plan.threads), slow, plan.thread_payouts, batches)
    if batches:
        ledgers = [instant.ledger(), slow.ledger()]
        result.ledger.append(check_ledger("processing runs", _records(stack, batches), ledgers))
    stack.stop(instant.process, slow.process)

    rough = stack.start_fake_provider("fake-provider-rough", **ROUGH_PROVIDER)
    batches = []
    shape = replace(spread, kind=ROUGH, consumers=plan.rough_consumers)
    measure(shape, rough, plan.rough_payouts, batches, ROUGH_MAX_ATTEMPTS, **ROUGH_KNOBS)
    if batches:
        result.ledger.append(check_ledger("rough run", _records(stack, batches), [rough.ledger()]))
    stack.stop(rough.process)
    return result
