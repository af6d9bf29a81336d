"""The load generator against a tiny local server: alternating requests take turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.load import HttpRequest, LoadResult, run_alternating, run_load


class RecordingHandler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        RecordingHandler.seen.append(self.path)
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    RecordingHandler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_alternating_requests_take_turns_and_are_timed_apart(server):
    host, port = server

    rest, graphql = run_alternating(
        host,
        port,
        [HttpRequest("GET", "/rest"), HttpRequest("GET", "/graphql")],
        rounds=3,
        max_seconds=10,
    )

    assert RecordingHandler.seen == ["/rest", "/graphql"] * 3
    assert (len(rest.latencies), len(graphql.latencies)) == (3, 3)
    assert rest.errors == graphql.errors == 0


def test_a_non_200_answer_counts_as_an_error_not_a_latency(server):
    host, port = server

    ok, missing = run_alternating(
        host,
        port,
        [HttpRequest("GET", "/ok"), HttpRequest("GET", "/missing")],
        rounds=2,
        max_seconds=10,
    )

    assert (len(ok.latencies), ok.errors) == (2, 0)
    assert (missing.latencies, missing.errors, missing.statuses) == ([], 2, {404: 2})


def test_concurrent_load_stops_at_its_request_budget(server):
    host, port = server

    result = run_load(
        host, port, HttpRequest("GET", "/ok"), concurrency=3, max_requests=7, max_seconds=10
    )

    assert RecordingHandler.seen == ["/ok"] * 7
    assert (len(result.latencies), result.errors, result.statuses) == (7, 0, {200: 7})
    assert result.seconds > 0


def test_a_load_answered_only_as_expected_passes_its_check():
    LoadResult(latencies=[0.01, 0.02], errors=1, statuses={201: 2}).require(201, "create")


@pytest.mark.parametrize(
    "result",
    [
        LoadResult(latencies=[0.01], errors=1, statuses={201: 1, 401: 1}),
        LoadResult(errors=3, statuses={401: 3}),
        LoadResult(errors=3),
    ],
    ids=["one refusal", "only refusals", "no answer"],
)
def test_a_load_with_any_other_answer_or_none_fails_loudly(result):
    with pytest.raises(RuntimeError, match="create: expected every answer to be 201"):
        result.require(201, "create")


def test_a_unique_header_gets_a_new_value_on_every_request():
    request = HttpRequest("POST", "/api/payouts/", b"{}", unique_header="Idempotency-Key")

    first, second = (request.encode("127.0.0.1", 80) for _ in range(2))

    assert b"Idempotency-Key: " in first
    assert first != second
