"""What a run measured (figures next to their baselines, and detail tables) and its Markdown."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

COUNT_CALL = re.compile(r"\bCOUNT\s*\(", re.IGNORECASE)
WINDOW_COUNT = re.compile(r"\bCOUNT\s*\([^)]*\)\s*OVER\b", re.IGNORECASE)
LIMITED_SUBQUERY = re.compile(r"\(\s*SELECT\b.*\bLIMIT\b", re.IGNORECASE | re.DOTALL)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between ranks as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """A latency distribution in milliseconds, from every sample (not a bucketed histogram)."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [value * 1000 for value in seconds]
        mean = sum(ms) / len(ms) if ms else 0.0
        p50, p90, p99 = (percentile(ms, q) for q in (50, 90, 99))
        return cls(len(ms), mean, p50, p90, p99, max(ms, default=0.0))

    def cells(self) -> list[str]:
        return [number(v) for v in (self.mean_ms, self.p50_ms, self.p90_ms, self.p99_ms)]


LATENCY_COLUMNS = ["mean ms", "p50 ms", "p90 ms", "p99 ms"]


@dataclass(frozen=True)
class Figure:
    """One figure next to the baseline measured in the same run; `passed` is None without a
    target."""

    group: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def at_least(self, minimum: float, ok: bool = True) -> Figure:
        """This figure with the target "at least `minimum` times its baseline"."""
        ratio = self.ratio
        passed = ok and ratio is not None and ratio >= minimum
        return dataclasses.replace(self, target=f">= {minimum}x baseline", passed=passed)

    def at_most(self, maximum: float, target: str, ok: bool = True) -> Figure:
        passed = ok and self.value <= maximum
        return dataclasses.replace(self, target=target, passed=passed)


@dataclass(frozen=True)
class Table:
    title: str
    note: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Results:
    meta: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # Raw data for a reader of latest.json only: SQL, query plans, ledger examples.
    details: dict[str, Any] = field(default_factory=dict)


def is_unbounded_count(sql: str) -> bool:
    """A COUNT that reads every matching row: a window COUNT(...) OVER (), whatever LIMIT the
    page has, or a COUNT not taken over a LIMITed subquery."""
    if WINDOW_COUNT.search(sql):
        return True
    return bool(COUNT_CALL.search(sql)) and not LIMITED_SUBQUERY.search(sql)


def unbounded_counts(statements: Iterable[str]) -> list[str]:
    return [sql for sql in statements if is_unbounded_count(sql)]


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]


def render_markdown(results: Results) -> str:
    meta = results.meta
    targeted = [f for f in results.figures if f.passed is not None]
    met = sum(1 for f in targeted if f.passed)
    skipped = meta.get("skipped", [])
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` of commit `{meta.get('commit')}` on {meta.get('started')}: "
        f"{meta.get('machine')}; {meta.get('stack')}. The whole run took "
        f"{number(meta.get('duration_seconds'))} s."
        + (f" Skipped, the run's budget spent: {', '.join(skipped)}." if skipped else ""),
        "",
        "Each figure is measured next to its baseline in the same run, so the ratio holds on a "
        "noisy machine. A missed target is reported, never a failed build.",
        "",
        f"**{met} of {len(targeted)} targets met.**",
        "",
        "## Figures and targets",
        "",
    ]
    rows = [
        [f.group, f.name, f"{number(f.value)} {f.unit}",
         f"{number(f.baseline)} {f.unit} ({f.baseline_name})" if f.baseline is not None else "—",
         f"{f.ratio:.2f}x" if f.ratio is not None else "—", f.target or "—",
         {None: "—", True: "PASS", False: "**FAIL**"}[f.passed]]
        for f in results.figures
    ]  # fmt: skip
    lines += _table(["Group", "Figure", "Value", "Baseline", "Ratio", "Target", "Result"], rows)
    for table in results.tables:
        lines += ["", f"## {table.title}", "", table.note, "", *_table(table.columns, table.rows)]
    return "\n".join(lines) + "\n"
