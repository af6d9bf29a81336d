"""How the web process serves project.asgi: gunicorn's Uvicorn worker with the service's access
line and request body limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from uvicorn_worker import UvicornWorker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_LOGGER = "project.access"
access_log = logging.getLogger(ACCESS_LOGGER)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


def _http_only(
    wrapped: ASGIApp, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> Awaitable[None]:
    """`wrapped` for HTTP; anything else (a WebSocket) straight to `app`, handed on rather than
    awaited: a wrapper awaiting it would keep a frame for the connection's whole life."""
    if scope["type"] != "http":
        return app(scope, receive, send)
    return wrapped(scope, receive, send)


class AccessLog:
    """One line per HTTP request once its response is sent: method, path, status, time taken and
    the request id the response carries (X-Request-ID, set by the middleware), as gunicorn's
    access line had. Uvicorn's own line has neither the time nor the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return _http_only(self._logged, self.app, scope, receive, send)

    async def _logged(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        answered: dict[str, Any] = {"status": 500, "request_id": None}

        async def send_noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                for name, value in message.get("headers", ()):
                    if bytes(name).lower() == b"x-request-id":
                        answered["request_id"] = bytes(value).decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_noted)
        finally:
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "status": answered["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000),
            }
            if answered["request_id"] is not None:
                fields["request_id"] = answered["request_id"]
            access_log.info(
                "%s %s %s", scope["method"], scope["path"], answered["status"], extra=fields
            )


class BoundedBodies:
    """Hand Django at most one byte past DATA_UPLOAD_MAX_MEMORY_SIZE of a request body.

    Django's ASGI handler reads the whole body before any middleware runs, where under WSGI it
    read it only when a view asked: a 20 MB body was refused (401 without a key, else 413)
    unread, and a chunked one after the limit. Here a body whose Content-Length is over the
    limit is not read at all and Django sees none (it refuses the request from its length, as
    before); a body without one (chunked, or none) is read up to the limit plus one byte and
    handed on with its length, which Django refuses when over. A response to a request whose
    body was left unread closes the connection, as gunicorn's sync workers did.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return _http_only(self._bounded, self.app, scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) <= limit:
            await self.app(scope, receive, send)
            return
        body = b""
        more = length is None
        while more and len(body) <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if length is None:
            # Given its length: DRF, like Django under WSGI, takes a body without one for empty.
            body = body[: limit + 1]
            headers = [*scope["headers"], (b"content-length", str(len(body)).encode())]
            scope = {**scope, "headers": headers}
            if not more:
                await self.app(scope, _replay(body, receive), send)
                return
        await self.app(scope, _cut_short(body), _closing(send))


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body, read already, as one message; then the connection's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _cut_short(body: bytes) -> Receive:
    """`body` as the whole request; after it nothing more (the rest is never read)."""
    sent = False

    async def cut() -> Message:
        nonlocal sent
        if sent:
            # Django then waits for a disconnect until its response is sent; reading the rest of
            # the body to see one is what this avoids.
            await asyncio.Future()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return cut


def _closing(send: Send) -> Send:
    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    return send_closing


class WebWorker(UvicornWorker):  # type: ignore[misc]  # gunicorn's Worker is unannotated
    """gunicorn's worker for the Procfile's `web`: Uvicorn (uvloop, httptools) serving ASGI."""

    wsgi: ASGIApp  # gunicorn's name for the application it loaded, WSGI or not

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        # Said, not guessed: Uvicorn takes an application whose __call__ is not a coroutine
        # function (AccessLog's) for the older ASGI 2.
        "interface": "asgi3",
        # AccessLog writes the access line instead.
        "access_log": False,
        # Neither Django's handler nor Channels' router speaks the lifespan protocol: asking
        # for it only logs that it is unsupported.
        "lifespan": "off",
        # A GraphQL message is a few hundred bytes: compressing each for every subscriber costs
        # CPU per event and zlib's buffers per connection (hundreds of KB at a browser's
        # default window), for little.
        "ws_per_message_deflate": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # UvicornWorker hands Uvicorn's loggers gunicorn's handlers, which logconfig_dict
        # emptied (gunicorn's lines go up to the service's root handler): Uvicorn's would print
        # nothing. Its access logger stays without any: AccessLog writes the access line.
        error_log = logging.getLogger("uvicorn.error")
        error_log.handlers = []
        error_log.propagate = True
        # On TERM, requests in flight get gunicorn's graceful_timeout to finish, and Uvicorn
        # ends before the master gives up waiting and kills the worker.
        self.config.timeout_graceful_shutdown = max(self.cfg.graceful_timeout - 1, 1)
        # A GraphQL message is a query and its variables: the same bound as an HTTP body.
        self.config.ws_max_size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = AccessLog(BoundedBodies(self.wsgi))
