"""Who may open a GraphQL WebSocket, and what it may run there."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError
from pytest_django.fixtures import Settings

from clients.authentication import MSG_REVOKED, caller_for_authorization
from clients.services import api_key_revoke
from graphql_api import websocket
from payouts.callers import Caller
from payouts.errors import MSG_UNAVAILABLE
from project import collector
from tests.conftest import REFUSALS, KeyHolder, refusal
from tests.graphql_api.live import LEGACY_WS, Connection, handshake_refused, relay_by_hand, run

pytestmark = pytest.mark.django_db(transaction=True)

PAYOUT_EVENTS = "subscription { payoutEvents { id } }"


@pytest.fixture(autouse=True)
def _fresh_layer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    relay_by_hand(monkeypatch)


def session_headers(client: Any, *, origin: str | None) -> list[tuple[str, str]]:
    from django.conf import settings

    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    headers = [("cookie", f"{settings.SESSION_COOKIE_NAME}={session}"), ("host", "testserver")]
    return headers if origin is None else [*headers, ("origin", origin)]


async def init(connection: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    await connection.send({"type": "connection_init", "payload": payload})
    return await connection.receive()


@pytest.mark.parametrize("case", REFUSALS)
def test_a_connection_without_a_valid_key_is_closed_with_4401_and_the_reason(
    case: str, owner: KeyHolder
) -> None:
    refused = refusal(case, owner)
    payload = {} if refused.authorization is None else {"Authorization": refused.authorization}

    async def scenario() -> None:
        connection = await Connection.open()
        await connection.send({"type": "connection_init", "payload": payload})

        frame = await connection.close_frame()

        assert frame["code"] == 4401
        assert frame["reason"] == refused.message

    run(scenario)


def test_the_key_may_be_sent_in_the_upgrade_requests_authorization_header(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        connection = await Connection.open(headers=[("authorization", owner.authorization)])

        assert await init(connection, {}) == {"type": "connection_ack"}
        await connection.disconnect()

    run(scenario)


def test_the_connection_init_key_may_be_written_in_any_case(owner: KeyHolder) -> None:
    async def scenario() -> None:
        connection = await Connection.open()

        assert await init(connection, {"authorization": owner.authorization}) == {
            "type": "connection_ack"
        }
        await connection.disconnect()

    run(scenario)


def test_a_bad_key_in_connection_init_is_refused_even_with_a_good_one_in_the_header(
    owner: KeyHolder,
) -> None:
    async def scenario() -> None:
        connection = await Connection.open(headers=[("authorization", owner.authorization)])
        await connection.send(
            {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-key"}}
        )

        assert (await connection.close_frame())["code"] == 4401

    run(scenario)


def test_subscribing_before_connection_init_closes_with_4401() -> None:
    async def scenario() -> None:
        connection = await Connection.open()
        await connection.subscribe(PAYOUT_EVENTS)

        assert (await connection.close_frame())["code"] == 4401

    run(scenario)


def test_a_staff_session_from_the_services_own_pages_is_accepted(admin_client: Any) -> None:
    headers = session_headers(admin_client, origin="http://testserver")

    async def scenario() -> None:
        connection = await Connection.open(headers=headers)

        assert await init(connection, {}) == {"type": "connection_ack"}
        await connection.disconnect()

    run(scenario)


def test_a_staff_session_from_another_sites_page_is_refused(admin_client: Any) -> None:
    """A page elsewhere cannot subscribe with the cookie the browser attaches to its socket."""
    headers = session_headers(admin_client, origin="https://evil.example")

    async def scenario() -> None:
        assert await handshake_refused(headers)

    run(scenario)


def test_a_page_of_an_origin_the_settings_list_connects_with_a_key(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_ALLOWED_ORIGINS = ["https://app.example.com"]
    headers = [("host", "testserver"), ("origin", "https://app.example.com")]

    async def scenario() -> None:
        connection = await Connection.open(headers=headers)

        assert await init(connection, {"Authorization": owner.authorization}) == {
            "type": "connection_ack"
        }
        await connection.disconnect()

    run(scenario)


def test_a_page_of_an_origin_the_settings_list_gets_nothing_from_a_staff_session(
    admin_client: Any, settings: Settings
) -> None:
    settings.LIVE_ALLOWED_ORIGINS = ["https://app.example.com"]
    headers = session_headers(admin_client, origin="https://app.example.com")

    async def scenario() -> None:
        connection = await Connection.open(headers=headers)
        await connection.send({"type": "connection_init", "payload": {}})

        assert (await connection.close_frame())["code"] == 4401

    run(scenario)


def test_a_session_of_a_user_who_is_not_staff_is_refused(
    client: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("visitor", password="x")
    client.force_login(user)
    headers = session_headers(client, origin="http://testserver")

    async def scenario() -> None:
        connection = await Connection.open(headers=headers)
        await connection.send({"type": "connection_init", "payload": {}})

        assert (await connection.close_frame())["code"] == 4401

    run(scenario)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("{ payouts { totalCount } }", "queries are not allowed"),
        ('mutation { deletePayout(id: "x") { __typename } }', "mutations are not allowed"),
    ],
    ids=["query", "mutation"],
)
def test_queries_and_mutations_are_refused_over_websocket(
    owner: KeyHolder, operation: str, message: str
) -> None:
    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(operation)

        answer = await connection.receive()

        assert answer["type"] == "error"
        assert [error["message"] for error in answer["payload"]] == [message]
        await connection.disconnect()

    run(scenario)


def test_the_older_graphql_ws_protocol_is_served_too(owner: KeyHolder) -> None:
    async def scenario() -> None:
        connection = await Connection.open(subprotocol=LEGACY_WS)
        ack = await init(connection, {"Authorization": owner.authorization})
        await connection.send({"id": "1", "type": "start", "payload": {"query": PAYOUT_EVENTS}})

        assert ack == {"type": "connection_ack"}
        assert await connection.silent()
        await connection.disconnect()

    run(scenario)


def test_the_older_graphql_ws_protocol_refuses_a_bad_key_with_4401() -> None:
    async def scenario() -> None:
        connection = await Connection.open(subprotocol=LEGACY_WS)
        answer = await init(connection, {"Authorization": "Bearer not-a-key"})

        assert answer["type"] == "connection_error"
        assert answer["payload"]["code"] == "AUTHENTICATION_FAILED"
        assert (await connection.close_frame())["code"] == 4401

    run(scenario)


def test_a_message_the_protocol_cannot_read_closes_the_connection() -> None:
    async def scenario() -> None:
        connection = await Connection.open()
        await connection.communicator.send_input({"type": "websocket.receive", "text": "[]"})

        frame = await connection.close_frame()

        assert frame["code"] == 1011

    run(scenario)


def test_a_connection_whose_key_cannot_be_checked_is_closed_to_try_again_later(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_away(header: str | None) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(websocket, "caller_for_authorization", database_away)

    async def scenario() -> None:
        connection = await Connection.open()
        await connection.send(
            {"type": "connection_init", "payload": {"Authorization": owner.authorization}}
        )

        frame = await connection.close_frame()

        assert frame["code"] == 1013
        assert frame["reason"] == MSG_UNAVAILABLE

    run(scenario)


def test_a_connection_whose_key_is_revoked_is_closed_with_4401(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_KEY_CHECK_SECONDS = 0.1
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 0

    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS)
        await connection.silent()

        await database_sync_to_async(api_key_revoke)(owner.api_key.prefix)
        frame = await connection.close_frame()

        assert frame["code"] == 4401
        assert frame["reason"] == MSG_REVOKED.format(prefix=owner.api_key.prefix)

    run(scenario)


def test_every_connection_of_a_revoked_key_is_closed_and_others_stay_open(
    owner: KeyHolder, stranger: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_KEY_CHECK_SECONDS = 0.1
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 0

    async def scenario() -> None:
        revoked = [await Connection.authenticated(owner.authorization) for _ in range(2)]
        kept = await Connection.authenticated(stranger.authorization)
        for connection in (*revoked, kept):
            await connection.subscribe(PAYOUT_EVENTS)

        await database_sync_to_async(api_key_revoke)(owner.api_key.prefix)
        frames = [await connection.close_frame() for connection in revoked]

        assert [frame["code"] for frame in frames] == [4401, 4401]
        assert await kept.silent(0.5)
        await kept.disconnect()

    run(scenario)


def test_the_keys_of_many_connections_are_checked_once_each_per_round(
    owner: KeyHolder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LIVE_KEY_CHECK_SECONDS = 0.2
    checked: list[str | None] = []

    def counted(authorization: str | None) -> Caller:
        checked.append(authorization)
        return caller_for_authorization(authorization)

    async def scenario() -> None:
        connections = [await Connection.authenticated(owner.authorization) for _ in range(5)]
        monkeypatch.setattr("graphql_api.websocket.caller_for_authorization", counted)
        await asyncio.sleep(0.5)

        assert 1 <= len(checked) <= 3  # one read a round, for all five
        assert set(checked) == {owner.authorization}
        for connection in connections:
            await connection.disconnect()

    run(scenario)


def test_a_key_check_that_fails_unexpectedly_is_tried_again_next_round(
    owner: KeyHolder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LIVE_KEY_CHECK_SECONDS = 0.1
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 0
    failures = [InterfaceError("connection already closed")]

    def flaky(authorization: str | None) -> Caller:
        if failures:
            raise failures.pop()
        return caller_for_authorization(authorization)

    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.subscribe(PAYOUT_EVENTS)
        monkeypatch.setattr("graphql_api.websocket.caller_for_authorization", flaky)
        await asyncio.sleep(0.3)  # the failing round, and one after it

        await database_sync_to_async(api_key_revoke)(owner.api_key.prefix)
        frame = await connection.close_frame()

        assert not failures
        assert frame["code"] == 4401

    run(scenario)


def test_a_closed_connection_is_no_longer_checked(
    owner: KeyHolder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LIVE_KEY_CHECK_SECONDS = 0.1
    checked: list[str | None] = []

    def counted(authorization: str | None) -> Caller:
        checked.append(authorization)
        return caller_for_authorization(authorization)

    async def scenario() -> None:
        connection = await Connection.authenticated(owner.authorization)
        await connection.disconnect()
        monkeypatch.setattr("graphql_api.websocket.caller_for_authorization", counted)
        await asyncio.sleep(0.3)

        assert checked == []

    run(scenario)


def test_a_full_collection_follows_many_closed_connections(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed connection's objects are freed only by a full collection, which the web
    worker's thresholds make rare (project.collector)."""
    collections: list[int] = []
    importlib.import_module("project.asgi")  # loaded first: loading it collects
    monkeypatch.setattr(collector, "COLLECT_AFTER_CLOSED", 2)
    monkeypatch.setattr(collector, "COLLECT_DELAY_SECONDS", 0.01)
    monkeypatch.setattr(collector, "_closed", 0)
    monkeypatch.setattr("project.collector.gc.collect", lambda: collections.append(2))

    async def scenario() -> None:
        first = await Connection.authenticated(owner.authorization)
        await first.disconnect()
        await asyncio.sleep(0.05)
        assert collections == []

        second = await Connection.authenticated(owner.authorization)
        await second.disconnect()
        await asyncio.sleep(0.05)
        assert collections == [2]

    run(scenario)


def test_a_connection_that_leaves_while_its_key_is_read_is_not_watched(
    owner: KeyHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_caller = websocket.PayoutWebSocketConsumer._caller

    async def slow_read(self: websocket.PayoutWebSocketConsumer, params: object) -> Caller:
        await asyncio.sleep(0.2)
        return await read_caller(self, params)

    monkeypatch.setattr(websocket.PayoutWebSocketConsumer, "_caller", slow_read)

    async def scenario() -> None:
        connection = await Connection.open()
        await connection.send(
            {"type": "connection_init", "payload": {"Authorization": owner.authorization}}
        )
        await connection.disconnect()  # while the key is read
        await asyncio.sleep(0.3)

        watch = websocket._key_watches.existing()
        assert watch is None or not watch.keys

    run(scenario)
