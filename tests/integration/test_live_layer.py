"""The hub over the Channels layer with Redis, as the web processes use it for live updates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from events.broadcast import MESSAGE_TYPE, announcement
from events.hub import Hub, Listener


def listener() -> Listener:
    return Listener(100, lambda waiting: None)


def message(number: int) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "key": [number, 0]}


async def heard(listener: Listener, seconds: float = 0.3) -> list[list[int]]:
    await asyncio.sleep(seconds)
    return [item["key"] for item in listener.queue.items]


def test_a_process_hears_an_announcement_through_redis_once_for_each_listener() -> None:
    group, other_group = f"hub-test.{uuid.uuid4().hex}", f"hub-test.{uuid.uuid4().hex}"

    async def scenario() -> None:
        hub, first, second, other = Hub(), listener(), listener(), listener()
        await hub.join([group], first)
        await hub.join([group], second)
        await hub.join([other_group], other)

        await hub.layer.group_send(group, announcement(message(1), group))

        assert await heard(first) == [[1, 0]]
        assert await heard(second) == [[1, 0]]
        assert await heard(other) == []
        await hub.layer.flush()

    asyncio.run(scenario())


def test_a_group_left_and_joined_again_at_once_is_still_heard_through_redis() -> None:
    group = f"hub-test.{uuid.uuid4().hex}"

    async def scenario() -> None:
        hub, leaving, coming = Hub(), listener(), listener()
        await hub.join([group], leaving)

        hub.leave([group], leaving)
        await hub.join([group], coming)  # the leave's unsubscribe is still on its way
        await hub.layer.group_send(group, announcement(message(2), group))

        assert await heard(coming) == [[2, 0]]
        await hub.layer.flush()

    asyncio.run(scenario())


def test_a_listener_that_left_hears_nothing_more_through_redis() -> None:
    group = f"hub-test.{uuid.uuid4().hex}"

    async def scenario() -> None:
        hub, gone = Hub(), listener()
        await hub.join([group], gone)
        hub.leave([group], gone)
        await asyncio.sleep(0.2)

        await hub.layer.group_send(group, announcement(message(3), group))

        assert await heard(gone) == []
        await hub.layer.flush()

    asyncio.run(scenario())
