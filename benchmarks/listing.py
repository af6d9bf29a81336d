"""Listing at scale: COPY a year of one client's payouts, then time REST, GraphQL and their SQL.

Each case's REST and GraphQL requests take turns from one locust user; the SQL a request runs is
captured by sending it once through Django's test client in the harness, and then timed straight
through psycopg as the baseline.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import psycopg

from benchmarks.load import Request, run_users, warm
from benchmarks.report import LATENCY_COLUMNS, Figure, Latency, Results, Table, unbounded_counts

if TYPE_CHECKING:
    from benchmarks.stack import Stack

PAGE_SIZE, LARGE_PAGE_SIZE = 20, 100
MAX_P99_MS = 50.0
GRAPHQL_MAX_RATIO = 1.5
# The Procfile's web (ASGI) at least 0.9x as fast as the same service under WSGI: its p50 at
# most 1 / 0.9 of WSGI's.
ASGI_MIN_SPEED = 0.9
SEED_DAYS = 365
# Most payouts of a service that has run for a year are finished.
STATUS_WEIGHTS = {"COMPLETED": 80, "FAILED": 10, "PENDING": 5, "PROCESSING": 5}
CURRENCIES = ("USD", "EUR", "GBP", "RUB")
# Every NOT NULL column of payouts_payout: the database has no defaults, Django fills them.
SEED_COLUMNS = (
    "id", "client_id", "amount", "currency", "recipient_details", "description", "metadata",
    "status", "failure_code", "failure_reason", "provider_reference", "attempts",
    "max_attempts", "created_at", "updated_at",
)  # fmt: skip
GRAPHQL_QUERY = """
query Payouts($first: Int!, $after: String, $filters: PayoutFilter) {
  payouts(first: $first, after: $after, filters: $filters) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id payoutId amount currency recipientDetails status description reference
                   metadata failureReason createdAt updatedAt } }
  }
}
"""
# The key check reads its key once per process and cache period and writes last_used_at at most
# once a minute: a probe that happens to be such a request would count statements others skip.
KEY_CHECK_SQL = re.compile(r'^(SELECT|UPDATE) "clients_apikey"')
CASES = (("first page", False), ("filtered page", True), ("deep page", False))


def pending_row(
    payout_id: str, client_id: int, now: datetime, max_attempts: int = 4
) -> tuple[object, ...]:
    """One PENDING payout as COPY takes it, in the order of SEED_COLUMNS."""
    return (
        payout_id, client_id, "250.00", "EUR", '{"account_number": "DE89370400440532013000"}',
        "Processing benchmark", "{}", "PENDING", "", "", "", 0, max_attempts, now, now,
    )  # fmt: skip


def seed_lines(rows: int, client_id: int, newest: datetime, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    span, newest_ts = SEED_DAYS * 86400, newest.timestamp()
    statuses = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()), k=rows)
    for number_, status in enumerate(statuses):
        created = datetime.fromtimestamp(newest_ts - rng.random() * span, tz=UTC).isoformat()
        failed = status == "FAILED"
        code = "insufficient_funds\tThe account has insufficient funds." if failed else "\t"
        reference = "fp_0123456789abcdef" if status == "COMPLETED" else ""
        yield (
            f"{rng.getrandbits(128):032x}\t{client_id}\t{10 ** rng.uniform(0, 5):.2f}\t"
            f'{rng.choice(CURRENCIES)}\t{{"account_number": "DE8937040044{number_:010d}"}}\t'
            f"Seeded payout\t{{}}\t{status}\t{code}\t{reference}\t"
            f"{0 if status == 'PENDING' else 1}\t4\t{created}\t{created}\n"
        )


def seed_payouts(stack: Stack, rows: int, seed: int = 5) -> datetime:
    """COPY `rows` payouts of the benchmark's client over the last year, building the secondary
    indexes afterwards; returns the newest time."""
    newest = datetime.now(tz=UTC)
    with stack.connect() as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payouts_payout' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(psycopg.sql.SQL("DROP INDEX {}").format(psycopg.sql.Identifier(str(name))))
        with conn.cursor().copy(
            f"COPY payouts_payout ({', '.join(SEED_COLUMNS)}) FROM STDIN"
        ) as copy:
            for line in seed_lines(rows, stack.client_id, newest, seed):
                copy.write(line)
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(str(definition))
        conn.execute("VACUUM (ANALYZE) payouts_payout")
        conn.execute("CHECKPOINT")
    return newest


def keyset_cursor(created_at: datetime, payout_id: str) -> str:
    """The GraphQL cursor of a payout in the default order, as the server writes it."""
    values = json.dumps([created_at.astimezone(UTC).isoformat(), payout_id], separators=(",", ":"))
    return base64.b64encode(f"orderedcursor:{values}".encode()).decode()


def case_requests(
    filtered: bool, offset: int, newest: datetime, after: str | None, page_size: int
) -> tuple[str, bytes]:
    """The REST path and the GraphQL body of one case: the same page and filter on both."""
    params: dict[str, str] = {"page_size": str(page_size)}
    variables: dict[str, Any] = {"first": page_size, **({"after": after} if after else {})}
    if offset:
        params["page"] = str(offset // page_size + 1)
    if filtered:
        since, until = (newest - timedelta(days=90)).isoformat(), (newest - timedelta(days=30))
        params |= {"status": "COMPLETED", "currency": "EUR", "min_amount": "100"}
        params |= {"max_amount": "5000", "created_after": since}
        params["created_before"] = until.isoformat()
        variables["filters"] = {
            "status": {"exact": "COMPLETED"},
            "currency": {"exact": "EUR"},
            "amount": {"gte": "100", "lte": "5000"},
            "createdAt": {"gte": since, "lte": until.isoformat()},
        }
    body = json.dumps({"query": GRAPHQL_QUERY, "variables": variables}).encode()
    return "/api/payouts/?" + urlencode(params), body


def per_request_sql(statements: list[str]) -> list[str]:
    """The statements every such request runs: not the key check's occasional read and write."""
    return [sql for sql in statements if not KEY_CHECK_SQL.match(sql)]


