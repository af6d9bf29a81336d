"""The web worker's wrappers around project.asgi (the access line, the bounded request body), and
project.asgi's start-up: everything loaded frozen before the first request."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from django.conf import settings

from project.serving import ACCESS_LOGGER, AccessLog, BoundedBodies
from tests.conftest import run_in_fresh_process

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class Seen:
    """An ASGI app that reads the whole body it is given, as Django's handler does, and answers."""

    def __init__(self, *, request_id: str | None = "req-7", status: int = 201) -> None:
        self.request_id = request_id
        self.status = status
        self.body = b""
        self.headers: dict[bytes, bytes] = {}
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.headers = dict(scope["headers"])
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(b"content-type", b"application/json")]
        if self.request_id is not None:
            headers.append((b"X-Request-ID", self.request_id.encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/payouts/",
        "query_string": b"",
        "headers": headers,
    }


def run(app: Any, scope: dict[str, Any], pieces: list[bytes]) -> tuple[list[dict[str, Any]], int]:
    """Serve one request whose body arrives in `pieces`: what was sent back, and how many pieces
    the app (and its wrappers) read."""
    incoming = [
        {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
        for index, piece in enumerate(pieces)
    ]
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read == len(incoming):
            await asyncio.Future()
        read += 1
        return incoming[read - 1]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent, read


def test_a_body_within_the_limit_reaches_the_app_whole_and_unchanged():
    app = Seen()
    body = b"x" * LIMIT
    scope = http_scope([(b"content-length", str(LIMIT).encode())])

    sent, _ = run(BoundedBodies(app), scope, [body[:1000], body[1000:]])

    assert app.body == body
    assert app.headers == {b"content-length": str(LIMIT).encode()}
    assert (b"connection", b"close") not in sent[0]["headers"]


def test_a_body_over_the_limit_by_its_length_is_not_read_and_the_connection_closes():
    app = Seen(status=413)
    length = str(20 * LIMIT).encode()

    sent, read = run(BoundedBodies(app), http_scope([(b"content-length", length)]), [b"x"] * 20)

    assert read == 0
    assert app.body == b""
    assert app.headers[b"content-length"] == length
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_chunked_body_is_handed_on_with_its_length():
    app = Seen()

    sent, _ = run(BoundedBodies(app), http_scope([]), [b'{"amount":', b' "1.00"}'])

    assert app.body == b'{"amount": "1.00"}'
    assert app.headers[b"content-length"] == b"18"
    assert (b"connection", b"close") not in sent[0]["headers"]


def test_a_chunked_body_over_the_limit_is_read_one_byte_past_it_and_no_further():
    app = Seen(status=413)
    pieces = [b"x" * 64 * 1024] * 20

    sent, read = run(BoundedBodies(app), http_scope([]), pieces)

    assert read == LIMIT // (64 * 1024) + 1
    assert app.body == b"x" * (LIMIT + 1)
    assert app.headers[b"content-length"] == str(LIMIT + 1).encode()
    assert (b"connection", b"close") in sent[0]["headers"]


def test_the_access_line_names_the_request_its_answer_time_and_request_id(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    run(AccessLog(Seen()), http_scope([(b"content-length", b"2")]), [b"{}"])

    [line] = [record for record in caplog.records if record.name == ACCESS_LOGGER]
    assert line.getMessage() == "POST /api/payouts/ 201"
    assert (line.method, line.path, line.status, line.request_id) == (
        "POST",
        "/api/payouts/",
        201,
        "req-7",
    )
    assert isinstance(line.duration_ms, int)


def test_an_app_that_fails_before_answering_is_logged_as_a_500(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run(AccessLog(failing), http_scope([]), [b""])

    [line] = [record for record in caplog.records if record.name == ACCESS_LOGGER]
    assert (line.status, hasattr(line, "request_id")) == (500, False)


def test_websocket_connections_pass_through_both_wrappers_untouched():
    scopes: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)

    async def receive() -> dict[str, Any]:
        raise AssertionError("a wrapper read from the connection")

    async def send(message: Any) -> None:
        raise AssertionError("a wrapper wrote to the connection")

    scope = {"type": "websocket", "path": "/graphql/", "headers": []}
    handed_on = AccessLog(BoundedBodies(app))(scope, receive, send)

    async def connection() -> None:
        await handed_on

    asyncio.run(connection())

    assert scopes == [scope]
    # The app's own coroutine: no frame of either wrapper lives as long as the connection.
    assert getattr(handed_on, "cr_code", None) is app.__code__


# Prints whether the collector still tracks (would scan) the GraphQL schema and a REST view.
SCANNED_AFTER_LOAD = """
import gc
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import project.asgi
from graphql_api.schema import schema
from rest_api.views import PayoutViewSet
scanned = {id(o) for o in gc.get_objects()}
print(id(schema) in scanned, id(PayoutViewSet) in scanned, gc.get_freeze_count() > 0)
"""


def test_asgi_freezes_views_and_schema_out_of_the_collectors_view():
    loaded = run_in_fresh_process(SCANNED_AFTER_LOAD)

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["False", "False", "True"]


def test_asgi_collects_the_young_generation_only_after_many_allocations():
    """A web worker with many WebSockets collects far apart (project.asgi), not every 700
    allocations: its full collections pause every connection for hundreds of milliseconds."""
    loaded = run_in_fresh_process(
        "import os, gc\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'project.settings')\n"
        "import project.asgi\n"
        "print(gc.get_threshold()[0])"
    )

    assert loaded.returncode == 0, loaded.stderr
    assert int(loaded.stdout) == 100_000
