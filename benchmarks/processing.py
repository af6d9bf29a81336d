"""Processing: payouts paid per second through the fake provider, and the ledger check of them.

Not an HTTP load, so plain code: each run COPYs fresh PENDING payouts, starts its consumers from
the Procfile's `worker` (the http adapter pointed at a `manage.py fake_provider`), waits until
every worker reads the queue, enqueues each payout as the service does and times the first
enqueue to the last payout final.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil
import redis

from benchmarks.ledger import LedgerCheck, Recorded, check_ledger
from benchmarks.listing import SEED_COLUMNS, pending_row
from benchmarks.report import Figure, Latency, Results, Table, number
from benchmarks.slow_endpoint import (
    DRAIN_TIMEOUT_SECONDS,
    Receiver,
    add_endpoint,
    latency_of,
    remove_endpoints,
    start_webhooks,
    wait_for_deliveries,
)
from benchmarks.stack import Process, Stack, StackError, peak_rss_mb

READY_TIMEOUT_SECONDS = 60.0
LISTENING = re.compile(r"Fake provider listening on (http://\S+):")
MIN_RATIO, THREADS_MIN_RATIO, WEBHOOKS_MIN_RATIO = 0.8, 0.9, 0.9
MAX_RSS_MB, MAX_CONNECTIONS = 300.0, 20
# tests/integration/test_ledger.py's rough provider: 10% each of declines, 503s, hangs past the
# adapter's timeout and paid-then-dropped connections, and two attempts a payout.
ROUGH_PROVIDER = {"latency": 0.02, "decline_rate": 0.1, "error_rate": 0.1, "seed": 13}
ROUGH_PROVIDER |= {"timeout_rate": 0.1, "drop_rate": 0.1, "hang_seconds": 1.5, "retry_after": 0}
ROUGH_KNOBS = {"PAYOUT_PROVIDER_TIMEOUT_SECONDS": "1", "PAYOUT_RETRY_DELAY_SECONDS": "0.05"}
ROUGH_KNOBS["PAYOUT_RETRY_MAX_DELAY_SECONDS"] = "0.5"
COLUMNS = ["Run", "Consumers", "Latency s", "Payouts", "Completed", "Failed", "Seconds"]
COLUMNS += ["Payouts/s", "Peak RSS MB (first)", "Peak connections", "CPU ms/payout"]
COLUMNS += ["CPU cores", "Machine busy"]


@dataclass(frozen=True)
class ProcessingPlan:
    greenlets: int = 1000
    latency: float = 2.0
    baseline_payouts: int = 3000
    # At the provider's latency a run lasts about this long at the delay-0 rate, so that the
    # ramp at its start and the tail at its end stay a small part of it.
    run_seconds: float = 30.0
    min_payouts: int = 4000
    max_payouts: int = 6000
    consumers: int = 4
    threads: int = 64
    thread_payouts: int = 384
    rough_payouts: int = 300
    max_seconds: float = 90.0
    # One endpoint for the client that answers each webhook after this long.
    webhook_delay: float = 2.0
    webhook_workers: int = 250


@dataclass
class Run:
    """One batch through `consumers` consumers of `workers` workers each. RSS is the largest
    consumer's, connections and CPU all of them together; machine busy is every core's use."""

    kind: str
    consumers: int
    workers: int
    worker_type: str
    latency: float
    payouts: int
    completed: int = 0
    failed: int = 0
    seconds: float = 0.0
    first_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    connections: int = 0
    cpu_seconds: float = 0.0
    machine_busy: float = 0.0
    created_at: datetime | None = None

    @property
    def shape(self) -> str:
        workers = f"{self.workers:,} {self.worker_type}s"
        return workers if self.consumers == 1 else f"{self.consumers} consumers x {workers}"

    @property
    def rate(self) -> float:
        return (self.completed + self.failed) / self.seconds if self.seconds else 0.0

    def row(self) -> list[str]:
        done, seconds = self.completed + self.failed, self.seconds or 1
        return [
            self.kind, self.shape, *(f"{n:g}" for n in (self.latency, self.payouts)),
            str(self.completed), str(self.failed), number(self.seconds), number(self.rate),
            f"{number(self.peak_rss_mb)} ({number(self.first_rss_mb)})", str(self.connections),
            number(1000 * self.cpu_seconds / max(done, 1)), number(self.cpu_seconds / seconds),
            f"{self.machine_busy:.0%}",
        ]  # fmt: skip


def start_provider(stack: Stack, name: str, **options: float) -> tuple[Process, str]:
    flags = [f"--{key.replace('_', '-')}={value:g}" for key, value in options.items()]
    process = stack.start(name, sys.executable, "manage.py", "fake_provider", "--port=0", *flags)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while process.alive() and time.monotonic() < deadline:
        match = LISTENING.search(process.log.read_text(errors="replace"))
        if match:
            return process, match.group(1)
        time.sleep(0.1)
    raise StackError(f"{name} is not listening:\n{process.tail()}")


def _queue_readers(stack: Stack) -> int:
    """Connections whose last command is Huey's blocking read: one per idle worker."""
    host, port = stack.config.redis.split(":")
    with redis.Redis(host=host, port=int(port), db=stack.config.redis_db) as client:
        clients = client.client_list()
    db = str(stack.config.redis_db)
    return sum(1 for info in clients if info.get("db") == db and info.get("cmd") == "brpop")


