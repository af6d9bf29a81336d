"""Live updates over WebSocket: payoutUpdated and payoutEvents, as a subscriber sees them."""

from __future__ import annotations

import asyncio
import gc
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError
from graphql.execution import Executor
from pytest_django.fixtures import Settings

from events import relay as relay_module
from events import selectors as event_selectors
from events.broadcast import broadcast, client_group, event_message, payout_group
from events.errors import MSG_EVENT_NOT_FOUND
from events.models import Event
from graphql_api.types import global_id_for
from graphql_api.websocket import PayoutWebSocketConsumer
from payouts import services
from payouts.errors import (
    MSG_AMOUNT_INVALID,
    MSG_AMOUNT_TOO_MANY_DECIMALS,
    MSG_NOT_FOUND,
    MSG_UNAVAILABLE,
)
from payouts.models import Payout
from tests.conftest import KeyHolder, key_holder, payout_payload
from tests.graphql_api.live import (
    Connection,
    Network,
    announce,
    in_thread,
    relay_by_hand,
    run,
)

pytestmark = pytest.mark.django_db(transaction=True)

PAYOUT_UPDATED = """
subscription Watch($id: ID!) { payoutUpdated(id: $id) { id status amount providerReference } }
"""
PAYOUT_EVENTS = """
subscription Events($filters: PayoutEventFilter, $after: ID) {
  payoutEvents(filters: $filters, after: $after) {
    id type sequence timestamp payout { payoutId status amount currency }
  }
}
"""


@pytest.fixture(autouse=True)
def _relayed_by_hand(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh in-memory layer for each test's event loop, its relay moved by the test (after
    each write, see in_thread). Payouts wait for the test to move them: no processing task is
    queued."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    relay_by_hand(monkeypatch)
    monkeypatch.setattr(services, "_enqueue_processing", lambda payout, *, attempt: None)


@pytest.fixture
def staff_session_headers(admin_client: Any) -> list[tuple[str, str]]:
    """The headers of a browser on the service's own pages, logged in as a staff user."""
    from django.conf import settings

    session = admin_client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        ("cookie", f"{settings.SESSION_COOKIE_NAME}={session}"),
        ("host", "testserver"),
        ("origin", "http://testserver"),
    ]


@pytest.fixture
def owner(transactional_db: None) -> KeyHolder:
    return key_holder("acme")


@pytest.fixture
def stranger(transactional_db: None) -> KeyHolder:
    return key_holder("globex")


def create(holder: KeyHolder, **overrides: Any) -> Payout:
    return services.payout_create(holder.caller, payout_payload(**overrides))


def start(payout: Payout) -> None:
    services.payout_start_attempt(payout.pk, 1)


def complete(payout: Payout) -> None:
    services.payout_complete(payout.pk, 1, "prov_123")


def watch_variables(payout: Payout) -> dict[str, str]:
    return {"id": str(global_id_for(payout.pk))}


def test_payout_updated_sends_the_payout_now_then_each_change_then_completes(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))

        first = await connection.next_data()
        await in_thread(start, payout)
        second = await connection.next_data()
        await in_thread(complete, payout)
        third = await connection.next_data()

        statuses = [data["payoutUpdated"]["status"] for data in (first, second, third)]
        assert statuses == ["PENDING", "PROCESSING", "COMPLETED"]
        assert third["payoutUpdated"]["providerReference"] == "prov_123"
        assert first["payoutUpdated"]["id"] == str(global_id_for(payout.pk))
        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


def test_payout_updated_of_a_finished_payout_sends_it_and_completes(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        await in_thread(start, payout)
        await in_thread(complete, payout)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))

        data = await connection.next_data()

        assert data["payoutUpdated"]["status"] == "COMPLETED"
        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


def test_payout_updated_completes_without_a_payout_when_it_is_deleted(owner: KeyHolder) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))
        await connection.next_data()

        await in_thread(services.payout_delete, owner.caller, payout.pk)

        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


