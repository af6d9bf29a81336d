"""Create throughput and latency: POST /api/payouts/ against a bare Django view and pgbench."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.load import HttpRequest, LoadResult, fetch_expecting, run_load
from benchmarks.protocol import BARE_CREATE_PATH
from benchmarks.results import CreateRun
from benchmarks.stack import Stack
from benchmarks.stats import rate, summarize

PAYLOAD = {
    "amount": "250.00",
    "currency": "EUR",
    "recipient_details": {"account_number": "DE89370400440532013000", "bank_name": "DB"},
    "description": "Contractor payment - March",
}

# The rows POST /api/payouts/ writes, in the statements Django sends: the payout, owned by the
# benchmark's client, and its creation event recorded as that client's key, in one transaction.
# pgbench substitutes :id, :client_id and :actor, inside quotes too. No key check: the floor of
# the writes alone.
PGBENCH_SCRIPT = """\
BEGIN;
INSERT INTO payouts_payout (id, client_id, amount, currency, recipient_details, description, \
reference, metadata, status, failure_code, failure_reason, provider_reference, attempts, \
max_attempts, created_at, updated_at, deleted_at) VALUES (gen_random_uuid(), :client_id, 250.00, \
'EUR', '{"account_number": "DE89370400440532013000", "bank_name": "DB"}', \
'Contractor payment - March', NULL, '{}', 'PENDING', '', '', '', 0, 4, now(), now(), NULL) \
RETURNING id \\gset
INSERT INTO payouts_payoutevent (payout_id, kind, from_status, to_status, attempt, reason, \
changes, actor_kind, actor, created_at) VALUES (':id', 'created', '', 'PENDING', 0, '', '{}', \
'client', ':actor', now());
COMMIT;
"""

TPS_PATTERN = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
PROCESSED_PATTERN = re.compile(r"number of transactions actually processed: (\d+)")
FAILED_PATTERN = re.compile(r"number of failed transactions: (\d+)")


@dataclass(frozen=True)
class CreatePlan:
    concurrencies: tuple[int, ...] = (1, 8, 32)
    seconds: float = 6.0
    # Each target's seconds are cut in this many slices, which take turns with the other's.
    slices: int = 4
    max_requests: int = 20_000
    warmup_seconds: float = 1.0


def _http_runs(
    stack: Stack, requests: dict[str, HttpRequest], concurrency: int, plan: CreatePlan
) -> list[CreateRun]:
    """Load each target for plan.seconds in all, in slices that take turns.

    The slices go A B C, C B A, A B C, ...: a slow spell of the shared machine, or a drift over
    the run, falls on every target alike instead of on whichever ran then.
    """
    host, port = stack.config.host, stack.config.port
    for name, request in requests.items():
        fetch_expecting(host, port, request, 201)
        # Warm every worker, not only those a single client would reach.
        run_load(
            host,
            port,
            request,
            concurrency=max(concurrency, stack.config.gunicorn_workers),
            max_requests=plan.max_requests,
            max_seconds=plan.warmup_seconds,
            expected_status=201,
        ).require(201, f"create warm-up, {name}")
    totals = {name: LoadResult() for name in requests}
    names = list(requests)
    for slice_number in range(plan.slices):
        for name in names if slice_number % 2 == 0 else reversed(names):
            result = run_load(
                host,
                port,
                requests[name],
                concurrency=concurrency,
                max_requests=plan.max_requests // plan.slices,
                max_seconds=plan.seconds / plan.slices,
                expected_status=201,
            )
            result.require(201, f"create, {name}, c={concurrency}")
            total = totals[name]
            total.latencies += result.latencies
            total.errors += result.errors
            total.seconds += result.seconds
    return [
        CreateRun(
            target=name,
            concurrency=concurrency,
            requests=len(total.latencies),
            errors=total.errors,
            seconds=total.seconds,
            throughput=rate(len(total.latencies), total.seconds),
            latency=summarize(total.latencies),
        )
        for name, total in totals.items()
    ]


def parse_pgbench_logs(paths: list[Path]) -> list[float]:
    """Per-transaction latencies, in seconds, from pgbench --log files (third field, in µs)."""
    latencies: list[float] = []
    for path in paths:
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1_000_000)
    return latencies


def _pgbench_run(stack: Stack, concurrency: int, plan: CreatePlan) -> CreateRun:
    config = stack.config
    with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
        script = Path(tmp) / "create.sql"
        script.write_text(PGBENCH_SCRIPT)
        args = [
            "pgbench",
            "--no-vacuum",
            "--host",
            config.pg_host,
            "--port",
            str(config.pg_port),
            "--username",
            config.pg_user,
            "--client",
            str(concurrency),
            "--jobs",
            str(min(concurrency, 2)),
            "--file",
            str(script),
            "--define",
            f"client_id={stack.client_key.client_id}",
            "--define",
            f"actor={stack.client_key.prefix}",
        ]
        subprocess.run(
            [*args, "--time", str(max(int(plan.warmup_seconds), 1)), config.database],
            capture_output=True,
            timeout=plan.warmup_seconds + 60,
            check=True,
        )
        completed = subprocess.run(
            [
                *args,
                "--time",
                str(int(plan.seconds)),
                "--log",
                "--log-prefix",
                str(Path(tmp) / "log"),
                config.database,
            ],
            capture_output=True,
            text=True,
            cwd=tmp,
            timeout=plan.seconds + 60,
            check=True,
        )
        latencies = parse_pgbench_logs(sorted(Path(tmp).glob("log.*")))
    tps = TPS_PATTERN.search(completed.stdout)
    processed = PROCESSED_PATTERN.search(completed.stdout)
    failed = FAILED_PATTERN.search(completed.stdout)
    return CreateRun(
        target="pgbench",
        concurrency=concurrency,
        requests=int(processed.group(1)) if processed else len(latencies),
        errors=int(failed.group(1)) if failed else 0,
        seconds=float(int(plan.seconds)),
        throughput=float(tps.group(1)) if tps else rate(len(latencies), plan.seconds),
        latency=summarize(latencies),
    )


def measure_create(stack: Stack, plan: CreatePlan) -> list[CreateRun]:
    """`api` and `api_keyed` (a new Idempotency-Key on every request, as a client sends one
    per payout) against the bare view, and pgbench."""
    body = json.dumps(PAYLOAD).encode()
    create = stack.request("POST", "/api/payouts/", body)
    requests = {
        "api": create,
        "api_keyed": replace(create, unique_header="Idempotency-Key"),
        "bare": stack.request("POST", BARE_CREATE_PATH, body),
    }
    runs: list[CreateRun] = []
    for concurrency in plan.concurrencies:
        runs += _http_runs(stack, requests, concurrency, plan)
        runs.append(_pgbench_run(stack, concurrency, plan))
    return runs
