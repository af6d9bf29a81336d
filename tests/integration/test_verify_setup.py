"""scripts/verify_setup.sh fails loudly when the stack it checks is not there or not right.

Its passing run, against the Procfile's processes on PostgreSQL and Redis, is `make
verify-stack` in .ci/run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.conftest import ROOT

SCRIPT = ROOT / "scripts" / "verify_setup.sh"


def verify(base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), base_url],
        env={**os.environ, "API_KEY": "not-a-key", "VERIFY_TIMEOUT_SECONDS": "5", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_verify_setup_fails_when_nothing_answers_at_the_base_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = verify(f"http://127.0.0.1:{port}")

    assert result.returncode == 1
    assert f"FAIL  nothing answers at http://127.0.0.1:{port}" in result.stdout


class NotThePayoutService(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotThePayoutService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_verify_setup_fails_and_names_each_check_when_another_server_answers(other_server):
    result = verify(other_server)

    assert result.returncode == 1
    assert "FAIL  REST: POST /api/payouts/ answered 404, not 201" in result.stdout
    assert "FAIL  GET /readyz answered 404, not 200" in result.stdout
    assert result.stdout.rstrip().endswith("verify_setup: 7 check(s) failed")


def test_verify_setup_asks_for_a_key_first():
    result = verify("http://127.0.0.1:1", API_KEY="")

    assert result.returncode == 2
    assert "Set API_KEY" in result.stderr
