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
from django.conf import settings
from django.db import DatabaseError

from events.broadcast import broadcast, event_message, groups_of
from events.models import Event
from events.selectors import events_following, every_settled_event, last_settled_key, stream_key
from project.loops import PerLoop
from project.orm import in_thread

logger = logging.getLogger(__name__)

# The most events one read takes; a larger backlog is read on at once, batch after batch.
BATCH = 500
LEASE_KEY = "payouts-live:relay"
CURSOR_KEY = "payouts-live:relay-cursor"
# Take the lease, or keep it: 1 when this relay holds it afterwards. The stored cursor lives
# as long as a lease could (3 of them): past that no relay was announcing, and the next one
# starts at the stream's end rather than announcing an old backlog.
HOLD_LEASE = """
local held = 0
if redis.call('get', KEYS[1]) == ARGV[1] then
  held = redis.call('pexpire', KEYS[1], ARGV[2])
elseif redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  held = 1
end
if held == 1 then redis.call('pexpire', KEYS[2], 3 * ARGV[2]) end
return held
"""
# After an unexpected failure (an event that cannot be announced), the relay waits this long
# before it tries again, rather than logging it ten times a second.
FAILURE_PAUSE_SECONDS = 1.0


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
        # The key of the last event announced to each group, carried by the next announcement
        # to it (its `previous`): a subscriber whose own key is older missed one and reads the
        # stream. Unknown after a start or a handover (None): subscribers read to be sure.
        self.previous: dict[str, list[int] | None] = {}
        self.redis: redis.Redis | None = None
        self.hold_lease_script: Any = None
        if settings.REDIS_URL:
            self.redis = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
            )
            self.hold_lease_script = self.redis.register_script(HOLD_LEASE)

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
                    # Another relay announces: read its key when taking over, and announce
                    # nothing as following what this one announced before.
                    self.key = None
                    self.previous.clear()
                failing = False
            except (DatabaseError, redis.RedisError, OSError) as error:
                # The database or Redis is away: one line, then quiet until they answer again.
                if not failing:
                    logger.warning("Live events relay paused: %s", error)
                failing = True
            except Exception:
                logger.exception("Live events relay failed; it reads on")
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)
            if sent < BATCH:
                await asyncio.sleep(settings.LIVE_RELAY_POLL_SECONDS)

    async def hold_lease(self) -> bool:
        """Whether this relay is the one to announce (always, without Redis)."""
        if self.redis is None:
            return True
        lease_ms = int(settings.LIVE_RELAY_LEASE_SECONDS * 1000)
        held = await self.hold_lease_script(
            keys=[LEASE_KEY, CURSOR_KEY], args=[self.token, lease_ms]
        )
        return bool(held)

    async def send_new_events(self) -> int:
        if self.key is None:
            self.key = await self.starting_key()
        events = await in_thread(_events_following, self.key)
        for event in events:
            message = event_message(event)
            groups = groups_of(message)
            message["previous"] = {group: self.previous.get(group) for group in groups}
            await broadcast(message)
            self.key = stream_key(event)
            self.previous.update(dict.fromkeys(groups, message["key"]))
        if events and self.redis is not None:
            transaction_id, position = self.key
            lease_ms = int(settings.LIVE_RELAY_LEASE_SECONDS * 1000)
            await self.redis.set(CURSOR_KEY, f"{transaction_id}:{position}", px=3 * lease_ms)
        return len(events)

    async def starting_key(self) -> tuple[int, int]:
        """Where the last relay stopped, else the stream's end (no relay announced lately, or a
        stored key past the end: a database restored elsewhere numbers transactions anew)."""
        self.previous.clear()
        stored = None if self.redis is None else _read_key(await self.redis.get(CURSOR_KEY))
        end = await in_thread(last_settled_key)
        return stored if stored is not None and stored <= end else end


# One a process (an event loop): started by the first subscription, it runs as long as the
# process does.
_relays = PerLoop(Relay)


async def ensure_relay() -> None:
    await _relays.get().start()


def relay_of_this_loop() -> Relay | None:
    """The relay started in the running event loop, if any (tests)."""
    return _relays.existing()


def stream_key_of(message: dict[str, Any]) -> tuple[int, int]:
    transaction_id, position = message["key"]
    return (int(transaction_id), int(position))


def missed_before(message: dict[str, Any], group: str, key: tuple[int, int]) -> bool:
    """Whether a subscriber of `group` that has heard the stream up to `key` missed an
    announcement before this one (or cannot tell: the relay started or changed since)."""
    previous = message["previous"].get(group)
    if previous is None:
        return True
    transaction_id, position = previous
    return (int(transaction_id), int(position)) > key
