"""This process's one listener on the Channels layer: it hears each announcement of the relay
(events.broadcast) once and hands it to every live subscription of the process that listens to
its group.

A Channels consumer has a layer channel of its own, and its messages come one at a time through
a receive task and a dispatch of each: a thousand subscribers of one client cost a thousand of
them before the first event was sent (make bench: p99 event → subscriber, and a Redis
subscription and a queue per connection). One channel a process, joined to the groups its
subscriptions listen to, hands an event to all of them in one pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from channels.layers import get_channel_layer

from events.broadcast import MESSAGE_TYPE, groups_of
from project.loops import PerLoop
from project.queues import LightQueue

logger = logging.getLogger(__name__)

# After an unexpected failure to read the layer, the hub waits this long before reading again.
FAILURE_PAUSE_SECONDS = 1.0


# Put among a listener's messages when it has heard nothing for its timeout.
_SILENCE: dict[str, Any] = {"type": "silence"}


class Listener:
    """One subscription's announcements, those of its groups in arrival order. Past `limit`
    unread, it takes no more and `overflowed` is called with the count (the subscriber is too
    slow: buffering without end would let memory grow)."""

    __slots__ = ("heard_at", "limit", "loop", "overflowed", "queue", "stopped")

    def __init__(self, limit: int, overflowed: Callable[[int], None]) -> None:
        self.queue: LightQueue[dict[str, Any]] = LightQueue()
        self.limit = limit
        self.overflowed = overflowed
        self.stopped = False
        self.loop = asyncio.get_running_loop()
        self.heard_at = self.loop.time()

    def hear(self, message: dict[str, Any]) -> None:
        if self.stopped:
            return
        waiting = self.queue.qsize()
        if waiting >= self.limit:
            self.stopped = True
            self.overflowed(waiting)
            return
        self.heard_at = self.loop.time()
        self.queue.put_nowait(message)

    async def messages(self, timeout: float) -> AsyncGenerator[dict[str, Any], None]:
        """What is heard from now on; it ends after `timeout` seconds of silence. The message
        is shared with every other listener: read it, never change it."""
        self.heard_at = self.loop.time()
        silences = hub().silences
        silences.watch(self, timeout)
        try:
            while True:
                message = await self.queue.get()
                if message is _SILENCE:
                    return
                yield message
        finally:
            silences.forget(self)

    def silent(self, now: float, timeout: float) -> bool:
        """Whether it has heard nothing for `timeout` seconds; if so its messages end."""
        if now - self.heard_at < timeout:
            return False
        self.queue.put_nowait(_SILENCE)
        return True


class Silences:
    """The listeners waiting for messages, and how long each may hear nothing: one clock for
    all of them. A timeout around each wait cost every subscriber a timer for every event, and
    a timer of its own kept about half a kilobyte a subscription (make bench: live updates)."""

    # How often the clock looks, at most; more often for a shorter timeout (tests).
    TICK_SECONDS = 1.0

    def __init__(self) -> None:
        self.timeouts: dict[Listener, float] = {}
        self.clock: asyncio.Task[None] | None = None

    def watch(self, listener: Listener, timeout: float) -> None:
        self.timeouts[listener] = timeout
        if self.clock is None or self.clock.done():
            self.clock = asyncio.create_task(self.run(), name="events-hub-silences")

    def forget(self, listener: Listener) -> None:
        self.timeouts.pop(listener, None)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while self.timeouts:
            shortest = min(self.timeouts.values())
            await asyncio.sleep(min(self.TICK_SECONDS, shortest / 4))
            now = loop.time()
            for listener, timeout in list(self.timeouts.items()):
                if listener.silent(now, timeout):
                    self.forget(listener)


class Hub:
    """The announcements this process hears, handed to the listeners of their groups."""

    def __init__(self) -> None:
        self.layer: Any = get_channel_layer()
        assert self.layer is not None  # CHANNEL_LAYERS always names one
        self.channel: str | None = None
        self.receiving: asyncio.Task[None] | None = None
        self.starting = asyncio.Lock()
        self.listeners: dict[str, set[Listener]] = {}
        self.silences = Silences()
        # Each group's last change of the channel's membership (a join or a leave), made in
        # the order they were asked for: each waits for the one before it.
        self.changes: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        async with self.starting:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.receiving = asyncio.create_task(self.receive(), name="events-hub")

    async def receive(self) -> None:
        while True:
            try:
                self.hand_out(await self.layer.receive(self.channel))
            except Exception:
                # One bad message or listener must not end live delivery for the process.
                logger.exception("Live events hub failed to hand out a message; it reads on")
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)

    def hand_out(self, message: dict[str, Any]) -> None:
        if message.get("type") != MESSAGE_TYPE:
            return
        group = message.get("group")
        # An announcement without its group comes from a relay of an older release (a rolling
        # deploy): it goes to every group it is announced to, and subscriptions drop repeats.
        groups = groups_of(message) if group is None else (group,)
        # A copy: an overflowing listener closes its connection, which leaves the group.
        listeners = {listener for group in groups for listener in self.listeners.get(group, ())}
        for listener in listeners:
            listener.hear(message)

    async def join(self, groups: Iterable[str], listener: Listener) -> None:
        """Hand the listener what is announced to these groups, from when this returns."""
        await self.start()
        for group in groups:
            members = self.listeners.setdefault(group, set())
            change = self.changes.get(group)
            if not members or change is None or _failed(change):
                self._change(group, join=True)
            members.add(listener)
            joining = self.changes[group]
            try:
                await asyncio.shield(joining)
            except Exception:
                # The group's next listener tries again; a failure is not kept.
                if self._forget(group, listener) and self.changes.get(group) is joining:
                    del self.changes[group]
                raise

    def leave(self, groups: Iterable[str], listener: Listener) -> None:
        for group in groups:
            if self._forget(group, listener):
                self._change(group, join=False)

    def _forget(self, group: str, listener: Listener) -> bool:
        """Forget the group's listener; whether that was its last."""
        members = self.listeners.get(group)
        if members is None or listener not in members:
            return False
        members.discard(listener)
        if members:
            return False
        del self.listeners[group]
        return True

    def _change(self, group: str, *, join: bool) -> None:
        self.changes[group] = asyncio.create_task(
            self._membership(group, self.changes.get(group), join=join)
        )

    async def _membership(
        self, group: str, previous: asyncio.Task[None] | None, *, join: bool
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        if join:
            await self.layer.group_add(group, self.channel)
            return
        try:
            await self.layer.group_discard(group, self.channel)
        except Exception as error:  # a group left behind only costs messages no one reads
            logger.warning("Live events hub could not leave %s: %r", group, error)
        if self.changes.get(group) is asyncio.current_task():
            del self.changes[group]

    @asynccontextmanager
    async def listening(
        self, groups: Iterable[str], listener: Listener
    ) -> AsyncGenerator[Listener, None]:
        groups = tuple(groups)
        try:
            await self.join(groups, listener)
            yield listener
        finally:
            self.leave(groups, listener)


def _failed(change: asyncio.Task[None]) -> bool:
    return change.done() and (change.cancelled() or change.exception() is not None)


# One a process (an event loop), started by the first subscription.
_hubs = PerLoop(Hub)


def hub() -> Hub:
    return _hubs.get()