def test_payout_updated_sends_an_edit_of_a_pending_payout(owner: KeyHolder) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))
        await connection.next_data()

        await in_thread(services.payout_update, owner.caller, payout.pk, {"amount": "75.50"})

        data = await connection.next_data()
        assert data["payoutUpdated"]["amount"] == "75.50"
        assert data["payoutUpdated"]["status"] == "PENDING"
        await connection.disconnect()

    run(scenario)


def test_payout_updated_reads_the_changes_before_one_it_hears_out_of_order(
    owner: KeyHolder,
) -> None:
    """A payout's changes can reach the stream out of their order (a write that began earlier
    waited for the row's lock): hearing the later one first, the subscriber still gets both,
    in order, and the earlier one is not sent again when it comes."""

    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))
        await connection.next_data()

        await database_sync_to_async(start)(payout)  # written, not yet announced
        await database_sync_to_async(complete)(payout)
        completed = await in_thread(lambda: Event.objects.get(payout=payout, sequence=3))
        await announce(payout_group(payout.pk), event_message(completed))
        statuses = [(await connection.next_data())["payoutUpdated"]["status"] for _ in range(2)]

        assert statuses == ["PROCESSING", "COMPLETED"]
        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "global_id",
    ["not-an-id", "UGF5b3V0OjEyMw==", str(global_id_for(uuid.uuid4()))],
    ids=["malformed", "not a uuid", "no such payout"],
)
def test_payout_updated_of_no_payout_is_an_error(owner: KeyHolder, global_id: str) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, {"id": global_id})

        message = await connection.receive()

        assert message["type"] == "next"
        assert message["payload"]["data"] is None
        [error] = message["payload"]["errors"]
        assert error["message"] == MSG_NOT_FOUND
        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


def test_payout_updated_of_another_clients_payout_is_the_same_error_and_sends_nothing(
    owner: KeyHolder, stranger: KeyHolder
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(stranger.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))

        message = await connection.receive()
        await in_thread(start, payout)

        assert message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["message"] == MSG_NOT_FOUND
        assert await connection.receive() == {"id": "1", "type": "complete"}
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_payout_events_sends_each_change_of_the_callers_payouts(owner: KeyHolder) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()

        payout = await in_thread(create, owner)
        await in_thread(start, payout)
        await in_thread(complete, payout)
        events = [(await connection.next_data())["payoutEvents"] for _ in range(3)]

        assert [(event["type"], event["sequence"]) for event in events] == [
            ("CREATED", 1),
            ("PROCESSING", 2),
            ("COMPLETED", 3),
        ]
        assert [event["payout"]["status"] for event in events] == [
            "PENDING",
            "PROCESSING",
            "COMPLETED",
        ]
        stored = await in_thread(
            lambda: [e.public_id for e in Event.objects.filter(payout=payout).order_by("sequence")]
        )
        assert [event["id"] for event in events] == stored
        await connection.disconnect()

    run(scenario)