def _count_connections(stack: Stack, run: Run, name: str, done: threading.Event) -> None:
    """The consumers' connections together (by application_name), every 0.1 s until `done`:
    they come and go with each short transaction."""
    with stack.connect() as conn:
        while not done.wait(0.1):
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
            run.connections = max(run.connections, int(str(row[0])) if row else 0)


def _cpu(processes: list[psutil.Process]) -> float:
    return float(sum(sum(process.cpu_times()[:2]) for process in processes))


def run_batch(
    stack: Stack,
    run: Run,
    url: str,
    max_seconds: float,
    knobs: dict[str, str] | None = None,
    extra_readers: int = 0,
) -> Run:
    """Process one batch; `extra_readers` are queue readers of other consumers already up."""
    from huey.contrib.djhuey import HUEY

    from payouts.tasks import enqueue_processing

    attempts = 2 if run.kind == "rough" else 4
    run.created_at = now = datetime.now(tz=UTC)
    ids = [str(uuid.uuid4()) for _ in range(run.payouts)]
    with (
        stack.connect() as conn,
        conn.cursor().copy(f"COPY payouts_payout ({', '.join(SEED_COLUMNS)}) FROM STDIN") as copy,
    ):
        for payout_id in ids:
            copy.write_row(pending_row(payout_id, stack.client_id, now, attempts))
    HUEY.flush()
    name = f"bench-{run.kind.replace(' ', '-')}"
    knobs = {**(knobs or {}), "HUEY_WORKERS": str(run.workers), "HUEY_WORKER_TYPE": run.worker_type}
    knobs |= {"PAYOUT_PROVIDER": "http", "PAYOUT_PROVIDER_URL": url, "PGAPPNAME": name}
    process = stack.procfile("worker", name, run.consumers, **knobs)
    done = threading.Event()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        # A consumer still starting when the payouts are enqueued would leave others its share.
        while _queue_readers(stack) < run.consumers * run.workers + extra_readers:
            if not process.alive() or time.monotonic() > deadline:
                raise StackError(f"{name}'s workers are not reading the queue:\n{process.tail()}")
            time.sleep(0.25)
        threading.Thread(target=_count_connections, args=(stack, run, name, done)).start()
        consumers = process.leaves()
        run.first_rss_mb = max(p.memory_info().rss / 2**20 for p in consumers)
        cpu, machine, started = _cpu(consumers), psutil.cpu_times(), time.time()
        for payout_id in ids:
            enqueue_processing(payout_id, attempt=1, max_attempts=attempts)
        with stack.connect() as conn:
            while time.time() < started + max_seconds:
                # The partial index of unfinished payouts keeps this poll cheap.
                left = conn.execute(
                    "SELECT count(*) FROM payouts_payout WHERE deleted_at IS NULL AND status IN "
                    "('PENDING', 'PROCESSING') AND created_at = %s",
                    (now,),
                ).fetchone()
                if left and left[0] == 0:
                    break
                time.sleep(0.25)
            run.cpu_seconds = _cpu(consumers) - cpu
            run.peak_rss_mb = max(peak_rss_mb(p) for p in consumers)
            after = psutil.cpu_times()
            total = sum(after) - sum(machine)
            idle = after.idle + after.iowait - machine.idle - machine.iowait
            run.machine_busy = (total - idle) / total if total > 0 else 0.0
            completed, failed, last = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'COMPLETED'), count(*) FILTER (WHERE "
                "status = 'FAILED'), max(updated_at) FROM payouts_payout WHERE created_at = %s",
                (now,),
            ).fetchone() or (0, 0, None)
    finally:
        done.set()
        stack.stop(process)
    run.completed, run.failed = int(str(completed)), int(str(failed))
    finished = run.completed + run.failed == run.payouts
    end = last.timestamp() if finished and isinstance(last, datetime) else time.time()
    run.seconds = end - started
    return run


