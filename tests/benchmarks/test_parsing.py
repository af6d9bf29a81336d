"""Parsing what the load generator, the query probe, pgbench and create_api_key hand back."""

from __future__ import annotations

import pytest

from benchmarks.create import parse_pgbench_logs
from benchmarks.load import HttpRequest, parse_response
from benchmarks.protocol import decode_sql, encode_sql
from benchmarks.stack import ClientKey, StackError, key_from_output, listening_url

KEY = "Ab3dEf7h.0123456789abcdefghijABCDEFGHIJkl"


def test_request_is_encoded_with_length_and_close():
    raw = HttpRequest("POST", "/api/payouts/", b'{"a": 1}', (("X-Bench-Probe", "1"),)).encode(
        "127.0.0.1", 8000
    )

    head, body = raw.split(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /api/payouts/ HTTP/1.1"
    assert b"Content-Length: 8" in head
    assert b"Connection: close" in head
    assert b"X-Bench-Probe: 1" in head
    assert body == b'{"a": 1}'


def test_response_status_headers_and_body_are_parsed():
    response = parse_response(
        b"HTTP/1.1 201 Created\r\nX-Bench-Queries: 3\r\nContent-Type: application/json\r\n\r\n{}"
    )

    assert response.status == 201
    assert response.headers["x-bench-queries"] == "3"
    assert response.body == b"{}"


def test_garbage_is_not_a_response():
    with pytest.raises(ValueError, match="not an HTTP response"):
        parse_response(b"hello")


def test_probe_sql_round_trips_through_a_header():
    statements = ['SELECT COUNT(*) AS "__count" FROM "payouts_payout"', "SELECT 'é'"]

    assert decode_sql(encode_sql(statements)) == statements


def test_pgbench_log_latencies_are_read_in_seconds(tmp_path):
    log = tmp_path / "log.123"
    log.write_text("0 1 1500 0 1700000000 123\n1 1 250 0 1700000000 456\n")

    assert parse_pgbench_logs([log]) == [0.0015, 0.00025]


def test_the_key_is_the_last_line_create_api_key_prints():
    assert key_from_output(f"Using the benchmark settings\n{KEY}\n") == KEY


@pytest.mark.parametrize("stdout", ["", "Created API key Ab3dEf7h for client 'benchmark'.\n"])
def test_output_without_a_key_on_its_last_line_stops_the_run(stdout):
    with pytest.raises(StackError, match="printed no key"):
        key_from_output(stdout)


def test_the_client_key_is_sent_as_a_bearer_header_and_recorded_by_its_prefix():
    key = ClientKey(client_id=7, key=KEY)

    assert key.headers == (("Authorization", f"Bearer {KEY}"),)
    assert key.prefix == "Ab3dEf7h"


def test_the_fake_providers_url_is_read_from_the_line_it_prints_once_it_listens():
    output = (
        "Using the benchmark settings\n"
        "Fake provider listening on http://127.0.0.1:40213: latency 2s, decline 0, error 0, "
        "timeout 0, drop 0, hang 60s, retry-after 1s, token off, seed None\n"
    )

    assert listening_url(output) == "http://127.0.0.1:40213"


def test_a_fake_provider_still_starting_has_no_url_yet():
    assert listening_url("") is None
