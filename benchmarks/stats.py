"""Latency percentiles and rates: the arithmetic every measurement shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """A latency distribution, in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(seconds: Sequence[float]) -> Latency:
    """Summarize latencies measured in seconds; an empty run is all zeros, not an error."""
    if not seconds:
        return Latency(count=0, mean_ms=0.0, p50_ms=0.0, p90_ms=0.0, p99_ms=0.0, max_ms=0.0)
    ms = [value * 1000 for value in seconds]
    return Latency(
        count=len(ms),
        mean_ms=sum(ms) / len(ms),
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms),
    )


def rate(count: int, seconds: float) -> float:
    """Events per second; zero when nothing was timed."""
    return count / seconds if seconds > 0 else 0.0
