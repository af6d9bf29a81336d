"""A first-in first-out queue for one reader, lighter than asyncio.Queue.

An asyncio.Queue holds three deques (its items, its getters, its putters), over 2 KB before
it holds anything; a live connection had three of them (make bench: memory per subscribed
connection). This one is a list and, while its reader waits, a future.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class LightQueue(Generic[T]):
    __slots__ = ("items", "wake")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.wake: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self.items)

    def put_nowait(self, item: T) -> None:
        self.items.append(item)
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    async def get(self) -> T:
        """The first item, once there is one. One reader at a time."""
        while not self.items:
            self.wake = asyncio.get_running_loop().create_future()
            await self.wake
        return self.items.pop(0)
