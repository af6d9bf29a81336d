"""What a resolver knows of its request: above all, the caller it acts for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.django.context import StrawberryDjangoContext

from payouts.callers import Caller

if TYPE_CHECKING:
    from graphql_api.websocket import PayoutWebSocketConsumer


@dataclass
class PayoutContext(StrawberryDjangoContext):
    # The view authenticates every request before it runs, so a resolver always has one.
    caller: Caller


@dataclass
class LiveContext:
    """A WebSocket connection's: its subscriptions run once connection_init authenticated it."""

    ws: PayoutWebSocketConsumer
    caller: Caller | None = None
    # The connection_init payload, set by Strawberry.
    connection_params: Any = None


def caller_of(info: strawberry.Info) -> Caller:
    context: PayoutContext | LiveContext = info.context
    assert context.caller is not None  # no operation runs before connection_ack
    return context.caller


def live_connection(info: strawberry.Info) -> PayoutWebSocketConsumer:
    """The WebSocket connection a subscription runs on."""
    context = info.context
    assert isinstance(context, LiveContext)  # the schema runs subscriptions on WebSockets only
    return context.ws
