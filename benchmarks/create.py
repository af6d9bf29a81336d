"""Create throughput and latency: POST /api/payouts/ against a bare Django view and pgbench."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load import HttpRequest, run_load
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

# The rows POST /api/payouts/ writes, in the statements Django sends: the payout, its creation
# event, one transaction. pgbench substitutes :id inside the quotes.
PGBENCH_SCRIPT = """\
BEGIN;
INSERT INTO payouts_payout (id, amount, currency, recipient_details, description, status, \
failure_reason, attempts, created_at, updated_at) VALUES (gen_random_uuid(), 250.00, 'EUR', \
'{"account_number": "DE89370400440532013000", "bank_name": "DB"}', \
'Contractor payment - March', 'PENDING', '', 0, now(), now()) RETURNING id \\gset
INSERT INTO payouts_payoutevent (payout_id, from_status, to_status, attempt, reason, created_at) \
VALUES (':id', '', 'PENDING', 0, '', now());
COMMIT;
"""

TPS_PATTERN = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
PROCESSED_PATTERN = re.compile(r"number of transactions actually processed: (\d+)")
FAILED_PATTERN = re.compile(r"number of failed transactions: (\d+)")


@dataclass(frozen=True)
class CreatePlan:
    concurrencies: tuple[int, ...] = (1, 8, 32)
    seconds: float = 6.0
    max_requests: int = 20_000
    warmup_seconds: float = 1.0


def _http_run(
    stack: Stack, target: str, path: str, concurrency: int, plan: CreatePlan
) -> CreateRun:
    request = HttpRequest("POST", path, json.dumps(PAYLOAD).encode())
    host, port = stack.config.host, stack.config.port
    # Warm every worker, not only those a single client would reach.
    run_load(
        host,
        port,
        request,
        concurrency=max(concurrency, stack.config.gunicorn_workers),
        max_requests=plan.max_requests,
        max_seconds=plan.warmup_seconds,
        expected_status=201,
    )
    result = run_load(
        host,
        port,
        request,
        concurrency=concurrency,
        max_requests=plan.max_requests,
        max_seconds=plan.seconds,
        expected_status=201,
    )
    return CreateRun(
        target=target,
        concurrency=concurrency,
        requests=len(result.latencies),
        errors=result.errors,
        seconds=result.seconds,
        throughput=rate(len(result.latencies), result.seconds),
        latency=summarize(result.latencies),
    )


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
    runs: list[CreateRun] = []
    for concurrency in plan.concurrencies:
        runs.append(_http_run(stack, "api", "/api/payouts/", concurrency, plan))
        runs.append(_http_run(stack, "bare", BARE_CREATE_PATH, concurrency, plan))
        runs.append(_pgbench_run(stack, concurrency, plan))
    return runs