def probe(authorization: str, method: str, path: str, body: bytes) -> list[str]:
    """The SQL the request runs, sent once through Django's test client in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Authorization": authorization})
    with CaptureQueriesContext(connection) as queries:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, body, content_type="application/json")
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:500]!r}")
    return per_request_sql([str(query["sql"]) for query in queries.captured_queries])


def _time_sql(conn: psycopg.Connection[Any], statements: list[str], seconds: float) -> Latency:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        begin = time.perf_counter()
        for statement in statements:
            conn.execute(statement).fetchall()
        latencies.append(time.perf_counter() - begin)
    return Latency.of(latencies[5:])


def measure_listing(
    stack: Stack, count: int, deep_offset: int, seconds: float, results: Results
) -> None:
    begin = time.monotonic()
    newest = seed_payouts(stack, count)
    results.meta["seeded"] = f"{count:,} payouts in {time.monotonic() - begin:.0f} s"
    figures: list[Figure] = []
    rows: list[list[str]] = []
    results.details["sql"] = captured = {}
    auth = {"Authorization": stack.authorization, "Content-Type": "application/json"}
    # As Django sends them: client-side bound, never prepared, autocommit.
    conn = psycopg.connect(
        stack.config.conninfo(), autocommit=True, prepare_threshold=None,
        cursor_factory=psycopg.ClientCursor,
    )  # fmt: skip
    with conn:
        for case, filtered in CASES:
            offset = deep_offset if case == "deep page" else 0
            after = None
            if offset:
                # REST asks for the page by number; a GraphQL client that paged this deep holds
                # the cursor of the row just before the page.
                row = conn.execute(
                    "SELECT created_at, id FROM payouts_payout WHERE deleted_at IS NULL "
                    "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                    (offset - 1,),
                ).fetchone()
                after = keyset_cursor(row[0], str(row[1])) if row else None
            path, body = case_requests(filtered, offset, newest, after, PAGE_SIZE)
            large_path, large_body = case_requests(filtered, offset, newest, after, LARGE_PAGE_SIZE)
            requests = [
                Request("REST", "GET", path, auth),
                Request("GraphQL", "POST", "/graphql/", auth, body),
            ]
            # The same two sent to the WSGI web (an absolute URL), in turn with them.
            wsgi_requests = [
                Request(f"{r.name} (WSGI)", r.method, stack.config.wsgi_base_url + r.path,
                        r.headers, r.body)
                for r in requests
            ]  # fmt: skip
            larges = [("GET", large_path, b""), ("POST", "/graphql/", large_body)]
            warm(stack.config.base_url, requests + wsgi_requests, stack.config.web_concurrency)
            loads = run_users(stack.config.base_url, requests + wsgi_requests, 1, seconds)
            http = [loads[r.name].require(f"{case}, {r.name}").latency() for r in requests]
            wsgi_http = [
                loads[r.name].require(f"{case}, {r.name}").latency() for r in wsgi_requests
            ]
            for request, latency, wsgi in zip(requests, http, wsgi_http, strict=True):
                figures.append(
                    Figure("ASGI", f"{request.name} {case} p50, the Procfile's web (ASGI)",
                           latency.p50_ms, "ms", wsgi.p50_ms, "the same under WSGI",
                           f"<= {1 / ASGI_MIN_SPEED:.2f}x baseline ({ASGI_MIN_SPEED}x the speed)",
                           latency.p50_ms <= wsgi.p50_ms / ASGI_MIN_SPEED)
                )  # fmt: skip
                rows.append([f"{request.name} (WSGI)", case, str(wsgi.count), *wsgi.cells()])
            for request, latency, large in zip(requests, http, larges, strict=True):
                name = f"{request.name} {case}"
                sql = probe(stack.authorization, request.method, request.path, request.body)
                large_sql = probe(stack.authorization, *large)
                direct = _time_sql(conn, sql, seconds / 4)
                constant = len(sql) == len(large_sql) and not unbounded_counts(sql)
                captured[name] = sql
                figures += [
                    Figure("List", f"{name} p99", latency.p99_ms, "ms", direct.p99_ms,
                           "same SQL via psycopg").at_most(MAX_P99_MS, f"<= {MAX_P99_MS:.0f} ms"),
                    Figure("List", f"{name}: SQL queries per request", len(sql), "queries",
                           len(large_sql), f"same request, {LARGE_PAGE_SIZE} rows a page",
                           "constant, no unbounded COUNT", constant),
                ]  # fmt: skip
                rows += [
                    [request.name, case, str(latency.count), *latency.cells()],
                    [f"{request.name}'s SQL", case, str(direct.count), *direct.cells()],
                ]
            ratio = http[1].p50_ms / http[0].p50_ms if http[0].p50_ms else float("inf")
            figures.append(
                Figure("List", f"GraphQL {case} p50", http[1].p50_ms, "ms", http[0].p50_ms,
                       "REST, same page", f"<= {GRAPHQL_MAX_RATIO}x baseline",
                       ratio <= GRAPHQL_MAX_RATIO)
            )  # fmt: skip
    results.figures += figures
    results.tables.append(
        Table(
            "List",
            "One locust user sends a case's REST and GraphQL requests in turn, to the Procfile's "
            "web (ASGI) and to the same service under WSGI (`(WSGI)`); `'s SQL` is the SQL "
            "that request ran (captured through Django's test client; in latest.json's `details`) "
            "timed straight through psycopg.",
            ["Surface", "Case", "Requests", *LATENCY_COLUMNS],
            rows,
        )
    )
