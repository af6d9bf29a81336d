"""The hub: a process's one listener on the Channels layer, handing each announcement to the
subscriptions listening to its group."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from events.broadcast import MESSAGE_TYPE
from events.hub import Hub, Listener
from tests.graphql_api.live import layer, run

CLIENT_GROUP = "payout-events.client.7"
OTHER_GROUP = "payout-events.client.8"


@pytest.fixture(autouse=True)
def _fresh_layer(settings: Settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def announcement(group: str, number: int = 1) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "group": group, "key": [number, 0]}


def listener(overflowed: list[int] | None = None, limit: int = 100) -> Listener:
    return Listener(limit, (overflowed if overflowed is not None else []).append)


async def heard(listener: Listener, seconds: float = 0.2) -> list[dict[str, Any]]:
    await asyncio.sleep(seconds)
    return list(listener.queue.items)


def test_an_announcement_reaches_every_listener_of_its_group_once() -> None:
    async def scenario() -> None:
        hub, first, second, other = Hub(), listener(), listener(), listener()
        await hub.join([CLIENT_GROUP], first)
        await hub.join([CLIENT_GROUP], second)
        await hub.join([OTHER_GROUP], other)

        await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP))

        assert await heard(first) == [announcement(CLIENT_GROUP)]
        assert await heard(second) == [announcement(CLIENT_GROUP)]
        assert await heard(other) == []

    run(scenario)


def test_the_process_listens_on_one_channel_for_all_its_listeners() -> None:
    async def scenario() -> None:
        hub = Hub()
        for _ in range(3):
            await hub.join([CLIENT_GROUP], listener())

        assert layer().groups[CLIENT_GROUP].keys() == {hub.channel}

    run(scenario)


def test_the_group_is_left_with_its_last_listener() -> None:
    async def scenario() -> None:
        hub, first, second = Hub(), listener(), listener()
        await hub.join([CLIENT_GROUP], first)
        await hub.join([CLIENT_GROUP], second)

        hub.leave([CLIENT_GROUP], first)
        await asyncio.sleep(0.05)
        assert CLIENT_GROUP in layer().groups
        hub.leave([CLIENT_GROUP], second)
        await asyncio.sleep(0.05)

        assert CLIENT_GROUP not in layer().groups

    run(scenario)


def test_a_listener_joining_as_the_last_one_leaves_still_hears_the_group() -> None:
    async def scenario() -> None:
        hub, leaving, coming = Hub(), listener(), listener()
        await hub.join([CLIENT_GROUP], leaving)

        hub.leave([CLIENT_GROUP], leaving)
        await hub.join([CLIENT_GROUP], coming)  # before the leave has reached the layer
        await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP))

        assert await heard(coming) == [announcement(CLIENT_GROUP)]

    run(scenario)


def test_a_listener_past_its_limit_is_stopped_and_says_how_many_waited() -> None:
    async def scenario() -> None:
        hub, overflowed = Hub(), list[int]()
        slow = listener(overflowed, limit=2)
        await hub.join([CLIENT_GROUP], slow)

        for number in range(4):
            await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP, number))

        assert [message["key"] for message in await heard(slow)] == [[0, 0], [1, 0]]
        assert overflowed == [2]

    run(scenario)


def test_the_messages_end_after_a_silence() -> None:
    async def scenario() -> None:
        hub, quiet = Hub(), listener()
        await hub.join([CLIENT_GROUP], quiet)

        messages = [message async for message in quiet.messages(timeout=0.1)]

        assert messages == []

    run(scenario)


def test_a_join_the_layer_refuses_is_refused_and_the_next_one_tries_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        hub, refused, accepted = Hub(), listener(), listener()
        group_add = hub.layer.group_add

        async def layer_away(group: str, channel: str) -> None:
            raise ConnectionError("Redis is away")

        monkeypatch.setattr(hub.layer, "group_add", layer_away)
        with pytest.raises(ConnectionError):
            await hub.join([CLIENT_GROUP], refused)
        monkeypatch.setattr(hub.layer, "group_add", group_add)
        await hub.join([CLIENT_GROUP], accepted)
        await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP))

        assert await heard(accepted) == [announcement(CLIENT_GROUP)]
        assert await heard(refused) == []

    run(scenario)


def test_each_message_heard_puts_the_silence_off() -> None:
    async def scenario() -> None:
        hub, chatty = Hub(), listener()
        await hub.join([CLIENT_GROUP], chatty)

        async def announce_every_tenth_of_a_second() -> None:
            for number in range(5):
                await asyncio.sleep(0.1)
                await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP, number))

        announcing = asyncio.create_task(announce_every_tenth_of_a_second())
        messages = [message["key"] async for message in chatty.messages(timeout=0.25)]
        await announcing

        assert messages == [[number, 0] for number in range(5)]

    run(scenario)


def test_a_leave_slow_to_reach_the_layer_does_not_undo_a_join_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        hub, leaving, coming = Hub(), listener(), listener()
        group_discard = hub.layer.group_discard

        async def slow_discard(group: str, channel: str) -> None:
            await asyncio.sleep(0.1)
            await group_discard(group, channel)

        monkeypatch.setattr(hub.layer, "group_discard", slow_discard)
        await hub.join([CLIENT_GROUP], leaving)
        hub.leave([CLIENT_GROUP], leaving)
        await hub.join([CLIENT_GROUP], coming)
        await asyncio.sleep(0.2)

        await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP))

        assert await heard(coming) == [announcement(CLIENT_GROUP)]

    run(scenario)


def test_a_failed_join_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        hub = Hub()

        async def layer_away(group: str, channel: str) -> None:
            raise ConnectionError("Redis is away")

        monkeypatch.setattr(hub.layer, "group_add", layer_away)
        for number in range(3):
            with pytest.raises(ConnectionError):
                await hub.join([f"payout-events.payout.{number}"], listener())

        assert hub.changes == {}
        assert hub.listeners == {}

    run(scenario)


def test_an_announcement_without_its_group_reaches_the_listeners_of_its_groups() -> None:
    """A relay of the release before announced without naming the group (a rolling deploy)."""

    async def scenario() -> None:
        hub, client, payout = Hub(), listener(), listener()
        await hub.join([CLIENT_GROUP], client)
        await hub.join(["payout-events.payout.1d5f0a8e0f6a4c33a1c5b2e2f0d9c8b7"], payout)
        old = {
            "type": MESSAGE_TYPE,
            "client": 7,
            "payout": "1d5f0a8e0f6a4c33a1c5b2e2f0d9c8b7",
            "key": [1, 0],
        }

        hub.hand_out(old)

        assert await heard(client) == [old]
        assert await heard(payout) == [old]

    run(scenario)


def test_a_listener_that_fails_does_not_stop_the_others_hearing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(waiting: int) -> None:
        raise RuntimeError("a listener's bug")

    async def scenario() -> None:
        monkeypatch.setattr("events.hub.FAILURE_PAUSE_SECONDS", 0.01)
        hub, failing, steady = Hub(), Listener(0, broken), listener()
        await hub.join([CLIENT_GROUP], failing)
        await hub.join([OTHER_GROUP], steady)

        await layer().group_send(CLIENT_GROUP, announcement(CLIENT_GROUP, 1))
        await layer().group_send(OTHER_GROUP, announcement(OTHER_GROUP, 2))

        assert await heard(steady) == [announcement(OTHER_GROUP, 2)]

    run(scenario)
