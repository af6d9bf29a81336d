"""One object an event loop: a web worker serves with one loop, tests run one for each test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self.make = make
        self.made: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        """The running loop's, made now if it has none."""
        loop = asyncio.get_running_loop()
        found = self.made.get(loop)
        if found is None:
            found = self.made[loop] = self.make()
        return found

    def existing(self) -> T | None:
        return self.made.get(asyncio.get_running_loop())
