"""`python -m benchmarks`: start the stack, run every measurement, write latest.json/.md/.png."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import django
import psutil

from benchmarks.chart import write_chart
from benchmarks.create import CreatePlan, measure_create
from benchmarks.keycheck import KeyCheckPlan, measure_key_check
from benchmarks.listing import ListPlan, measure_listing, seed_payouts
from benchmarks.memory import MB, MemorySampler
from benchmarks.processing import ProcessingPlan, measure_processing
from benchmarks.report import figures, render_markdown
from benchmarks.results import BenchResults, MemoryPeak
from benchmarks.stack import (
    CLIENT_NAME,
    ROOT,
    Stack,
    StackConfig,
    StackError,
    free_port,
    terminate_on_sigterm,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_RESULTS_DIR = ROOT / "data" / "bench" / "quick"
# The issue allows 10 minutes; phases (and processing runs) that would start after this are
# skipped and reported.
RUN_BUDGET_SECONDS = 480.0


@dataclass(frozen=True)
class Profile:
    key_check: KeyCheckPlan = field(default_factory=KeyCheckPlan)
    create: CreatePlan = field(default_factory=CreatePlan)
    listing: ListPlan = field(default_factory=ListPlan)
    processing: ProcessingPlan = field(default_factory=ProcessingPlan)


FULL = Profile()
# A smoke run of every code path in about a minute; its figures mean little.
QUICK = Profile(
    key_check=KeyCheckPlan(iterations=500, max_seconds=5.0, warmup=20),
    create=CreatePlan(concurrencies=(1, 8), seconds=2.0, warmup_seconds=0.5),
    listing=ListPlan(
        rows=20_000, deep_offset=10_000, max_requests=20, seconds_per_case=2.0, warmup_requests=2
    ),
    processing=ProcessingPlan(
        greenlets=100,
        latency_seconds=0.5,
        baseline_payouts=200,
        run_seconds=2.0,
        min_payouts=200,
        max_payouts=400,
        threads=16,
        thread_payouts=64,
        rough_payouts=60,
        max_seconds=30,
    ),
)


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return completed.stdout.strip()


def _git_commit() -> str:
    """HEAD, marked when the service's code in the work tree differs from it."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git(
        "status", "--porcelain", "--", "clients", "payouts", "rest_api", "graphql_api", "project"
    )
    return f"{commit} + uncommitted changes" if changed else commit


def _postgres_version(stack: Stack) -> str:
    with stack.connect() as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def write_outputs(results: BenchResults, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "latest.json").write_text(json.dumps(results.to_json(), indent=2) + "\n")
    (output / "latest.md").write_text(render_markdown(results))
    write_chart(results, output / "latency.png")


def _skip(results: BenchResults, name: str) -> None:
    log(f"{name}: skipped, the run budget is spent")
    results.meta.setdefault("skipped", []).append(name)


def _phase(results: BenchResults, deadline: float, name: str, action: Callable[[], None]) -> None:
    if time.monotonic() > deadline:
        _skip(results, name)
        return
    log(f"{name} …")
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    results.meta.setdefault("phase_seconds", {})[name] = round(seconds, 1)
    log(f"{name}: {seconds:.1f} s")


def run(profile: Profile, config: StackConfig) -> BenchResults:
    started = time.monotonic()
    deadline = started + RUN_BUDGET_SECONDS
    results = BenchResults(
        meta={
            "started": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "gunicorn_workers": config.gunicorn_workers,
        }
    )
    sampler = MemorySampler()
    with terminate_on_sigterm(), Stack(config) as stack:
        try:
            _run_phases(stack, profile, results, sampler, deadline)
        finally:
            sampler.stop()
    results.memory = [
        MemoryPeak(
            process=role,
            idle_mb=round(memory.first / MB, 1),
            peak_mb=round(memory.peak / MB, 1),
            samples=memory.samples,
        )
        for role, memory in sampler.roles.items()
    ]
    results.meta["duration_seconds"] = round(time.monotonic() - started, 1)
    return results


