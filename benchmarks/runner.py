"""`python -m benchmarks`: start the Procfile's processes, measure, write latest.json and .md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from benchmarks.create import CreatePlan, measure_create
from benchmarks.keycheck import measure_key_check
from benchmarks.listing import measure_listing
from benchmarks.processing import ProcessingPlan, measure_processing
from benchmarks.report import Figure, Results, render_markdown
from benchmarks.stack import LOG_DIR, ROOT, Config, Stack, StackError, free_port, peak_rss_mb
from benchmarks.subscribers import SubscribersPlan, measure_subscribers

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# A phase or run that would start after this is skipped, and named: 8 minutes until the ASGI
# baseline and the subscribers' phase came (issue 16), about 3 minutes more.
RUN_BUDGET_SECONDS = 600.0


@dataclass(frozen=True)
class Profile:
    key_checks: int = 5000
    create: CreatePlan = field(default_factory=CreatePlan)
    rows: int = 1_000_000
    deep_offset: int = 100_000
    list_seconds: float = 8.0
    processing: ProcessingPlan = field(default_factory=ProcessingPlan)
    subscribers: SubscribersPlan = field(default_factory=SubscribersPlan)


# A smoke run of every code path in about two minutes; its figures mean little.
QUICK = Profile(
    key_checks=500, create=CreatePlan((1, 8), 2.0, 2), rows=20_000, deep_offset=10_000,
    list_seconds=2.0, processing=ProcessingPlan(
        greenlets=100, latency=0.5, baseline_payouts=200, run_seconds=2.0, min_payouts=200,
        max_payouts=400, threads=16, thread_payouts=64, rough_payouts=60, max_seconds=30,
        webhook_delay=0.5, webhook_workers=100,
    ),
    subscribers=SubscribersPlan(subscribers=100, few=10, events=5, interval=0.2),
)  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    apps = (
        *("clients", "payouts", "events", "webhooks"),
        *("rest_api", "graphql_api", "idempotency", "project"),
    )
    return f"{commit} + uncommitted changes" if git("status", "--porcelain", *apps) else commit


def run(profile: Profile, config: Config) -> Results:
    started = time.monotonic()
    results = Results(meta={"started": datetime.now(tz=UTC).isoformat(timespec="seconds")})
    memory = psutil.virtual_memory().total / 2**30
    results.meta |= {
        "commit": _commit(),
        "machine": f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()}, "
        f"Python {platform.python_version()}",
        "stack": f"the Procfile's web (WEB_CONCURRENCY={config.web_concurrency}; beside it the "
        "same under WSGI for its baseline) and worker, "
        f"started by honcho, PostgreSQL and Redis DB {config.redis_db}, load from locust, all "
        "on loopback",
    }
    results.meta["skipped"] = skipped = []

    def due(name: str) -> bool:
        if time.monotonic() - started < RUN_BUDGET_SECONDS:
            log(f"{name} …")
            return True
        skipped.append(name)
        return False

    with Stack(config) as stack:
        log(f"migrating {config.database}, creating the client 'benchmark' and its key")
        stack.prepare()
        # Before the web starts, so that nothing else of the stack runs beside it.
        if due("key check"):
            measure_key_check(stack.authorization, profile.key_checks, results)
        web = stack.start_web()
        wsgi_web = stack.start_wsgi_web()
        first_mb = max(peak_rss_mb(process) for process in web.leaves())
        if due("create"):
            measure_create(
                config.base_url, config.wsgi_base_url, stack.authorization, profile.create, results
            )
            stack.clear_payouts()
        if due("list"):
            measure_listing(stack, profile.rows, profile.deep_offset, profile.list_seconds, results)
        peak_mb = max(peak_rss_mb(process) for process in web.leaves())
        wsgi_peak_mb = max(peak_rss_mb(process) for process in wsgi_web.leaves())
        results.figures += [
            Figure("Memory", "peak RSS, web worker", peak_mb, "MB", first_mb, "just started"),
            Figure("Memory", "peak RSS, web worker", peak_mb, "MB", wsgi_peak_mb,
                   "WSGI worker, same load"),
        ]  # fmt: skip
        # Processing gets the cores to itself, as a dedicated worker host would, and none of
        # the seeded unfinished rows, which a consumer's start-up sweep would pick up.
        stack.stop(web, wsgi_web)
        stack.clear_payouts()
        if due("subscribers"):
            measure_subscribers(stack, profile.subscribers, results)
            stack.clear_payouts()
        if due("processing"):
            measure_processing(stack, profile.processing, started + RUN_BUDGET_SECONDS, results)
    results.meta["duration_seconds"] = round(time.monotonic() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: small and short")
    parser.add_argument("--output", type=Path, help=f"default {RESULTS_DIR} ({LOG_DIR}/quick)")
    parser.add_argument("--database", default=Config.database)
    parser.add_argument("--redis-db", type=int, default=Config.redis_db)
    parser.add_argument("--port", type=int, help="of the web (default: a free one)")
    parser.add_argument("--web-concurrency", type=int, default=Config.web_concurrency)
    args = parser.parse_args(argv)
    output: Path = args.output or (LOG_DIR / "quick" if args.quick else RESULTS_DIR)
    # As Ctrl-C: the stack's processes stop and its database goes.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    config = Config(
        args.port or free_port(),
        args.database,
        args.redis_db,
        args.web_concurrency,
        wsgi_port=free_port(),
    )
    try:
        results = run(QUICK if args.quick else Profile(), config)
    except KeyboardInterrupt:
        log("interrupted: every process stopped, the benchmark database dropped")
        return 130
    except (StackError, OSError, subprocess.SubprocessError, RuntimeError):
        traceback.print_exc()
        log(f"the harness broke: every process stopped, the database dropped; logs in {LOG_DIR}")
        return 1
    output.mkdir(parents=True, exist_ok=True)
    (output / "latest.json").write_text(json.dumps(asdict(results), indent=2) + "\n")
    (output / "latest.md").write_text(render_markdown(results))
    for figure in results.figures:
        if figure.passed is not None:
            ratio = f" ({figure.ratio:.2f}x)" if figure.ratio is not None else ""
            result = "PASS" if figure.passed else "FAIL"
            log(f"{result}  {figure.name}: {figure.value:.2f} {figure.unit}{ratio}")
    log(f"results in {output}/latest.md ({results.meta['duration_seconds']} s)")
    return 0
