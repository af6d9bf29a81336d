"""Prometheus metrics of payouts: the consumer's attempt metrics and the gauges /metrics reads."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from payouts import heartbeats, selectors
from payouts.logs import OUTCOMES, outcome_name
from payouts.providers import Outcome

logger = logging.getLogger(__name__)

# From a fast provider's tens of milliseconds to an http call that timed out three times over.
PROCESSING_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


@dataclass(frozen=True)
class WorkerMetrics:
    registry: CollectorRegistry
    processing_duration: Histogram
    attempts: Counter


@functools.cache
def worker_metrics() -> WorkerMetrics:
    """The consumer's metrics, in a registry of their own, made in the first process that
    processes a payout: a web process never makes them, so its /metrics (which in multiprocess
    mode shows every metric any of its workers made) never shows them idle at zero."""
    registry = CollectorRegistry()
    attempts = Counter(
        "payout_attempts",
        "Provider attempts by outcome: paid, declined, rejected, retryable or unknown.",
        ["outcome"],
        registry=registry,
    )
    for name, _ in OUTCOMES.values():
        attempts.labels(outcome=name)
    duration = Histogram(
        "payout_processing_duration_seconds",
        "One process_payout run that claimed its payout: from the claim to its settled outcome "
        "(the provider call, recording the answer, scheduling any retry).",
        buckets=PROCESSING_DURATION_BUCKETS,
        registry=registry,
    )
    # The consumer's memory and CPU, as any exporter shows them.
    ProcessCollector(registry=registry)
    return WorkerMetrics(registry, duration, attempts)


@contextmanager
def recording_attempt() -> Iterator[Callable[[Outcome], None]]:
    """Time the block as one processing run, and count the outcome it reports.

    A run that raises is timed too: it took that long, whatever became of it.
    """
    started = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        yield outcomes.append
    finally:
        _record(outcomes, time.monotonic() - started)


def _record(outcomes: list[Outcome], seconds: float) -> None:
    # Metrics never fail a payout: a misconfigured PROMETHEUS_MULTIPROC_DIR, say, costs the
    # numbers, not the attempt.
    try:
        metrics = worker_metrics()
        for outcome in outcomes:
            metrics.attempts.labels(outcome=outcome_name(outcome)).inc()
        metrics.processing_duration.observe(seconds)
    except Exception as error:
        logger.warning("Worker metrics not recorded: %s", error)


_heartbeat = heartbeats.HeartbeatThread()
_server_lock = threading.Lock()
_server_started = False


def consumer_worker_started() -> None:
    """Run by each Huey worker as it starts: the process beats and, once, serves its metrics."""
    _serve_worker_metrics()
    _heartbeat.worker_started()


def consumer_worker_stopped() -> None:
    _heartbeat.worker_stopped()


def _serve_worker_metrics() -> None:
    global _server_started
    port: int | None = settings.WORKER_METRICS_PORT
    if port is None:
        return
    with _server_lock:
        if _server_started:
            return
        _server_started = True
        try:
            start_http_server(port, registry=worker_metrics().registry)
        except OSError as error:
            # Payouts go on without metrics; the scrape target being down says so too.
            logger.error(
                "WORKER_METRICS_PORT=%s: cannot serve worker metrics: %s",
                port,
                error.strerror or error,
            )
            return
    logger.info("Worker metrics served on port %s", port)


class PayoutCollector(Collector):
    """The payout gauges, read at each scrape. A gauge whose source is down is left out of that
    scrape (and logged), so the request metrics and the other gauges still answer."""

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Known without reading: registering the collector must not query the database.
        return [_payout_count_family(), *(_gauge(name, doc) for name, doc, _ in _GAUGES)]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families: list[GaugeMetricFamily] = []
        try:
            counts = _payout_count_family()
            for status, count in selectors.payout_counts_by_status().items():
                counts.add_metric([status], count)
            families.append(counts)
        except Exception as error:
            logger.warning("Metric payout_count not read: %s", error)
        for name, documentation, read in _GAUGES:
            try:
                families.append(_gauge(name, documentation, read()))
            except Exception as error:
                logger.warning("Metric %s not read: %s", name, error)
        return families


def _payout_count_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "payout_count",
        "Live payouts by status; exact up to PAYOUT_LIST_EXACT_COUNT_LIMIT, PostgreSQL's "
        "estimate past it.",
        labels=["status"],
    )


def _gauge(name: str, documentation: str, value: float | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _oldest_pending_age_seconds() -> float:
    created_at = selectors.payout_oldest_pending_created_at()
    if created_at is None:
        return 0.0
    return max((timezone.now() - created_at).total_seconds(), 0.0)


def _queue_depth() -> float:
    depth: int = HUEY.pending_count()
    return depth


def _workers_alive() -> float:
    return heartbeats.consumers_alive()


_GAUGES: list[tuple[str, str, Callable[[], float]]] = [
    (
        "payout_queue_depth",
        "Tasks waiting in the Huey queue for a worker (scheduled retries not included).",
        _queue_depth,
    ),
    (
        "payout_oldest_pending_age_seconds",
        "Age of the oldest PENDING payout in seconds; 0 when none waits.",
        _oldest_pending_age_seconds,
    ),
    (
        "payout_workers_alive",
        "Consumer processes (run_huey) whose heartbeat is fresh.",
        _workers_alive,
    ),
]