def _run_phases(
    stack: Stack,
    profile: Profile,
    results: BenchResults,
    sampler: MemorySampler,
    deadline: float,
) -> None:
    config = stack.config
    log(f"migrating {config.database}")
    stack.migrate()
    key = stack.create_client_key()
    log(f"created client {CLIENT_NAME!r} and its API key {key.prefix}")
    # The harness times the key check and enqueues and reads tasks through Huey as the service
    # does, so it runs Django with the same settings and environment as the stack's processes.
    os.environ.update(config.environment())
    django.setup()
    memory = psutil.virtual_memory().total / (1024**3)
    results.meta |= {
        "machine": f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()}, "
        f"Python {platform.python_version()}",
        "stack": f"gunicorn {config.gunicorn_workers} sync workers, Huey consumers paying "
        f"through manage.py fake_provider, PostgreSQL {_postgres_version(stack)}, Redis DB "
        f"{config.redis_db}, all on loopback",
    }

    def key_check() -> None:
        results.key_check = measure_key_check(key.authorization, profile.key_check)

    # Before gunicorn starts, so that nothing else of the stack's runs beside it.
    _phase(results, deadline, "key check", key_check)
    log(f"starting gunicorn on {config.host}:{config.port}")
    gunicorn = stack.start_gunicorn()
    sampler.watch(gunicorn.pid, "gunicorn worker", children=True)
    sampler.start()

    def create() -> None:
        results.create = measure_create(stack, profile.create)
        stack.clear_payouts()

    def listing() -> None:
        seeded = seed_payouts(stack, profile.listing.rows)
        results.meta["seeded_rows"] = seeded.rows
        results.meta["seed_seconds"] = round(seeded.seconds, 1)
        log(f"seeded {seeded.rows:,} payouts in {seeded.seconds:.1f} s")
        results.listing, results.plans = measure_listing(stack, profile.listing, seeded.newest)

    _phase(results, deadline, "create", create)
    _phase(results, deadline, "list", listing)
    # Processing gets the cores to itself, as a dedicated worker host would, and none of the
    # seeded PENDING or PROCESSING rows, which a consumer's start-up sweep would pick up.
    sampler.unwatch(gunicorn.pid)
    stack.stop(gunicorn)
    stack.clear_payouts()

    def processing() -> None:
        measured = measure_processing(stack, profile.processing, deadline)
        results.processing, results.ledger = measured.runs, measured.ledger
        for run in measured.skipped:
            _skip(results, run)

    _phase(results, deadline, "processing", processing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: small and short")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"results directory (default {RESULTS_DIR}, or {QUICK_RESULTS_DIR} with --quick)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-render latest.md and latency.png from latest.json, measuring nothing",
    )
    parser.add_argument("--database", default=StackConfig.database)
    parser.add_argument("--redis-db", type=int, default=StackConfig.redis_db)
    parser.add_argument("--workers", type=int, default=StackConfig.gunicorn_workers)
    args = parser.parse_args(argv)
    output: Path = args.output or (QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)

    if args.report_only:
        data = json.loads((output / "latest.json").read_text())
        write_outputs(BenchResults.from_json(data), output)
        return 0
    config = StackConfig(
        port=free_port(StackConfig.host),
        database=args.database,
        redis_db=args.redis_db,
        gunicorn_workers=args.workers,
    )
    try:
        results = run(QUICK if args.quick else FULL, config)
    except KeyboardInterrupt:
        log("interrupted: every process stopped, the benchmark database dropped")
        return 130
    except SystemExit as stop:
        log("terminated: every process stopped, the benchmark database dropped")
        return stop.code if isinstance(stop.code, int) else 1
    except (StackError, OSError, subprocess.SubprocessError, RuntimeError):
        log("the harness broke: every process stopped, the benchmark database dropped")
        traceback.print_exc()
        log(f"process logs are in {config.log_dir}")
        return 1
    write_outputs(results, output)
    for figure in figures(results):
        if figure.passed is not None:
            ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "—"
            log(f"{figure.result}  {figure.name}: {figure.value:.2f} {figure.unit} ({ratio})")
    log(f"results in {output}/latest.md ({results.meta['duration_seconds']} s)")
    return 0
