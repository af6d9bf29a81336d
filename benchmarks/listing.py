"""Listing at scale: seed payouts with COPY, then time REST, GraphQL and their own SQL.

Every seeded payout is the benchmark client's, whose key the requests send: the lists are those
of one client with a million payouts.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import urlencode

import psycopg

from benchmarks.load import HttpRequest, fetch_expecting, run_alternating, run_load
from benchmarks.protocol import (
    PROBE_REQUEST_HEADER,
    QUERY_SQL_HEADER,
    decode_sql,
)
from benchmarks.results import ListRun, QueryPlan
from benchmarks.stack import Stack
from benchmarks.stats import summarize

PAGE_SIZE = 20
LARGE_PAGE_SIZE = 100
SEED_DAYS = 365

# Most payouts of a service that has run for a year are finished.
STATUS_WEIGHTS = {"COMPLETED": 80, "FAILED": 10, "PENDING": 5, "PROCESSING": 5}
CURRENCIES = ("USD", "EUR", "GBP", "RUB")
# Every NOT NULL column of payouts_payout: the database has no defaults, Django fills them.
SEED_COLUMNS = (
    "id",
    "client_id",
    "amount",
    "currency",
    "recipient_details",
    "description",
    "metadata",
    "status",
    "failure_code",
    "failure_reason",
    "provider_reference",
    "attempts",
    "max_attempts",
    "created_at",
    "updated_at",
)
FAILURE_CODE = "insufficient_funds"
FAILURE_REASON = "The account has insufficient funds."
PROVIDER_REFERENCE = "fp_0123456789abcdef"


def pending_row(
    payout_id: str, client_id: int, now: datetime, max_attempts: int = 4
) -> tuple[object, ...]:
    """One PENDING payout as COPY takes it, in the order of SEED_COLUMNS."""
    return (
        payout_id,
        client_id,
        "250.00",
        "EUR",
        '{"account_number": "DE89370400440532013000"}',
        "Processing benchmark",
        "{}",
        "PENDING",
        "",
        "",
        "",
        0,
        max_attempts,
        now,
        now,
    )


GRAPHQL_QUERY = """
query Payouts($first: Int!, $after: String, $filters: PayoutFilter) {
  payouts(first: $first, after: $after, filters: $filters) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id payoutId amount currency recipientDetails status description reference metadata
        failureReason createdAt updatedAt
      }
    }
  }
}
"""

EXECUTION_TIME = re.compile(r"Execution Time: ([0-9.]+) ms")
# The key check reads its key once per web process and PAYOUT_API_KEY_CACHE_SECONDS, and writes
# its last_used_at on at most one request a minute: a probe that happens to be such a request
# would count, and replay, statements the other requests never run.
KEY_CHECK_SQL = re.compile(r'^(SELECT|UPDATE) "clients_apikey"')


@dataclass(frozen=True)
class ListPlan:
    rows: int = 1_000_000
    deep_offset: int = 100_000
    max_requests: int = 200
    seconds_per_case: float = 8.0
    warmup_requests: int = 5


@dataclass(frozen=True)
class Seeded:
    rows: int
    seconds: float
    newest: datetime


@dataclass(frozen=True)
class ListCase:
    """One page a client asks for; the filter is the same on both surfaces."""

    name: str
    filtered: bool
    offset: int


def list_cases(deep_offset: int) -> list[ListCase]:
    return [
        ListCase("first page", filtered=False, offset=0),
        ListCase("filtered page", filtered=True, offset=0),
        ListCase("deep page", filtered=False, offset=deep_offset),
    ]


def _filter_window(newest: datetime) -> tuple[datetime, datetime]:
    return newest - timedelta(days=90), newest - timedelta(days=30)


def rest_path(case: ListCase, newest: datetime, page_size: int = PAGE_SIZE) -> str:
    params: dict[str, str] = {"page_size": str(page_size)}
    if case.offset:
        params["page"] = str(case.offset // page_size + 1)
    if case.filtered:
        after, before = _filter_window(newest)
        params |= {
            "status": "COMPLETED",
            "currency": "EUR",
            "min_amount": "100",
            "max_amount": "5000",
            "created_after": after.isoformat(),
            "created_before": before.isoformat(),
        }
    return "/api/payouts/?" + urlencode(params)


def keyset_cursor(created_at: datetime, payout_id: str) -> str:
    """The GraphQL cursor of a payout in the default order, as the server writes it: the sort
    key of the row, so a page after it starts right there."""
    values = json.dumps([created_at.astimezone(UTC).isoformat(), payout_id], separators=(",", ":"))
    return base64.b64encode(f"orderedcursor:{values}".encode()).decode()


def graphql_body(
    case: ListCase, newest: datetime, page_size: int = PAGE_SIZE, after: str | None = None
) -> bytes:
    variables: dict[str, object] = {"first": page_size}
    if after:
        variables["after"] = after
    if case.filtered:
        after_time, before_time = _filter_window(newest)
        variables["filters"] = {
            "status": {"exact": "COMPLETED"},
            "currency": {"exact": "EUR"},
            "amount": {"gte": "100", "lte": "5000"},
            "createdAt": {"gte": after_time.isoformat(), "lte": before_time.isoformat()},
        }
    return json.dumps({"query": GRAPHQL_QUERY, "variables": variables}).encode()


def http_request(
    stack: Stack, surface: str, case: ListCase, newest: datetime, page_size: int, after: str | None
) -> HttpRequest:
    if surface == "rest":
        return stack.request("GET", rest_path(case, newest, page_size))
    return stack.request("POST", "/graphql/", graphql_body(case, newest, page_size, after))


def seed_lines(rows: int, client_id: int, newest: datetime, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    span = SEED_DAYS * 86400
    newest_ts = newest.timestamp()
    for number, status in enumerate(rng.choices(statuses, weights, k=rows)):
        created = datetime.fromtimestamp(newest_ts - rng.random() * span, tz=UTC).isoformat()
        amount = 10 ** rng.uniform(0, 5)
        code, reason = (FAILURE_CODE, FAILURE_REASON) if status == "FAILED" else ("", "")
        reference = PROVIDER_REFERENCE if status == "COMPLETED" else ""
        attempts = 0 if status == "PENDING" else 1
        details = f'{{"account_number": "DE8937040044{number:010d}"}}'
        yield (
            f"{rng.getrandbits(128):032x}\t{client_id}\t{amount:.2f}\t{rng.choice(CURRENCIES)}\t"
            f"{details}\tSeeded payout\t{{}}\t{status}\t{code}\t{reason}\t{reference}\t"
            f"{attempts}\t4\t{created}\t{created}\n"
        )


def seed_payouts(stack: Stack, rows: int, *, seed: int = 5) -> Seeded:
    """COPY `rows` payouts of the benchmark's client over the last year, with the secondary
    indexes built afterwards."""
    started = time.perf_counter()
    newest = datetime.now(tz=UTC)
    with stack.connect() as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payouts_payout' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(psycopg.sql.SQL("DROP INDEX {}").format(psycopg.sql.Identifier(str(name))))
        columns = ", ".join(SEED_COLUMNS)
        with conn.cursor().copy(f"COPY payouts_payout ({columns}) FROM STDIN") as copy:
            batch: list[str] = []
            for line in seed_lines(rows, stack.client_key.client_id, newest, seed):
                batch.append(line)
                if len(batch) >= 10_000:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(str(definition))
        conn.execute("VACUUM (ANALYZE) payouts_payout")
    stack.settle()
    return Seeded(rows=rows, seconds=time.perf_counter() - started, newest=newest)


@dataclass(frozen=True)
class Probe:
    queries: int
    sql: list[str]


def per_request_sql(statements: list[str]) -> list[str]:
    """The statements every such request runs: without the key check's occasional read and
    write."""
    return [sql for sql in statements if not KEY_CHECK_SQL.match(sql)]


def probe(stack: Stack, request: HttpRequest) -> Probe:
    """Run the request once with the query probe on; fail loudly if the server refused it."""
    probed = replace(request, headers=(*request.headers, (PROBE_REQUEST_HEADER, "1")))
    response = fetch_expecting(stack.config.host, stack.config.port, probed, 200)
    if b'"errors"' in response.body:
        raise RuntimeError(f"{request.path} answered errors: {response.body[:500]!r}")
    statements = per_request_sql(decode_sql(response.headers[QUERY_SQL_HEADER.lower()]))
    return Probe(queries=len(statements), sql=statements)


def _time_http(
    stack: Stack, requests: list[HttpRequest], plan: ListPlan
) -> list[tuple[list[float], int]]:
    """Latencies and errors of each request, timed in turns (REST, GraphQL, REST, ...)."""
    host, port = stack.config.host, stack.config.port
    workers = stack.config.gunicorn_workers
    # Warm every worker (its connection, its plan cache), not only the one a client reaches.
    for request in requests:
        run_load(
            host,
            port,
            request,
            concurrency=workers,
            max_requests=max(plan.warmup_requests, 2 * workers),
            max_seconds=10,
        ).require(200, f"list warm-up, {request.path[:60]}")
    results = run_alternating(
        host,
        port,
        requests,
        rounds=plan.max_requests,
        max_seconds=plan.seconds_per_case * len(requests),
    )
    for request, result in zip(requests, results, strict=True):
        result.require(200, f"list, {request.method} {request.path[:60]}")
    return [(result.latencies, result.errors) for result in results]


def sql_connection(stack: Stack) -> psycopg.Connection[tuple[object, ...]]:
    # As Django sends them: client-side bound, never prepared, autocommit.
    return psycopg.connect(
        stack.config.conninfo(),
        autocommit=True,
        prepare_threshold=None,
        cursor_factory=psycopg.ClientCursor,
    )


def deep_cursor(conn: psycopg.Connection[tuple[object, ...]], offset: int) -> str:
    row = conn.execute(
        "SELECT created_at, id FROM payouts_payout WHERE deleted_at IS NULL "
        "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
        (offset - 1,),
    ).fetchone()
    created_at, payout_id = cast("tuple[datetime, object]", row)
    return keyset_cursor(created_at, str(payout_id))


def _time_sql(
    conn: psycopg.Connection[tuple[object, ...]], statements: list[str], plan: ListPlan
) -> list[float]:
    def once() -> float:
        begin = time.perf_counter()
        for statement in statements:
            conn.execute(statement).fetchall()
        return time.perf_counter() - begin

    for _ in range(plan.warmup_requests):
        once()
    latencies: list[float] = []
    deadline = time.perf_counter() + plan.seconds_per_case
    while len(latencies) < plan.max_requests and time.perf_counter() < deadline:
        latencies.append(once())
    return latencies


def explain(
    conn: psycopg.Connection[tuple[object, ...]], surface: str, case: str, statements: list[str]
) -> list[QueryPlan]:
    plans: list[QueryPlan] = []
    for statement in statements:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}").fetchall()
        text = "\n".join(str(row[0]) for row in rows)
        match = EXECUTION_TIME.search(text)
        plans.append(
            QueryPlan(
                surface=surface,
                case=case,
                sql=statement,
                execution_ms=float(match.group(1)) if match else 0.0,
                plan=text,
            )
        )
    return plans


def measure_listing(
    stack: Stack, plan: ListPlan, newest: datetime
) -> tuple[list[ListRun], list[QueryPlan]]:
    runs: list[ListRun] = []
    plans: list[QueryPlan] = []
    surfaces = ("rest", "graphql")
    with sql_connection(stack) as conn:
        for case in list_cases(plan.deep_offset):
            # REST asks for the page by number; a GraphQL client that paged this deep holds
            # the cursor of the row just before the page.
            after = deep_cursor(conn, case.offset) if case.offset else None
            requests = [
                http_request(stack, surface, case, newest, PAGE_SIZE, after) for surface in surfaces
            ]
            probes = [probe(stack, request) for request in requests]
            large_probes = [
                probe(stack, http_request(stack, surface, case, newest, LARGE_PAGE_SIZE, after))
                for surface in surfaces
            ]
            timed = _time_http(stack, requests, plan)
            for surface, probed, large, (latencies, errors) in zip(
                surfaces, probes, large_probes, timed, strict=True
            ):
                runs.append(
                    ListRun(
                        surface=surface,
                        case=case.name,
                        errors=errors,
                        latency=summarize(latencies),
                        queries=probed.queries,
                        queries_large_page=large.queries,
                        sql=probed.sql,
                    )
                )
                runs.append(
                    ListRun(
                        surface=f"{surface} sql",
                        case=case.name,
                        errors=0,
                        latency=summarize(_time_sql(conn, probed.sql, plan)),
                        queries=probed.queries,
                        sql=probed.sql,
                    )
                )
                plans += explain(conn, surface, case.name, probed.sql)
    return runs, plans
