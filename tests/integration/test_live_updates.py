"""Live updates on the wire: the Procfile's web serving GraphQL subscriptions over WebSocket to a
real client (the `websockets` library), on PostgreSQL and Redis, with a real consumer."""

from __future__ import annotations

import asyncio
import json
import time
from base64 import b64encode
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from events.models import Event, EventType
from tests.conftest import KeyHolder, payout_payload
from tests.integration.conftest import Consumer, service_environment
from tests.integration.live_server import Gunicorn

PAYOUT_UPDATED = "subscription($id: ID!) { payoutUpdated(id: $id) { status updatedAt } }"
PAYOUT_EVENTS = """
subscription($after: ID) { payoutEvents(after: $after) { id type sequence payout { payoutId } } }
"""
TRANSPORT_WS = Subprotocol("graphql-transport-ws")
# How long a test waits for a message it expects, and listens for one it must not get.
WAIT = 10.0
QUIET = 1.5


def run(scenario: Callable[[], Any]) -> Any:
    return asyncio.run(scenario())


@pytest.fixture(scope="module")
def web_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gunicorn]]:
    """Two web processes, as on two machines: they share only PostgreSQL and Redis."""
    servers = [Gunicorn(tmp_path_factory.mktemp(f"web{n}") / "web.log") for n in (1, 2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def webs(
    web_servers: list[Gunicorn],
    owner: KeyHolder,
    stranger: KeyHolder,
    transactional_db: None,
    queue: Any,
) -> list[Gunicorn]:
    # Started by the first test, once the real services are known to be there; transactional_db
    # commits the keys, so the servers' own connections see them.
    for server in web_servers:
        if not server.running:
            server.start(service_environment(SECURE_SSL_REDIRECT="false"))
    return web_servers


def create_payout(web: Gunicorn, holder: KeyHolder, **overrides: Any) -> str:
    answer = web.request("POST", "/api/payouts/", payout_payload(**overrides), holder.headers)
    assert answer.status == 201, answer.body
    payout_id: str = answer.json()["id"]
    return payout_id


def global_id(payout_id: str) -> str:
    return b64encode(f"Payout:{payout_id}".encode()).decode()


class Subscriber:
    """A graphql-transport-ws client on one connection."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def subscribe(self, query: str, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        await self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

    async def receive(self, timeout: float = WAIT) -> tuple[float, dict[str, Any]]:
        """The next message and when it arrived."""
        text = await asyncio.wait_for(self.socket.recv(), timeout)
        return time.time(), json.loads(text)

    async def data(self, timeout: float = WAIT) -> dict[str, Any]:
        _, message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def silent(self, seconds: float = QUIET) -> bool:
        try:
            _, message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"Expected nothing, got {message}")


async def subscriber(web: Gunicorn, authorization: str) -> Subscriber:
    socket = await connect(f"ws://127.0.0.1:{web.port}/graphql/", subprotocols=[TRANSPORT_WS])
    init = {"type": "connection_init", "payload": {"Authorization": authorization}}
    await socket.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
    assert ack == {"type": "connection_ack"}, ack
    return Subscriber(socket)


def committed_at(payout_id: str, event_type: EventType) -> float:
    """When the payout's event of this type was written, in its transaction: its commit came
    after, so an arrival measured from here is an upper bound."""
    event = Event.objects.get(payout_id=payout_id, type=event_type)
    created: datetime = event.created_at
    return created.timestamp()


def test_a_subscriber_sees_processing_then_completed_within_a_second_of_each_commit(
    webs: list[Gunicorn], owner: KeyHolder, start_consumer: Callable[..., Consumer]
) -> None:
    payout_id = create_payout(webs[0], owner)

    async def scenario() -> list[tuple[float, dict[str, Any]]]:
        watcher = await subscriber(webs[0], owner.authorization)
        await watcher.subscribe(PAYOUT_UPDATED, id=global_id(payout_id))
        assert (await watcher.data())["payoutUpdated"]["status"] == "PENDING"
        # The consumer starts now: each change is committed while the subscriber listens.
        start_consumer(workers=2, PAYOUT_PROCESSING_DELAY_SECONDS="0.5")
        messages = [await watcher.receive() for _ in range(3)]
        await watcher.socket.close()
        return messages

    (processing_at, processing), (completed_at, completed), (_, last) = run(scenario)

    assert processing["payload"]["data"]["payoutUpdated"]["status"] == "PROCESSING"
    assert completed["payload"]["data"]["payoutUpdated"]["status"] == "COMPLETED"
    assert last == {"id": "1", "type": "complete"}
    assert processing_at - committed_at(payout_id, EventType.PROCESSING) < 1.0
    assert completed_at - committed_at(payout_id, EventType.COMPLETED) < 1.0


def test_another_clients_subscriber_sees_nothing_of_the_owners_payouts(
    webs: list[Gunicorn],
    owner: KeyHolder,
    stranger: KeyHolder,
    start_consumer: Callable[..., Consumer],
) -> None:
    start_consumer(workers=2)

    async def scenario() -> None:
        owners = await subscriber(webs[0], owner.authorization)
        await owners.subscribe(PAYOUT_EVENTS)
        strangers = await subscriber(webs[1], stranger.authorization)
        await strangers.subscribe(PAYOUT_EVENTS)
        await asyncio.sleep(0.3)

        payout_id = create_payout(webs[0], owner)
        seen = [(await owners.data())["payoutEvents"]["type"] for _ in range(3)]
        watching = await subscriber(webs[1], stranger.authorization)
        await watching.subscribe(PAYOUT_UPDATED, id=global_id(payout_id))
        _, refused = await watching.receive()

        assert seen == ["CREATED", "PROCESSING", "COMPLETED"]
        assert await strangers.silent()
        assert refused["payload"]["data"] is None
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    run(scenario)


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-key", "Bearer Unknown1." + "k" * 32])
def test_a_connection_without_a_valid_key_is_refused_with_4401(
    webs: list[Gunicorn], authorization: str | None
) -> None:
    async def scenario() -> int:
        async with connect(
            f"ws://127.0.0.1:{webs[0].port}/graphql/", subprotocols=[TRANSPORT_WS]
        ) as socket:
            payload = {} if authorization is None else {"Authorization": authorization}
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), WAIT)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    assert run(scenario) == 4401


def test_a_subscriber_reconnecting_with_after_gets_the_events_it_missed(
    webs: list[Gunicorn], owner: KeyHolder
) -> None:
    async def scenario() -> None:
        first = await subscriber(webs[0], owner.authorization)
        await first.subscribe(PAYOUT_EVENTS)
        await asyncio.sleep(0.3)
        payout_id = create_payout(webs[0], owner)
        last_seen = (await first.data())["payoutEvents"]
        await first.socket.close()

        for amount in ("11.00", "12.00"):
            answer = webs[0].request(
                "PATCH", f"/api/payouts/{payout_id}/", {"amount": amount}, owner.headers
            )
            assert answer.status == 200, answer.body
        again = await subscriber(webs[1], owner.authorization)
        await again.subscribe(PAYOUT_EVENTS, after=last_seen["id"])
        missed = [(await again.data())["payoutEvents"] for _ in range(2)]

        assert last_seen["type"] == "CREATED"
        assert [(event["type"], event["sequence"]) for event in missed] == [
            ("UPDATED", 2),
            ("UPDATED", 3),
        ]
        assert await again.silent()

    run(scenario)


def test_redis_carries_an_event_from_one_web_process_to_a_subscriber_on_another(
    webs: list[Gunicorn], owner: KeyHolder
) -> None:
    async def scenario() -> None:
        listening = await subscriber(webs[1], owner.authorization)
        await listening.subscribe(PAYOUT_EVENTS)
        await asyncio.sleep(0.3)

        payout_id = create_payout(webs[0], owner)  # no consumer: only web 1 writes
        event = (await listening.data())["payoutEvents"]

        assert (event["type"], event["payout"]["payoutId"]) == ("CREATED", payout_id)

    run(scenario)