def test_payout_events_never_sends_another_clients_events(
    owner: KeyHolder, stranger: KeyHolder
) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(stranger.authorization)
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()

        payout = await in_thread(create, owner)
        await in_thread(start, payout)
        mine = await in_thread(create, stranger)

        event = (await connection.next_data())["payoutEvents"]
        assert event["payout"]["payoutId"] == str(mine.pk)
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_staff_subscriber_receives_every_clients_events(
    owner: KeyHolder, stranger: KeyHolder, staff_session_headers: list[tuple[str, str]]
) -> None:
    async def scenario() -> None:
        connection = await Connection.open(headers=staff_session_headers)
        await connection.send({"type": "connection_init", "payload": {}})
        assert await connection.receive() == {"type": "connection_ack"}
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()

        first = await in_thread(create, owner)
        second = await in_thread(create, stranger)

        received = {(await connection.next_data())["payoutEvents"]["payout"]["payoutId"]}
        received.add((await connection.next_data())["payoutEvents"]["payout"]["payoutId"])
        assert received == {str(first.pk), str(second.pk)}
        await connection.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": ["COMPLETED", "FAILED"]}, [("c", "COMPLETED")]),
        ({"currency": ["USD"]}, [("b", "CREATED")]),
        ({"minAmount": "100.00", "maxAmount": "200"}, [("b", "CREATED")]),
        ({"minAmount": "300.00"}, [("c", "CREATED"), ("c", "PROCESSING"), ("c", "COMPLETED")]),
    ],
    ids=["status", "currency", "amount range", "minimum amount"],
)
def test_payout_events_sends_only_changes_the_filter_matches(
    owner: KeyHolder, filters: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"filters": filters})
        await connection.silent()

        payouts = {
            "b": await in_thread(create, owner, amount="150.00", currency="USD"),
            "c": await in_thread(create, owner, amount="300.00", currency="EUR"),
        }
        await in_thread(start, payouts["c"])
        await in_thread(complete, payouts["c"])

        names = {str(payout.pk): name for name, payout in payouts.items()}
        received = []
        for _ in expected:
            event = (await connection.next_data())["payoutEvents"]
            received.append((names[event["payout"]["payoutId"]], event["type"]))
        assert received == expected
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"minAmount": "1.001"}, MSG_AMOUNT_TOO_MANY_DECIMALS),
        ({"maxAmount": "ten"}, MSG_AMOUNT_INVALID),
    ],
)
def test_payout_events_refuses_an_amount_rest_would_refuse(
    owner: KeyHolder, filters: dict[str, Any], message: str
) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"filters": filters})

        answer = await connection.receive()

        assert answer["payload"]["data"] is None
        [error] = answer["payload"]["errors"]
        assert error["message"] == message
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        await connection.disconnect()

    run(scenario)


def test_payout_events_after_an_event_replays_the_missed_ones_then_goes_live(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        await in_thread(start, payout)
        seen = await in_thread(lambda: Event.objects.get(payout=payout, sequence=1))
        await in_thread(complete, payout)
        later = await in_thread(create, owner)

        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"after": seen.public_id})
        replayed = [(await connection.next_data())["payoutEvents"] for _ in range(3)]
        await in_thread(start, later)
        live = (await connection.next_data())["payoutEvents"]

        assert [(e["payout"]["payoutId"], e["sequence"]) for e in replayed] == [
            (str(payout.pk), 2),
            (str(payout.pk), 3),
            (str(later.pk), 1),
        ]
        assert (live["payout"]["payoutId"], live["type"]) == (str(later.pk), "PROCESSING")
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_payout_events_replay_sends_no_event_twice_when_it_is_also_announced(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        first = await in_thread(lambda: Event.objects.get(payout=payout, sequence=1))
        await in_thread(start, payout)
        second = await in_thread(lambda: Event.objects.get(payout=payout, sequence=2))
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"after": first.public_id})
        replayed = (await connection.next_data())["payoutEvents"]

        # Announced while the replay read it: heard after it was sent from the stream.
        await announce(client_group(owner.client.pk), event_message(second))

        assert replayed["id"] == second.public_id
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


@pytest.mark.parametrize("after", ["evt_" + "0" * 32, "nonsense"])
def test_payout_events_after_an_unknown_event_is_an_error(owner: KeyHolder, after: str) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"after": after})

        answer = await connection.receive()

        [error] = answer["payload"]["errors"]
        assert error["message"] == MSG_EVENT_NOT_FOUND
        await connection.disconnect()

    run(scenario)


