"""A 20 MB body sent to the real gunicorn, as production serves the API: refused before it is read,
and the worker that refused it goes on serving.

gunicorn runs with gunicorn.conf.py and one sync worker, so the worker that answered the large
request is the one that must answer the next ones; "unharmed" means the same worker process (not
one the master started after a crash or a timeout) whose peak memory grew by far less than the
body. One server serves the module's tests; each test brings its own key.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clients.authentication import MSG_NO_CREDENTIALS
from payouts.errors import MSG_TOO_LARGE
from tests.conftest import api_error, payout_payload
from tests.integration.conftest import ROOT, service_environment, wait_until

BODY_SIZE = 20 * 1024 * 1024
# A body that reads the whole 20 MB costs at least that much memory; refusing it costs kilobytes.
PEAK_MEMORY_GROWTH_LIMIT = BODY_SIZE // 2
SEND_SLICE = 64 * 1024
# How long the server may go without reading or answering before the test calls it a hang.
STALL_SECONDS = 30

# Each API's endpoint and a well-formed request padded to BODY_SIZE, as a client would fill it.
ENDPOINTS = {
    "rest": ("/api/payouts/", b'{"amount": "1.00", "currency": "EUR", "description": "', b'"}'),
    "graphql": (
        "/graphql/",
        b'{"query": "{ payouts { totalCount } }", "variables": {"x": "',
        b'"}}',
    ),
}


def padded_body(api: str) -> bytes:
    _, opening, closing = ENDPOINTS[api]
    return opening + b"x" * (BODY_SIZE - len(opening) - len(closing)) + closing


def refusal_body(api: str, code: str, message: str) -> dict[str, Any]:
    if api == "rest":
        return api_error(code, message)
    return {"errors": [{"message": message, "extensions": {"code": code.upper()}}]}


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0]) * 1024  # kB
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class Gunicorn:
    """`gunicorn project.wsgi:application` with gunicorn.conf.py, on a free port."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                *("--config", "gunicorn.conf.py"),
                *("--bind", "127.0.0.1:0"),
                *("--workers", "1"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        listening = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
        if not wait_until(lambda: listening.search(self.output()) is not None, timeout=30):
            raise AssertionError(f"gunicorn did not start:\n{self.output()}")
        match = listening.search(self.output())
        assert match is not None
        self.port = int(match[1])
        if not wait_until(lambda: self.workers() != [] and self._healthy(), timeout=30):
            raise AssertionError(f"gunicorn did not answer /healthz:\n{self.output()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def workers(self) -> list[int]:
        """The master's worker processes: a worker that died or timed out comes back as another."""
        assert self.process is not None
        pid = self.process.pid
        return sorted(
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        )

    def peak_memory(self) -> int:
        """The highest resident memory its workers have reached, in bytes."""
        return sum(_proc_status(worker, "VmHWM") for worker in self.workers())

    def _healthy(self) -> bool:
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=STALL_SECONDS)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(
                method, path, data, {"Content-Type": "application/json", **(headers or {})}
            )
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def post_streaming(
        self, path: str, body: bytes, *, headers: dict[str, str], chunked: bool
    ) -> Answer:
        """POST `body` as a careful client does: in slices, stopping as soon as an answer comes.

        With `chunked`, in chunked transfer encoding and without Content-Length.
        """
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Content-Type: application/json",
            framing,
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        with socket.create_connection(("127.0.0.1", self.port), timeout=STALL_SECONDS) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            sent = 0
            while sent < len(body):
                readable, writable, _ = select.select([sock], [sock], [], STALL_SECONDS)
                if readable:
                    break  # answered, or closed, before the whole body went out
                if not writable:
                    raise AssertionError(f"{path}: neither read nor answered for {STALL_SECONDS} s")
                piece = body[sent : sent + SEND_SLICE]
                frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
                try:
                    sock.sendall(frame)
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered and closed; its answer waits to be read
                sent += len(piece)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
            response = http.client.HTTPResponse(sock)
            response.begin()
            return Answer(response.status, response.headers, response.read())


@dataclass
class Served:
    """A running gunicorn with a client's key, and what its worker looked like before the test."""

    server: Gunicorn
    headers: dict[str, str]
    workers: list[int]
    peak_memory: int
    log_start: int

    def assert_unharmed(self) -> None:
        assert self.server.request("GET", "/healthz").status == 200
        created = self.server.request("POST", "/api/payouts/", payout_payload(), self.headers)
        assert created.status == 201, created.body
        assert created.json()["status"] == "PENDING"
        log = self.server.output()[self.log_start :]
        assert self.server.workers() == self.workers, log
        growth = self.server.peak_memory() - self.peak_memory
        assert growth < PEAK_MEMORY_GROWTH_LIMIT, f"peak memory grew by {growth} bytes"
        assert "Traceback" not in log, log


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def served(gunicorn, owner, transactional_db, queue) -> Served:
    # Started by the first test, once the real services are known to be there; transactional_db
    # commits the owner's key, so the server's own connection sees it.
    if not gunicorn.running:
        # Production settings served over plain HTTP on loopback.
        gunicorn.start(service_environment(SECURE_SSL_REDIRECT="false", LOG_LEVEL="WARNING"))
    # A create first, so that what any request touches first (connections, the queue) is in the
    # peak memory measured from here on, and the growth is the large request's.
    warm_up = gunicorn.request("POST", "/api/payouts/", payout_payload(), owner.headers)
    assert warm_up.status == 201, warm_up.body
    return Served(
        gunicorn,
        owner.headers,
        gunicorn.workers(),
        gunicorn.peak_memory(),
        log_start=len(gunicorn.output()),
    )


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_a_20_mb_body_with_a_key_is_refused_413_before_it_is_read(served, api):
    path = ENDPOINTS[api][0]

    answer = served.server.post_streaming(
        path, padded_body(api), headers=served.headers, chunked=False
    )

    assert answer.status == 413
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == refusal_body(api, "payload_too_large", MSG_TOO_LARGE)
    served.assert_unharmed()


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_a_chunked_20_mb_body_is_refused_413_after_reading_only_the_limit(served, api):
    path = ENDPOINTS[api][0]

    answer = served.server.post_streaming(
        path, padded_body(api), headers=served.headers, chunked=True
    )

    assert answer.status == 413
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == refusal_body(api, "payload_too_large", MSG_TOO_LARGE)
    served.assert_unharmed()


def test_a_small_chunked_create_is_read_and_created(served):
    body = json.dumps(payout_payload()).encode()

    answer = served.server.post_streaming(
        "/api/payouts/", body, headers=served.headers, chunked=True
    )

    assert answer.status == 201, answer.body
    assert answer.json()["amount"] == payout_payload()["amount"]


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_20_mb_body_without_a_key_is_refused_401_unread(served, api, chunked):
    path = ENDPOINTS[api][0]

    answer = served.server.post_streaming(path, padded_body(api), headers={}, chunked=chunked)

    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == refusal_body(api, "not_authenticated", MSG_NO_CREDENTIALS)
    served.assert_unharmed()
