"""GraphQL over WebSocket at /graphql/: subscriptions, for the graphql-transport-ws protocol and
the older graphql-ws, authenticated as HTTP requests are."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from strawberry.channels import GraphQLWSConsumer
from strawberry.channels.handlers.base import ChannelsMessage
from strawberry.channels.handlers.ws_handler import ChannelsWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from clients.authentication import AuthenticationRefused, caller_for_authorization
from events.broadcast import MESSAGE_TYPE
from events.relay import ensure_relay
from graphql_api.context import LiveContext
from graphql_api.schema import schema
from payouts.callers import Caller, staff_caller

logger = logging.getLogger(__name__)

# graphql-transport-ws's code for a connection that is not authenticated.
CLOSE_UNAUTHORIZED = 4401
# RFC 6455's "policy violation": the subscriber left more events unread than its buffer holds.
CLOSE_TOO_SLOW = 1008
# A close frame's reason is at most 123 bytes of UTF-8.
CLOSE_REASON_BYTES = 123

MSG_TOO_SLOW = "Too slow: {count} events were waiting. Reconnect with after: your last event id."


class _RefusalFirst(ChannelsWebSocketAdapter):
    """Strawberry closes a refused connection with a code of its own (4403, or 1011 for
    graphql-ws); the consumer's reason, set before it refused, is the one sent."""

    async def close(self, code: int, reason: str) -> None:
        consumer = self.ws_consumer
        assert isinstance(consumer, PayoutWebSocketConsumer)
        if consumer.refusal is not None:
            code, reason = consumer.refusal
        await consumer.close_once(code, reason)


def _authorization_in(params: object) -> str | None:
    """The Authorization entry of a connection_init payload (any case), if any."""
    if not isinstance(params, Mapping):
        return None
    for name, value in params.items():
        if isinstance(name, str) and name.lower() == "authorization":
            return value if isinstance(value, str) else repr(value)
    return None


def _same_origin(headers: Mapping[str, str]) -> bool:
    """Whether a browser opened the connection from this service's own pages (or no browser
    did): a page of another site must not subscribe with a staff user's session cookie."""
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc == headers.get("host")


class PayoutWebSocketConsumer(GraphQLWSConsumer[LiveContext, None]):
    websocket_adapter_class = _RefusalFirst

    def __init__(self) -> None:
        super().__init__(
            schema=schema,
            connection_init_wait_timeout=timedelta(seconds=settings.LIVE_CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=settings.LIVE_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.refusal: tuple[int, str] | None = None
        self.closed = False

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
        unset: UnsetType = UNSET
        return unset

    async def _caller(self, params: object) -> Caller:
        headers = {
            name.decode("latin1").lower(): value.decode("latin1")
            for name, value in self.scope["headers"]
        }
        authorization = _authorization_in(params) or headers.get("authorization")
        if authorization is None and _same_origin(headers):
            staff = staff_caller(self.scope.get("user"))
            if staff is not None:
                return staff
        check = database_sync_to_async(caller_for_authorization, thread_sensitive=False)
        caller: Caller = await check(authorization)
        return caller

    @asynccontextmanager
    async def events(
        self, groups: Sequence[str]
    ) -> AsyncIterator[AsyncGenerator[dict[str, Any], None]]:
        """The layer's event messages to these groups, from now on, in arrival order."""
        await ensure_relay()
        async with self.listen_to_channel(MESSAGE_TYPE, groups=groups) as messages:
            yield messages

    # Strawberry and Channels type the message differently (a TypedDict, a dict).
    async def dispatch(self, message: ChannelsMessage) -> None:  # type: ignore[override]
        if message.get("type") == MESSAGE_TYPE:
            if self.closed:
                return
            waiting = max((q.qsize() for q in self.listen_queues[MESSAGE_TYPE]), default=0)
            if waiting >= settings.LIVE_BUFFER_EVENTS:
                # Closed rather than buffered without end, or dropped without a word.
                logger.warning("Live subscriber too slow: %d events waiting; closed", waiting)
                await self.close_once(CLOSE_TOO_SLOW, MSG_TOO_SLOW.format(count=waiting))
                return
        await super().dispatch(message)

    async def close_once(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        await self.close(code=code, reason=_truncated(reason))


def _truncated(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= CLOSE_REASON_BYTES:
        return reason
    return encoded[: CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"
