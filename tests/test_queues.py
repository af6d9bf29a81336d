"""The light queue of live connections: first in, first out, for one reader."""

from __future__ import annotations

import asyncio

from project.queues import LightQueue


def test_items_come_out_in_the_order_they_went_in() -> None:
    async def scenario() -> list[int]:
        queue: LightQueue[int] = LightQueue()
        for item in (1, 2, 3):
            queue.put_nowait(item)
        return [await queue.get() for _ in range(3)]

    assert asyncio.run(scenario()) == [1, 2, 3]


def test_a_reader_waits_for_the_next_item() -> None:
    async def scenario() -> tuple[bool, int, int]:
        queue: LightQueue[int] = LightQueue()
        reading = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        waited = not reading.done()
        queue.put_nowait(7)
        return waited, await reading, queue.qsize()

    assert asyncio.run(scenario()) == (True, 7, 0)


def test_a_reader_cancelled_while_waiting_leaves_the_queue_usable() -> None:
    async def scenario() -> int:
        queue: LightQueue[int] = LightQueue()
        reading = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        reading.cancel()
        await asyncio.sleep(0.01)
        queue.put_nowait(8)
        return await queue.get()

    assert asyncio.run(scenario()) == 8
