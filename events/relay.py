"""The relay: reads the event stream and announces each event to live subscribers through the
Channels layer, in stream order.

Announcing from the stream, not from the process that committed, is what makes a subscription
exact: an event is announced only once no running transaction can precede it (the stream's
settled part, as GET /api/events/ lists it), so the order subscribers hear equals the order a
reconnecting client replays with `after`, and nothing a subscriber missed is lost. It also keeps
writes free of the layer: a request or a worker never waits on Redis to commit a payout.

With Redis one relay runs for the whole deployment: each web process with subscribers runs one,
and the one holding a lease in Redis reads and announces, through channels-redis, to every web
process; the others wait to take over (a lease outlives its holder by LIVE_RELAY_LEASE_SECONDS).
The next holder goes on from the stream key the last one stored, so a handover repeats events
rather than losing them (subscribers drop what they already heard). On the embedded default each
web process relays to its own in-memory layer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import redis.asyncio as redis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError

from events.broadcast import broadcast, event_message
from events.models import Event
from events.selectors import events_following, every_settled_event, last_settled_key, stream_key

logger = logging.getLogger(__name__)

# The most events one read takes; a larger backlog is read on at once, batch after batch.
BATCH = 500
LEASE_KEY = "payouts-live:relay"
CURSOR_KEY = "payouts-live:relay-cursor"
# Take the lease, or keep it: 1 when this relay holds it afterwards.
HOLD_LEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""


def _events_following(key: tuple[int, int]) -> list[Event]:
    return list(events_following(every_settled_event(), key)[:BATCH])


def _read_key(value: bytes | str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    transaction_id, _, position = text.partition(":")
    return (int(transaction_id), int(position))


class Relay:
    """This process's relay: announces the stream's new events while it holds the lease."""

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None
        self.task: asyncio.Task[None] | None = None
        self.starting = asyncio.Lock()
        self.token = uuid.uuid4().hex
        self.redis: redis.Redis | None = (
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            if settings.REDIS_URL
            else None
        )

    async def start(self) -> None:
        """Start relaying. Returns once the announcements cover every event settled from now
        on: a subscriber that joins its groups afterwards hears each of them."""
        async with self.starting:
            if self.task is not None:
                return
            try:
                if await self.hold_lease():
                    self.key = await self.starting_key()
            except (DatabaseError, redis.RedisError, OSError) as error:
                logger.warning("Live events relay starts paused: %s", error)
            self.task = asyncio.create_task(self.run(), name="events-relay")

    async def run(self) -> None:
        failing = False
        while True:
            sent = 0
            try:
                if await self.hold_lease():
                    sent = await self.send_new_events()
                else:
                    self.key = None  # another relay announces; read its key when taking over
                failing = False
            except (DatabaseError, redis.RedisError, OSError) as error:
                # The database or Redis is away: one line, then quiet until they answer again.
                if not failing:
                    logger.warning("Live events relay paused: %s", error)
                failing = True
            except Exception:
                logger.exception("Live events relay failed; it reads on")
            if sent < BATCH:
                await asyncio.sleep(settings.LIVE_RELAY_POLL_SECONDS)

    async def hold_lease(self) -> bool:
        """Whether this relay is the one to announce (always, without Redis)."""
        if self.redis is None:
            return True
        lease_ms = int(settings.LIVE_RELAY_LEASE_SECONDS * 1000)
        held = await self.redis.eval(HOLD_LEASE, 1, LEASE_KEY, self.token, lease_ms)
        return bool(held)

    async def send_new_events(self) -> int:
        if self.key is None:
            self.key = await self.starting_key()
        events = await database_sync_to_async(_events_following, thread_sensitive=False)(self.key)
        for event in events:
            await broadcast(event_message(event))
            self.key = stream_key(event)
        if events and self.redis is not None:
            transaction_id, position = self.key
            await self.redis.set(CURSOR_KEY, f"{transaction_id}:{position}")
        return len(events)

    async def starting_key(self) -> tuple[int, int]:
        """Where the last relay stopped, else the stream's end (nobody listened before)."""
        stored = None if self.redis is None else _read_key(await self.redis.get(CURSOR_KEY))
        if stored is not None:
            return stored
        key: tuple[int, int] = await database_sync_to_async(
            last_settled_key, thread_sensitive=False
        )()
        return key


# One a process (an event loop): started by the first subscription, it runs as long as the
# process does.
_relays: dict[asyncio.AbstractEventLoop, Relay] = {}


async def ensure_relay() -> None:
    relay = _relays.setdefault(asyncio.get_running_loop(), Relay())
    await relay.start()


def relay_of_this_loop() -> Relay | None:
    """The relay started in the running event loop, if any (tests)."""
    return _relays.get(asyncio.get_running_loop())


def stream_key_of(message: dict[str, Any]) -> tuple[int, int]:
    transaction_id, position = message["key"]
    return (int(transaction_id), int(position))