def test_payout_events_after_another_clients_event_is_an_error(
    owner: KeyHolder, stranger: KeyHolder
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        theirs = await in_thread(lambda: Event.objects.get(payout=payout, sequence=1))
        connection = await Connection.authenticated(stranger.authorization)
        await connection.subscribe(PAYOUT_EVENTS, {"after": theirs.public_id})

        answer = await connection.receive()

        [error] = answer["payload"]["errors"]
        assert error["message"] == MSG_EVENT_NOT_FOUND
        await connection.disconnect()

    run(scenario)


def test_a_subscriber_that_leaves_too_many_events_unread_is_closed(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_BUFFER_EVENTS = 3

    async def scenario() -> None:
        network = Network()
        connection = await Connection.authenticated(owner.authorization, network=network)
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()

        network.stalled = True  # the client reads nothing more
        network.attempted.clear()
        payout = await in_thread(create, owner)  # its event waits to be sent
        event = await in_thread(lambda: Event.objects.get(payout=payout))
        for _ in range(5):
            await announce(client_group(owner.client.pk), event_message(event))
        await asyncio.sleep(0.1)

        close = network.close_attempted()
        assert close is not None
        assert close["code"] == 1008
        assert close["reason"].startswith("Too slow: 3 events were waiting.")
        sends = [m for m in network.attempted if m["type"] == "websocket.send"]
        assert len(sends) == 1  # the one waiting on the wire; the rest dropped

    run(scenario)


def test_a_server_failure_during_a_subscription_is_masked(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_away(*args: object) -> None:
        raise OperationalError("connection to server at 10.0.0.5 failed")

    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))
        await connection.next_data()
        monkeypatch.setattr(event_selectors, "payout_events_between", database_away)

        gap = event_message(await in_thread(lambda: Event.objects.get(payout=payout)))
        gap["event"]["sequence"] = 3  # the stream must be read for the two before
        await announce(payout_group(payout.pk), gap)
        answer = await connection.receive()

        [error] = answer["payload"]["errors"]
        assert error["message"] == MSG_UNAVAILABLE
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        await connection.disconnect()

    run(scenario)


def test_two_subscriptions_on_one_connection_each_get_only_their_own_payouts_changes(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        first = await in_thread(create, owner)
        second = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(first), operation="a")
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(second), operation="b")
        opening = {(await connection.receive())["id"] for _ in range(2)}

        await in_thread(start, second)
        message = await connection.receive()

        assert opening == {"a", "b"}
        assert message["id"] == "b"
        assert message["payload"]["data"]["payoutUpdated"]["status"] == "PROCESSING"
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_a_probe_of_another_clients_payout_leaks_nothing_to_the_probing_connection(
    owner: KeyHolder, stranger: KeyHolder
) -> None:
    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(stranger.authorization)
        await connection.subscribe(PAYOUT_EVENTS, operation="events")
        await connection.silent()

        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout), operation="probe")
        refused = await connection.receive()
        await in_thread(start, payout)

        assert refused["id"] == "probe"
        assert refused["payload"]["errors"][0]["message"] == MSG_NOT_FOUND
        assert await connection.receive() == {"id": "probe", "type": "complete"}
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_the_subscriptions_are_the_two_whose_isolation_these_tests_prove() -> None:
    """The ownership walk (tests/test_ownership.py) covers queries and mutations over HTTP; a
    new subscription needs its own tests of who hears what, here."""
    from graphql_api.schema import schema

    subscription = schema._schema.subscription_type

    assert subscription is not None
    assert set(subscription.fields) == {"payoutUpdated", "payoutEvents"}


