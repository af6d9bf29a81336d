"""What one `make bench` run measured, as plain data that round-trips through latest.json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchmarks.stats import Latency


@dataclass(frozen=True)
class CreateRun:
    """One create target at one concurrency: "api", "bare" (Django view) or "pgbench"."""

    target: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    throughput: float
    latency: Latency


@dataclass(frozen=True)
class KeyCheckRun:
    """In-process timings: "key check" (caller_for_authorization) or "SELECT 1" (its floor)."""

    target: str
    latency: Latency


@dataclass(frozen=True)
class ListRun:
    """One listing case on one surface: "rest", "graphql" or "sql" (the same SQL via psycopg)."""

    surface: str
    case: str
    errors: int
    latency: Latency
    queries: int | None = None
    queries_large_page: int | None = None
    sql: list[str] = field(default_factory=list)


# The processing runs, by the question each answers.
DELAY_0 = "delay 0"  # the consumer's own rate, CPU-bound: no provider latency to wait out
PROVIDER = "provider"  # the same consumer at the provider's latency
SCALE_OUT = "scale-out"  # as many greenlets, spread over several consumers on one queue
THREADS = "threads"  # thread workers at that latency: why greenlets
ROUGH = "rough"  # a provider that fails in every way the contract allows
GREENLET = "greenlet"
THREAD = "thread"


@dataclass(frozen=True)
class ProcessingRun:
    """One batch of payouts through `consumers` consumers of `workers` each, paying through the
    fake provider; `kind` names the run (one of the above). RSS is the largest consumer's,
    connections and CPU seconds all of its consumers'; `machine_busy` is the share of every
    core busy with anything (this stack or not) while the payouts were paid."""

    kind: str
    worker_type: str
    consumers: int
    workers: int
    latency_seconds: float
    payouts: int
    completed: int
    failed: int
    seconds: float
    rate: float
    start_rss_mb: float
    peak_rss_mb: float
    peak_connections: int
    consumer_cpu_seconds: float
    machine_busy: float

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    @property
    def cpu_ms_per_payout(self) -> float:
        return 1000 * self.consumer_cpu_seconds / self.finished if self.finished else 0.0


@dataclass(frozen=True)
class LedgerCheck:
    """The service's record of a set of payouts against the fake provider's ledger of them.

    A mismatch is a payout COMPLETED but not paid exactly once under its reference and amount,
    not COMPLETED but paid, declined but recorded with another code, or left unfinished; or a
    payment the service has no payout for. `examples` says what the first few were.
    """

    name: str
    payouts: int
    completed: int
    failed: int
    unfinished: int
    mismatches: int
    examples: list[str] = field(default_factory=list)
    provider_totals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MemoryPeak:
    process: str
    idle_mb: float
    peak_mb: float
    samples: int


@dataclass(frozen=True)
class QueryPlan:
    surface: str
    case: str
    sql: str
    execution_ms: float
    plan: str


@dataclass
class BenchResults:
    meta: dict[str, Any] = field(default_factory=dict)
    key_check: list[KeyCheckRun] = field(default_factory=list)
    create: list[CreateRun] = field(default_factory=list)
    listing: list[ListRun] = field(default_factory=list)
    processing: list[ProcessingRun] = field(default_factory=list)
    ledger: list[LedgerCheck] = field(default_factory=list)
    memory: list[MemoryPeak] = field(default_factory=list)
    plans: list[QueryPlan] = field(default_factory=list)

    def key_check_run(self, target: str) -> KeyCheckRun | None:
        return next((r for r in self.key_check if r.target == target), None)

    def create_run(self, target: str, concurrency: int) -> CreateRun | None:
        return next(
            (r for r in self.create if r.target == target and r.concurrency == concurrency), None
        )

    def list_run(self, surface: str, case: str) -> ListRun | None:
        return next((r for r in self.listing if r.surface == surface and r.case == case), None)

    def processing_run(self, kind: str) -> ProcessingRun | None:
        return next((r for r in self.processing if r.kind == kind), None)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BenchResults:
        def with_latency(item: dict[str, Any]) -> dict[str, Any]:
            return {**item, "latency": Latency(**item["latency"])}

        return cls(
            meta=dict(data.get("meta", {})),
            key_check=[KeyCheckRun(**with_latency(item)) for item in data.get("key_check", [])],
            create=[CreateRun(**with_latency(item)) for item in data.get("create", [])],
            listing=[ListRun(**with_latency(item)) for item in data.get("listing", [])],
            processing=[ProcessingRun(**item) for item in data.get("processing", [])],
            ledger=[LedgerCheck(**item) for item in data.get("ledger", [])],
            memory=[MemoryPeak(**item) for item in data.get("memory", [])],
            plans=[QueryPlan(**item) for item in data.get("plans", [])],
        )
