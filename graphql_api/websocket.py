"""GraphQL over WebSocket at /graphql/: subscriptions, for the graphql-transport-ws protocol and
the older graphql-ws, authenticated as HTTP requests are."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib import import_module
from typing import Any, cast

from channels.auth import get_user
from django.conf import settings
from django.db import DatabaseError
from django.http.cookie import parse_cookie
from strawberry.channels import GraphQLWSConsumer
from strawberry.channels.handlers.ws_handler import ChannelsWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.websocket_origin import is_same_origin
from strawberry.types.unset import UNSET, UnsetType

from clients.authentication import AuthenticationRefused, caller_for_authorization
from events.hub import Listener, hub
from events.relay import ensure_relay
from graphql_api.context import LiveContext
from graphql_api.schema import schema
from payouts.callers import Caller, staff_caller
from payouts.errors import MSG_UNAVAILABLE, ErrorCode
from project import collector
from project.loops import PerLoop
from project.orm import in_thread
from project.queues import LightQueue

logger = logging.getLogger(__name__)

# graphql-transport-ws's code for a connection that is not authenticated.
CLOSE_UNAUTHORIZED = 4401
# RFC 6455's "policy violation": the subscriber left more events unread than its buffer holds.
CLOSE_TOO_SLOW = 1008
# A close frame's reason is at most 123 bytes of UTF-8.
CLOSE_REASON_BYTES = 123

# RFC 6455's codes for a server failure and for "try again later".
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
# Client messages waiting to be read by the protocol handler; a client past it is flooding.
MESSAGES_WAITING_MAX = 100

# A layer alias CHANNEL_LAYERS does not name: Channels gives the consumer no channel.
NO_CHANNEL_LAYER = "none"

MSG_PROTOCOL_FAILED = "The connection failed; open a new one."
MSG_TOO_MANY_MESSAGES = "Too many messages at once."
MSG_TOO_SLOW = "Too slow: {count} events were waiting. Reconnect with after: your last event id."


class _Adapter(ChannelsWebSocketAdapter):
    """Strawberry's link from its protocol handlers to the consumer, with two changes:

    - Strawberry closes a refused connection with a code of its own (4403, or 1011 for
      graphql-ws); the consumer's reason, set before it refused, is the one sent.
    - A live event's data, one object for every subscriber that asked alike
      (graphql_api.execution), is encoded to JSON once, not once a subscriber.
    """

    async def send_json(self, message: Mapping[str, object]) -> None:
        payload = message.get("payload")
        if (
            message.get("type") == "next"
            and isinstance(payload, dict)
            and payload.keys() == {"data"}
        ):
            data = _encoded(self.view, payload["data"])
            operation = self.view.encode_json(message["id"])
            await self.ws_consumer.send(
                f'{{"id":{operation!s},"type":"next","payload":{{"data":{data}}}}}'
            )
            return
        await super().send_json(message)

    async def close(self, code: int, reason: str) -> None:
        consumer = self.ws_consumer
        assert isinstance(consumer, PayoutWebSocketConsumer)
        if consumer.refusal is not None:
            code, reason = consumer.refusal
        await consumer.close_once(code, reason)


# The data of the last results sent, encoded, by the identity of the object: the object is kept
# with its text, so that an id is not reused meanwhile.
_encoded_data: dict[int, tuple[object, str]] = {}
ENCODED_KEPT = 16


def _encoded(view: Any, data: object) -> str:
    known = _encoded_data.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    text = view.encode_json(data)
    assert isinstance(text, str)
    if len(_encoded_data) >= ENCODED_KEPT:
        del _encoded_data[next(iter(_encoded_data))]
    _encoded_data[id(data)] = (data, text)
    return text


def _authorization_in(params: object) -> str | None:
    """The Authorization entry of a connection_init payload (any case), if any."""
    if not isinstance(params, Mapping):
        return None
    for name, value in params.items():
        if isinstance(name, str) and name.lower() == "authorization":
            return value if isinstance(value, str) else repr(value)
    return None


async def _session_user(headers: Mapping[str, str]) -> Any:
    """The user of the Django session the upgrade request's cookie names (the admin's login),
    read as Channels' AuthMiddlewareStack reads it, but only when a connection has no key: the
    middleware read it for every connection and kept the session, the cookies and the user in
    it for its whole life (make bench: memory per subscribed connection)."""
    session_key = parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
    if session_key is None:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    # Channels' scope with only what get_user reads.
    return await get_user(cast(Any, {"session": engine.SessionStore(session_key)}))


def _same_origin(headers: Mapping[str, str]) -> bool:
    """Whether a browser opened the connection from the service's own pages (or no browser)."""
    origin = headers.get("origin")
    return origin is None or is_same_origin(origin, headers.get("host", ""))


