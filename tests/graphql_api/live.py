"""A GraphQL-over-WebSocket client for unit tests: Channels' communicator on the ASGI app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async

from events.broadcast import announcement
from events.relay import Relay, relay_of_this_loop
from project import orm

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
# Long enough for a thread's database read on a busy machine, short for a test that waits on
# silence.
WAIT = 3.0
QUIET = 0.3


def layer() -> Any:
    """The Channels layer the application listens on."""
    from channels.layers import get_channel_layer

    channel_layer = get_channel_layer()
    assert channel_layer is not None
    return channel_layer


async def announce(group: str, message: dict[str, Any]) -> None:
    """Announce a message to a group as the relay does (tests that stage what the relay
    would say: a gap, a repeat, a late announcement)."""
    await layer().group_send(group, announcement(message, group))


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body in an event loop of its own."""
    async_to_sync(scenario)()


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A database write (or read) of the test, as a request thread would make it: committed
    before it returns, and its events announced by the relay if one runs (tests drive it by
    hand, see relay_by_hand)."""
    result = await database_sync_to_async(function)(*args, **kwargs)
    await relay_tick()
    return result


async def relay_tick() -> None:
    """Let this event loop's relay announce what the stream holds that it has not announced."""
    relay = relay_of_this_loop()
    if relay is not None:
        await relay.send_new_events()


async def _relay_stays_still(self: Relay) -> None:
    """A relay's loop, replaced in tests: relay_tick moves it, at the test's own pace."""


def relay_by_hand(monkeypatch: Any) -> None:
    """The relay moved by the test (relay_tick), and every database call of the application
    made in the test's thread, one after the other: the tests' in-memory SQLite database
    refuses a write while another thread reads ("database table is locked")."""
    monkeypatch.setattr(Relay, "run", _relay_stays_still)
    monkeypatch.setattr(orm, "ONE_THREAD", True)


class Network:
    """The wire between the application and the test. Stalled, it takes nothing more from the
    application, as a client that stopped reading with the socket's buffers full: every send
    waits, the close frame too (it queues behind the unread data). It records what the
    application tried to send."""

    def __init__(self) -> None:
        self.stalled = False
        self.attempted: list[dict[str, Any]] = []

    def around(self, application: Any) -> Any:
        async def wired(scope: Any, receive: Any, send: Any) -> Any:
            async def send_on_the_wire(message: dict[str, Any]) -> None:
                self.attempted.append(message)
                if self.stalled:
                    await asyncio.Event().wait()
                await send(message)

            return await application(scope, receive, send_on_the_wire)

        return wired

    def close_attempted(self) -> dict[str, Any] | None:
        return next((m for m in self.attempted if m["type"] == "websocket.close"), None)


def _scope(subprotocol: str, headers: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/graphql/",
        "query_string": b"",
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "subprotocols": [subprotocol],
    }


async def handshake_refused(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether the server refuses to open a WebSocket for this upgrade request."""
    from project.asgi import application

    communicator = ApplicationCommunicator(application, _scope(TRANSPORT_WS, headers))
    await communicator.send_input({"type": "websocket.connect"})
    answer = await communicator.receive_output(WAIT)
    return bool(answer["type"] == "websocket.close")


class Connection:
    """One WebSocket to /graphql/."""

    def __init__(self, communicator: ApplicationCommunicator) -> None:
        self.communicator = communicator

    @classmethod
    async def open(
        cls,
        *,
        subprotocol: str = TRANSPORT_WS,
        headers: Iterable[tuple[str, str]] = (),
        network: Network | None = None,
    ) -> Connection:
        from project.asgi import application

        communicator = ApplicationCommunicator(
            application if network is None else network.around(application),
            _scope(subprotocol, headers),
        )
        await communicator.send_input({"type": "websocket.connect"})
        accepted = await communicator.receive_output(WAIT)
        assert accepted == {"type": "websocket.accept", "subprotocol": subprotocol}, accepted
        return cls(communicator)

    @classmethod
    async def authenticated(
        cls,
        authorization: str | None,
        *,
        subprotocol: str = TRANSPORT_WS,
        network: Network | None = None,
    ) -> Connection:
        """A connection acknowledged for this Authorization value, sent in connection_init."""
        connection = await cls.open(subprotocol=subprotocol, network=network)
        payload = {} if authorization is None else {"Authorization": authorization}
        await connection.send({"type": "connection_init", "payload": payload})
        assert await connection.receive() == {"type": "connection_ack"}
        return connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.communicator.send_input(
            {"type": "websocket.receive", "text": json.dumps(message)}
        )

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, operation: str = "1"
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation, "type": "subscribe", "payload": payload})

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message; fails on a close or after `timeout` seconds."""
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        message: dict[str, Any] = json.loads(output["text"])
        return message

    async def next_data(self, timeout: float = WAIT) -> dict[str, Any]:
        """The data of the next `next` message."""
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def close_frame(self, timeout: float = WAIT) -> dict[str, Any]:
        """The server's close frame, skipping any message before it."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output

    async def silent(self, seconds: float = QUIET) -> bool:
        """Whether nothing arrives for `seconds` (the application keeps running)."""
        await asyncio.sleep(seconds)
        queue = self.communicator.output_queue
        assert queue.empty(), f"Expected nothing, got {queue.get_nowait()}"
        return True

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(WAIT)
