"""The relay with Redis: one relay announces for every web process, and another takes over
where it stopped when it dies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from redis import Redis

from events.relay import CURSOR_KEY, LEASE_KEY, Relay
from events.selectors import last_settled_key
from payouts import services
from tests.conftest import KeyHolder, payout_payload


@pytest.fixture
def lease(queue: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Redis]:
    monkeypatch.setattr(services, "_enqueue_processing", lambda payout, *, attempt: None)
    monkeypatch.setattr(settings, "LIVE_RELAY_LEASE_SECONDS", 1.0)
    client = Redis.from_url(str(settings.REDIS_URL))
    client.delete(LEASE_KEY, CURSOR_KEY)
    yield client
    client.delete(LEASE_KEY, CURSOR_KEY)


def test_one_relay_holds_the_lease_and_another_takes_over_where_it_stopped(
    lease: Redis, owner: KeyHolder
) -> None:
    create = database_sync_to_async(
        lambda: services.payout_create(owner.caller, payout_payload()), thread_sensitive=False
    )

    async def scenario() -> None:
        first, second = Relay(), Relay()
        assert await first.hold_lease()
        assert not await second.hold_lease()
        await create()
        assert await first.send_new_events() == 0  # it started at the stream's end
        await create()
        assert await first.send_new_events() == 1
        stopped_at = await database_sync_to_async(last_settled_key)()

        await asyncio.sleep(1.2)  # the first relay died: its lease lapses
        await create()

        assert await second.hold_lease()
        assert not await first.hold_lease()
        assert await second.starting_key() == stopped_at
        assert await second.send_new_events() == 1  # written after the first stopped, only it

    asyncio.run(scenario())