@dataclass(frozen=True)
class Delivery:
    events: int
    drained: bool
    latency: Latency


def measure_with_webhooks(
    stack: Stack, plan: ProcessingPlan, measure: Callable[..., Run], like: Run, url: str
) -> tuple[Run, Delivery]:
    """The run `like` again, with the client's one slow endpoint and the webhooks consumer
    running; then until every delivery it caused arrived (or DRAIN_TIMEOUT_SECONDS)."""
    receiver = Receiver(stack, plan.webhook_delay)
    add_endpoint(stack, receiver.start())
    hooks = start_webhooks(stack, plan.webhook_workers)
    try:
        run = Run(
            "webhooks", like.consumers, like.workers, like.worker_type, like.latency, like.payouts
        )
        measure(run, url, extra_readers=plan.webhook_workers)
        events, _, drained = wait_for_deliveries(stack, run.created_at)
    finally:
        stack.stop(hooks)
        receiver.stop()
        remove_endpoints(stack)
    return run, Delivery(events, drained, latency_of(receiver))


def ledger_check(stack: Stack, name: str, runs: list[Run], urls: list[str]) -> LedgerCheck:
    """The ledger check of every payout of `runs` against the providers at `urls`."""
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT id::text, status, provider_reference, failure_code, amount::text "
            "FROM payouts_payout WHERE created_at = ANY(%s)",
            ([run.created_at for run in runs],),
        ).fetchall()
    ledgers: list[dict[str, Any]] = [httpx.get(f"{url}/ledger", timeout=60).json() for url in urls]
    return check_ledger(name, [Recorded(*(str(v) for v in row)) for row in rows], ledgers)


