"""The embedded default's announcements: a web process reads new events from the stream and
sends them to its own subscribers through its in-memory Channels layer.

Without Redis no process can reach another's layer, and most events are written by the
consumer, another process. So each web process with subscribers reads what follows the last
event it sent, every LIVE_RELAY_POLL_SECONDS, in stream order (only events no running
transaction can precede, so none is skipped), and broadcasts them as a committing process
would with Redis. One read a process, whatever its number of subscribers.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError

from events.broadcast import broadcast, event_message
from events.models import Event
from events.selectors import events_following, every_settled_event, last_settled_key, stream_key

logger = logging.getLogger(__name__)

# The most events one read takes; a larger backlog is read on at once, batch after batch.
BATCH = 500


def _events_following(key: tuple[int, int]) -> list[Event]:
    return list(events_following(every_settled_event(), key)[:BATCH])


class Relay:
    """Sends this process's subscribers every event after the one it started at."""

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None
        self.task: asyncio.Task[None] | None = None
        self.starting = asyncio.Lock()

    async def start(self) -> None:
        """Start from the newest event: a subscriber that joins its groups after this returns
        hears every event committed from then on."""
        async with self.starting:
            if self.task is not None:
                return
            self.key = await database_sync_to_async(last_settled_key, thread_sensitive=False)()
            self.task = asyncio.create_task(self.run(), name="events-relay")

    async def run(self) -> None:
        failing = False
        while True:
            try:
                sent = await self.send_new_events()
                failing = False
            except DatabaseError as error:
                # The database is away: one line, then quiet until it answers again.
                if not failing:
                    logger.warning("Live events relay cannot read the event stream: %s", error)
                failing = True
                sent = 0
            except Exception:
                logger.exception("Live events relay failed; it reads on")
                sent = 0
            if sent < BATCH:
                await asyncio.sleep(settings.LIVE_RELAY_POLL_SECONDS)

    async def send_new_events(self) -> int:
        assert self.key is not None
        events = await database_sync_to_async(_events_following, thread_sensitive=False)(self.key)
        for event in events:
            await broadcast(event_message(event))
            self.key = stream_key(event)
        return len(events)


# One a process: started by the first subscriber's connection, it runs as long as the process.
_relays: dict[asyncio.AbstractEventLoop, Relay] = {}


async def ensure_relay() -> None:
    """Start this process's relay if the embedded default's layer needs one."""
    if not settings.LIVE_EVENTS_RELAYED:
        return
    relay = _relays.setdefault(asyncio.get_running_loop(), Relay())
    await relay.start()