def test_payout_events_reads_the_stream_for_an_announcement_lost_on_the_way(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()
        await in_thread(create, owner)
        await connection.next_data()

        announce = broadcast
        lost: list[dict[str, Any]] = []

        async def lose_the_first(message: dict[str, Any]) -> None:
            if not lost:
                lost.append(message)  # Redis was reconnecting: nobody heard it
                return
            await announce(message)

        monkeypatch.setattr(relay_module, "broadcast", lose_the_first)
        missed = await in_thread(create, owner)
        later = await in_thread(create, owner)
        received = [(await connection.next_data())["payoutEvents"] for _ in range(2)]

        assert lost[0]["payout"] == missed.pk.hex
        assert [event["payout"]["payoutId"] for event in received] == [
            str(missed.pk),
            str(later.pk),
        ]
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_payout_updated_reads_a_change_it_never_heard_after_a_silence(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_RESYNC_SECONDS = 0.5

    async def scenario() -> None:
        payout = await in_thread(create, owner)
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_UPDATED, watch_variables(payout))
        await connection.next_data()

        await database_sync_to_async(start)(payout)  # never announced
        await database_sync_to_async(complete)(payout)
        statuses = [(await connection.next_data())["payoutUpdated"]["status"] for _ in range(2)]

        assert statuses == ["PROCESSING", "COMPLETED"]
        assert await connection.receive() == {"id": "1", "type": "complete"}
        await connection.disconnect()

    run(scenario)


def test_an_event_is_executed_once_for_subscriptions_that_ask_for_it_alike(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed: list[object] = []
    execute = Executor.execute_operation

    def counting(self: Executor[Any], serially: bool | None = None) -> Any:
        executed.append(self.root_value)
        return execute(self, serially)

    monkeypatch.setattr(Executor, "execute_operation", counting)

    async def scenario() -> None:
        alike = [await Connection.authenticated(owner.authorization) for _ in range(3)]
        other = await Connection.authenticated(owner.authorization)
        for connection in alike:
            await connection.subscribe(PAYOUT_EVENTS)
        await other.subscribe("subscription { payoutEvents { id } }")
        await asyncio.sleep(0.3)
        executed.clear()

        payout = await in_thread(create, owner)
        answers = [(await c.next_data())["payoutEvents"] for c in alike]
        short = (await other.next_data())["payoutEvents"]

        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["payout"]["payoutId"] == str(payout.pk)
        assert short == {"id": answers[0]["id"]}
        assert len(executed) == 2  # once for the three alike, once for the other document
        for connection in [*alike, other]:
            await connection.disconnect()

    run(scenario)


def test_an_events_data_is_encoded_once_for_subscriptions_that_ask_for_it_alike(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[object] = []
    encode_json = PayoutWebSocketConsumer.encode_json

    def counting(self: PayoutWebSocketConsumer, data: object) -> str | bytes:
        encoded.append(data)
        return encode_json(self, data)

    monkeypatch.setattr(PayoutWebSocketConsumer, "encode_json", counting)

    async def scenario() -> None:
        alike = [await Connection.authenticated(owner.authorization) for _ in range(3)]
        for number, connection in enumerate(alike):
            await connection.subscribe(PAYOUT_EVENTS, operation=f"watch-{number}")
        await asyncio.sleep(0.3)
        encoded.clear()

        payout = await in_thread(create, owner)
        messages = [await connection.receive() for connection in alike]

        assert [message["id"] for message in messages] == ["watch-0", "watch-1", "watch-2"]
        assert {message["type"] for message in messages} == {"next"}
        assert messages[0]["payload"] == messages[1]["payload"] == messages[2]["payload"]
        assert messages[0]["payload"]["data"]["payoutEvents"]["payout"]["payoutId"] == str(
            payout.pk
        )
        data = [item for item in encoded if isinstance(item, dict)]
        assert len(data) == 1  # the data once; each message's own id apart
        for connection in alike:
            await connection.disconnect()

    run(scenario)


def test_an_event_heard_keeps_no_closed_connection_alive(owner: KeyHolder) -> None:
    """The event stays with the process a while (its result is shared); the connections that
    heard it must not stay with it."""

    def open_connections() -> int:
        gc.collect()
        return sum(isinstance(o, PayoutWebSocketConsumer) for o in gc.get_objects())

    async def scenario() -> None:
        before = open_connections()
        alike = [await Connection.authenticated(owner.authorization) for _ in range(2)]
        for connection in alike:
            await connection.subscribe(PAYOUT_EVENTS)
        await asyncio.sleep(0.3)
        await in_thread(create, owner)
        for connection in alike:
            await connection.next_data()
            await connection.disconnect()

        assert open_connections() == before

    run(scenario)