class PayoutWebSocketConsumer(GraphQLWSConsumer[LiveContext, None]):
    websocket_adapter_class = _Adapter
    # No layer channel of its own: the process's hub hears the layer for every connection.
    channel_layer_alias = NO_CHANNEL_LAYER

    def __init__(self) -> None:
        super().__init__(
            schema=schema,
            connection_init_wait_timeout=timedelta(seconds=settings.LIVE_CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=settings.LIVE_SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=settings.LIVE_ALLOWED_ORIGINS,
        )
        # What the client sent, waiting for the protocol handler: a light queue (project.queues)
        # for Strawberry's asyncio.Queue, of which it uses put_nowait, get and qsize.
        self.message_queue = LightQueue()  # type: ignore[assignment]
        self.refusal: tuple[int, str] | None = None
        self.closed = False
        # The client has left.
        self.gone = False
        self.closing: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await super().connect()
        assert self.run_task is not None
        self.run_task.add_done_callback(self._protocol_ended)

    def _protocol_ended(self, task: asyncio.Task[None]) -> None:
        """Close a connection whose protocol handler failed (a message Strawberry could not
        read): open, it would only pile up what the client sends."""
        if not task.cancelled() and task.exception() is not None:
            logger.warning("WebSocket protocol handler failed: %r", task.exception())
            self.close_soon(CLOSE_INTERNAL_ERROR, MSG_PROTOCOL_FAILED)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.message_queue.qsize() >= MESSAGES_WAITING_MAX:
            self.close_soon(CLOSE_TOO_SLOW, MSG_TOO_MANY_MESSAGES)
            return
        await super().receive(text_data, bytes_data)

    async def get_context(self, request: Any, response: Any) -> LiveContext:
        return LiveContext(ws=self)

    async def on_ws_connect(self, context: LiveContext) -> UnsetType:
        """Authenticate the connection as an HTTP request is: a key (from connection_init's
        payload, else the upgrade request's header), else a staff session; 4401 otherwise."""
        try:
            context.caller = await self._caller(context.connection_params)
        except AuthenticationRefused as refused:
            self.refusal = (CLOSE_UNAUTHORIZED, refused.message)
            raise ConnectionRejectionError(
                {"message": refused.message, "code": refused.code.name}
            ) from None
        except DatabaseError as error:
            logger.warning("WebSocket refused: the key cannot be checked (%s)", error)
            self.refusal = (CLOSE_TRY_AGAIN_LATER, MSG_UNAVAILABLE)
            raise ConnectionRejectionError(
                {"message": MSG_UNAVAILABLE, "code": ErrorCode.SERVICE_UNAVAILABLE.name}
            ) from None
        # A key is checked again while the connection lasts (the client may have left while
        # it was read).
        if context.caller.client is not None and not self.gone:
            _key_watch().watch(self, self._authorization(context.connection_params))
        unset: UnsetType = UNSET
        return unset

    async def disconnect(self, code: int) -> None:
        self.gone = True
        _key_watch().forget(self)
        await super().disconnect(code)
        collector.connection_closed()

    def _headers(self) -> dict[str, str]:
        return {
            name.decode("latin1").lower(): value.decode("latin1")
            for name, value in self.scope["headers"]
        }

    def _authorization(self, params: object) -> str | None:
        """The key the connection authenticates with: connection_init's, else the upgrade's."""
        return _authorization_in(params) or self._headers().get("authorization")

    async def _caller(self, params: object) -> Caller:
        headers = self._headers()
        authorization = self._authorization(params)
        # A session only from the service's own pages: a page of another origin (one listed in
        # LIVE_ALLOWED_ORIGINS, Strawberry refused the others) must send a key.
        if authorization is None and _same_origin(headers):
            staff = staff_caller(await _session_user(headers))
            if staff is not None:
                return staff
        return await in_thread(caller_for_authorization, authorization)

    @asynccontextmanager
    async def events(
        self, groups: Sequence[str], *, timeout: float
    ) -> AsyncIterator[AsyncGenerator[dict[str, Any], None]]:
        """The announcements to these groups from now on, in arrival order (events.hub); they
        end after `timeout` s of silence."""
        await ensure_relay()
        listener = Listener(settings.LIVE_BUFFER_EVENTS, self._too_slow)
        async with hub().listening(groups, listener):
            yield listener.messages(timeout)

    def _too_slow(self, waiting: int) -> None:
        # Closed rather than buffered without end, or dropped without a word.
        if not self.closed:
            logger.warning("Live subscriber too slow: %d events waiting; closed", waiting)
            self.close_soon(CLOSE_TOO_SLOW, MSG_TOO_SLOW.format(count=waiting))

    def close_soon(self, code: int, reason: str) -> None:
        """Close, from now on dropping what comes. The close frame waits behind what the client
        has not read, so it is sent apart: the consumer goes on reading (and dropping) the
        layer's messages meanwhile, which would otherwise pile up in the layer."""
        if self.closed:
            return
        self.closed = True
        self.closing = asyncio.create_task(self.close(code=code, reason=_truncated(reason)))

    async def close_once(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        await self.close(code=code, reason=_truncated(reason))


def _refusals(authorizations: Iterable[str | None]) -> dict[str | None, AuthenticationRefused]:
    """Why each of these keys no longer opens a connection, for those that do not."""
    refusals = {}
    for authorization in authorizations:
        try:
            caller_for_authorization(authorization)
        except AuthenticationRefused as refused:
            refusals[authorization] = refused
    return refusals


class _KeyWatch:
    """The keys of an event loop's open connections, checked again every
    LIVE_KEY_CHECK_SECONDS: a connection whose key no longer opens one (revoked, expired, or
    its client deactivated) is closed with 4401, as its next HTTP request would be refused.

    One check of each key for all the connections that use it, in one thread: a task and a
    thread call per connection cost a thousand subscribers of one client a thousand reads at
    once, which held up the live events' relay (make bench: p99 event → subscriber).
    """

    def __init__(self) -> None:
        self.keys: dict[PayoutWebSocketConsumer, str | None] = {}
        self.task: asyncio.Task[None] | None = None

    def watch(self, consumer: PayoutWebSocketConsumer, authorization: str | None) -> None:
        self.keys[consumer] = authorization
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run(), name="websocket-key-watch")

    def forget(self, consumer: PayoutWebSocketConsumer) -> None:
        self.keys.pop(consumer, None)

    async def run(self) -> None:
        while self.keys:
            await asyncio.sleep(settings.LIVE_KEY_CHECK_SECONDS)
            try:
                refusals = await in_thread(_refusals, set(self.keys.values()))
            except DatabaseError:
                continue  # checked again next time
            except Exception:
                # One task checks every connection: it logs and goes on, rather than leave
                # revoked keys connected.
                logger.exception("Checking the keys of open WebSockets failed")
                continue
            for consumer, authorization in list(self.keys.items()):
                refused = refusals.get(authorization)
                if refused is not None:
                    self.forget(consumer)
                    consumer.close_soon(CLOSE_UNAUTHORIZED, refused.message)
        # No connection left to watch: the next one watched starts the task again.


_key_watches = PerLoop(_KeyWatch)


def _key_watch() -> _KeyWatch:
    return _key_watches.get()


def _truncated(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= CLOSE_REASON_BYTES:
        return reason
    return encoded[: CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"
