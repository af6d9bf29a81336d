"""A 20 MB body sent to the real gunicorn, as production serves the API: refused before it is read,
and the worker that refused it goes on serving.

gunicorn runs with gunicorn.conf.py and one sync worker, so the worker that answered the large
request is the one that must answer the next ones; "unharmed" means the same worker process (not
one the master started after a crash or a timeout) whose peak memory grew by far less than the
body. One server serves the module's tests; each test brings its own key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clients.authentication import MSG_NO_CREDENTIALS
from payouts.errors import MSG_TOO_LARGE
from tests.conftest import api_error, payout_payload
from tests.integration.conftest import service_environment
from tests.integration.live_server import Gunicorn

BODY_SIZE = 20 * 1024 * 1024
# A body that reads the whole 20 MB costs at least that much memory; refusing it costs kilobytes.
PEAK_MEMORY_GROWTH_LIMIT = BODY_SIZE // 2

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
        gunicorn.start(service_environment(SECURE_SSL_REDIRECT="false"))
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
