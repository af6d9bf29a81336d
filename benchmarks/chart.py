"""latency.png: p50, p90 and p99 of every create and list run, on a log scale."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from benchmarks.report import LIST_MAX_P99_MS
from benchmarks.results import BenchResults
from benchmarks.stats import Latency

PERCENTILES = (("p50", "p50_ms"), ("p90", "p90_ms"), ("p99", "p99_ms"))


def _bars(axis: Axes, labels: list[str], latencies: list[Latency], title: str) -> None:
    width = 0.27
    positions = range(len(labels))
    for index, (name, attribute) in enumerate(PERCENTILES):
        values = [max(float(getattr(latency, attribute)), 0.01) for latency in latencies]
        axis.bar([p + (index - 1) * width for p in positions], values, width, label=name)
    axis.set_xticks(list(positions))
    axis.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    axis.set_yscale("log")
    axis.set_ylabel("latency (ms, log scale)")
    axis.set_title(title)
    axis.grid(axis="y", which="both", alpha=0.3)


def write_chart(results: BenchResults, path: Path) -> None:
    figure, (create_axis, list_axis) = plt.subplots(1, 2, figsize=(15, 6))
    _bars(
        create_axis,
        [f"{run.target} c={run.concurrency}" for run in results.create],
        [run.latency for run in results.create],
        "Create: POST /api/payouts/ vs bare Django view vs pgbench",
    )
    _bars(
        list_axis,
        [f"{run.surface}: {run.case}" for run in results.listing],
        [run.latency for run in results.listing],
        "List: REST and GraphQL vs their SQL via psycopg",
    )
    list_axis.axhline(LIST_MAX_P99_MS, color="red", linestyle="--", linewidth=1)
    list_axis.annotate(
        f"p99 target {LIST_MAX_P99_MS:.0f} ms",
        (0, LIST_MAX_P99_MS),
        color="red",
        fontsize=8,
        xytext=(2, 3),
        textcoords="offset points",
    )
    for axis in (create_axis, list_axis):
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