def measure_processing(
    stack: Stack, plan: ProcessingPlan, deadline: float, results: Results
) -> None:
    """The runs while the run's budget (`deadline`) lasts and the ledger check of all they
    paid; then the rough run and its own check."""
    runs: list[Run] = []
    skipped: list[str] = results.meta["skipped"]

    def measure(
        run: Run, url: str, knobs: dict[str, str] | None = None, extra_readers: int = 0
    ) -> Run:
        if time.monotonic() > deadline:
            skipped.append(f"processing: {run.kind}")
            return run
        runs.append(run_batch(stack, run, url, plan.max_seconds, knobs, extra_readers))
        return run

    # One provider for each latency, so that each ledger holds the runs at its latency.
    instant, instant_url = start_provider(stack, "fake-provider-0", latency=0)
    slow, slow_url = start_provider(stack, "fake-provider-slow", latency=plan.latency)
    n, latency = plan.greenlets, plan.latency
    base = measure(Run("delay 0", 1, n, "greenlet", 0, plan.baseline_payouts), instant_url)
    bound = min(n / latency, base.rate or float("inf"))
    count = min(max(round(bound * plan.run_seconds), plan.min_payouts), plan.max_payouts)
    one = measure(Run("provider", 1, n, "greenlet", latency, count), slow_url)
    # As many greenlets as the one consumer had, so both share the provider's ceiling
    # (greenlets / latency) and the ratio shows what more processes buy.
    spread = Run("scale-out", plan.consumers, n // plan.consumers, "greenlet", latency, count)
    spread = measure(spread, slow_url)
    thread = measure(
        Run("threads", 1, plan.threads, "thread", latency, plan.thread_payouts), slow_url
    )
    # The provider-bound run, whose consumer leaves the cores room: what a slow endpoint costs
    # processing, not what a second busy process on two cores costs it.
    hooked, delivery = measure_with_webhooks(stack, plan, measure, thread, slow_url)
    checks = [ledger_check(stack, "processing runs", runs, [instant_url, slow_url])]
    stack.stop(instant, slow)
    rough, rough_url = start_provider(stack, "fake-provider-rough", **ROUGH_PROVIDER)
    rough_run = measure(
        Run("rough", 2, 250, "greenlet", 0.02, plan.rough_payouts), rough_url, ROUGH_KNOBS
    )
    if rough_run in runs:
        checks.append(ledger_check(stack, "rough run", [rough_run], [rough_url]))
    stack.stop(rough)

    bound_name = "delay-0 rate, same consumer" if bound < n / latency else f"{n:,} / {latency:g} s"
    at, most = f"{latency:g} s provider", plan.consumers * MAX_CONNECTIONS
    results.figures += [
        Figure("Processing", f"payouts/s, provider latency 0, {base.shape}", base.rate, "/s"),
        Figure("Processing", f"payouts/s, {at}, {one.shape}", one.rate, "/s", bound, bound_name)
        .at_least(MIN_RATIO, one.completed == one.payouts),
        Figure("Processing", f"peak RSS, consumer of {one.shape}", one.peak_rss_mb, "MB",
               one.first_rss_mb, "same process, first sample")
        .at_most(MAX_RSS_MB, f"<= {MAX_RSS_MB:.0f} MB", one.peak_rss_mb > 0),
        Figure("Processing", f"peak PostgreSQL connections, {one.shape}", one.connections, "conns")
        .at_most(MAX_CONNECTIONS, f"<= {MAX_CONNECTIONS}", one.connections > 0),
        Figure("Webhooks", f"payouts/s, {at}, {hooked.shape}, one {plan.webhook_delay:g} s "
               "endpoint", hooked.rate, "/s", thread.rate, "same run without webhooks")
        .at_least(WEBHOOKS_MIN_RATIO, hooked.completed == hooked.payouts),
        Figure("Webhooks", "status change to receiver, p50", delivery.latency.p50_ms, "ms"),
        Figure("Webhooks", "status change to receiver, p99", delivery.latency.p99_ms, "ms"),
        Figure("Webhooks", f"events delivered within {DRAIN_TIMEOUT_SECONDS:g} s of the last "
               "final", delivery.latency.count, "events", delivery.events, "events written")
        .at_least(1.0, delivery.drained),
        Figure("Processing", f"payouts/s, {at}, {spread.shape}", spread.rate, "/s", one.rate,
               f"one consumer of {one.shape}"),
        Figure("Processing", f"peak PostgreSQL connections, {spread.shape}", spread.connections,
               "conns", one.connections, "one consumer")
        .at_most(most, f"<= {most} ({MAX_CONNECTIONS} each)", spread.connections > 0),
        Figure("Processing", f"payouts/s, {at}, {thread.shape}", thread.rate, "/s",
               thread.workers / latency, f"ideal {thread.workers} / {latency:g} s")
        .at_least(THREADS_MIN_RATIO, thread.completed == thread.payouts),
    ]  # fmt: skip
    results.figures += [
        Figure("Processing", f"ledger check, {c.name}: payouts mismatched", c.mismatches,
               "payouts", c.payouts, "checked", "0 mismatches",
               c.payouts > 0 and c.mismatches == 0)
        for c in checks
    ]  # fmt: skip
    results.details["ledger"] = [asdict(c) for c in checks]
    results.tables += [
        Table(
            "Processing",
            "Rate = payouts final / seconds from the first enqueue to the last final. RSS is the "
            "largest consumer's, connections all of a run's consumers' together (by "
            "`application_name`), sampled every 0.1 s; CPU is the consumers', per payout and in "
            "cores; machine busy is both cores' use by anything, this stack's or not.",
            COLUMNS,
            [run.row() for run in runs],
        )
    ]
