"""The Procfile's `web` on the wire: what the WSGI server accepted it still accepts, a TERM lets
requests in flight finish, and threads serving requests take their connections from the pool."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.conftest import payout_payload
from tests.integration.conftest import service_environment, wait_until
from tests.integration.live_server import STALL_SECONDS, Gunicorn

# The longest request line gunicorn took (its limit_request_line in gunicorn.conf.py).
GUNICORN_REQUEST_LINE = 8190
POOL_SIZE = 5
WORKERS = 2
CONCURRENT_REQUESTS = 300
THREADS = 32
APP_NAME = "payouts-web-server-test"


@pytest.fixture
def gunicorn(tmp_path, owner, transactional_db, queue) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path / "gunicorn.log")
    yield server
    server.stop()


def test_a_list_url_as_long_as_gunicorn_took_is_answered_by_the_service(gunicorn, owner):
    gunicorn.start(service_environment(SECURE_SSL_REDIRECT="false"))
    path = "/api/payouts/?status=PENDING&pad="
    padding = "x" * (GUNICORN_REQUEST_LINE - len(f"GET {path} HTTP/1.1"))

    answer = gunicorn.request("GET", path + padding, headers=owner.headers)

    assert answer.status == 200, answer.body
    assert answer.json()["results"] == []


def test_a_create_in_flight_when_the_web_is_told_to_stop_is_answered_then_it_stops(gunicorn, owner):
    gunicorn.start(service_environment(SECURE_SSL_REDIRECT="false"))
    body = json.dumps(payout_payload()).encode()
    head = (
        "POST /api/payouts/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{gunicorn.port}\r\n"
        f"Authorization: {owner.authorization}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=STALL_SECONDS) as sock:
        sock.sendall(head + body[:10])
        assert gunicorn.process is not None
        gunicorn.process.send_signal(signal.SIGTERM)
        assert wait_until(lambda: "Shutting down" in gunicorn.output(), timeout=10)
        sock.sendall(body[10:])
        answer = sock.makefile("rb").read().decode()

    status_line, _, rest = answer.partition("\r\n")
    assert status_line == "HTTP/1.1 201 Created", answer
    assert json.loads(rest.partition("\r\n\r\n")[2])["status"] == "PENDING"
    assert gunicorn.process.wait(timeout=15) == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", gunicorn.port), timeout=1)


def test_requests_served_in_threads_take_connections_from_the_pool_and_leave_none_behind(
    gunicorn, owner
):
    gunicorn.start(
        service_environment(
            SECURE_SSL_REDIRECT="false", DATABASE_POOL_SIZE=POOL_SIZE, PGAPPNAME=APP_NAME
        ),
        workers=WORKERS,
    )

    def create_or_list(index: int) -> int:
        if index % 2:
            return gunicorn.request("POST", "/api/payouts/", payout_payload(), owner.headers).status
        return gunicorn.request("GET", "/api/payouts/", headers=owner.headers).status

    with ThreadPoolExecutor(THREADS) as threads:
        statuses = list(threads.map(create_or_list, range(CONCURRENT_REQUESTS)))

    assert sorted(set(statuses)) == [200, 201]
    assert 0 < server_connections() <= POOL_SIZE * WORKERS
    with ThreadPoolExecutor(THREADS) as threads:
        assert set(threads.map(create_or_list, range(CONCURRENT_REQUESTS))) == {200, 201}
    assert server_connections() <= POOL_SIZE * WORKERS


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        [count] = cursor.fetchone()
    return int(count)
