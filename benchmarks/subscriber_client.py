"""`python -m benchmarks.subscriber_client URL AUTHORIZATION`: GraphQL subscribers over WebSocket.

The subscribers benchmark runs this in a process of its own, with its own asyncio loop (the
harness's process is gevent's, patched by locust). It reads commands on standard input and
answers each with one JSON line on standard output:

- `open N`: N more connections, each `connection_init` with the key, `connection_ack`, then
  `subscribe` to payoutEvents; answers `{"open": connections open, "failed": [reasons]}`.
- `live SECONDS`: waits until every open connection has received an event, any, at most
  SECONDS (graphql-transport-ws does not say when a subscription starts hearing events: the
  first event does); answers `{"live": how many have}`.
- `await PAYOUT_ID SECONDS`: waits until every open connection has received an event of that
  payout, at most SECONDS; answers `{"received": how many did}`.
- `report`: every arrival so far, `{"arrivals": {payout id: {connection index: monotonic time
  of its first event of that payout}}, "open": ..., "closed": [close codes]}`.
- `quit`.

Arrival times are `time.monotonic()`, the same clock (CLOCK_MONOTONIC) as the harness's on Linux.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
QUERY = "subscription { payoutEvents { id type sequence payout { id status } } }"
# Connections opened at once: each costs the server a key check and a handshake.
OPENING_AT_ONCE = 50
OPEN_TIMEOUT_SECONDS = 30.0


def payout_id_of(global_id: str) -> str:
    """The payout's UUID in a GraphQL global id (base64 of "Type:uuid")."""
    return base64.b64decode(global_id).decode().rpartition(":")[2]


class Subscribers:
    def __init__(self, url: str, authorization: str) -> None:
        self.url = url
        self.authorization = authorization
        self.connections: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        # payout id -> connection index -> first arrival (monotonic seconds).
        self.arrivals: dict[str, dict[int, float]] = defaultdict(dict)
        self.closed: list[int | None] = []
        self.heard: set[int] = set()
        self.changed = asyncio.Event()

    async def _open_one(self, gate: asyncio.Semaphore) -> ClientConnection:
        async with gate:
            ws = await connect(
                self.url,
                subprotocols=[PROTOCOL],  # type: ignore[list-item]  # a Subprotocol NewType
                open_timeout=OPEN_TIMEOUT_SECONDS,
                # The server pings; the client's own pings would only add traffic to measure.
                ping_interval=None,
                max_queue=None,
            )
            init = {"type": "connection_init", "payload": {"Authorization": self.authorization}}
            await ws.send(json.dumps(init))
            ack = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_SECONDS))
            if ack.get("type") != "connection_ack":
                await ws.close()
                raise RuntimeError(f"no connection_ack: {ack}")
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": QUERY}}
            await ws.send(json.dumps(subscribe))
            return ws

    async def _listen(self, index: int, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                arrived = time.monotonic()
                message = json.loads(raw)
                if message.get("type") == "next":
                    event = message["payload"]["data"]["payoutEvents"]
                    payout = payout_id_of(event["payout"]["id"])
                    self.arrivals[payout].setdefault(index, arrived)
                    self.heard.add(index)
                    self.changed.set()
                elif message.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
        except ConnectionClosed:
            pass
        self.closed.append(ws.close_code)

    async def open(self, count: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(OPENING_AT_ONCE)
        opened = await asyncio.gather(
            *(self._open_one(gate) for _ in range(count)), return_exceptions=True
        )
        failed = [repr(result) for result in opened if isinstance(result, BaseException)]
        for ws in opened:
            if isinstance(ws, ClientConnection):
                index = len(self.connections)
                self.connections.append(ws)
                self.tasks.append(asyncio.create_task(self._listen(index, ws)))
        return {"open": len(self.connections), "failed": failed[:5], "failures": len(failed)}

    async def _until(self, done: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return

    async def live(self, seconds: float) -> dict[str, Any]:
        await self._until(lambda: len(self.heard) == len(self.connections), seconds)
        return {"live": len(self.heard)}

    async def wait_for(self, payout_id: str, seconds: float) -> dict[str, Any]:
        arrivals = self.arrivals[payout_id]
        await self._until(lambda: len(arrivals) == len(self.connections), seconds)
        return {"received": len(arrivals)}

    def report(self) -> dict[str, Any]:
        return {
            "arrivals": {payout: dict(times) for payout, times in self.arrivals.items()},
            "open": len(self.connections),
            "closed": self.closed,
        }

    async def quit(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def serve(url: str, authorization: str) -> None:
    subscribers = Subscribers(url, authorization)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        command, *args = line.split() or ["quit"]
        if command == "open":
            answer = await subscribers.open(int(args[0]))
        elif command == "live":
            answer = await subscribers.live(float(args[0]))
        elif command == "await":
            answer = await subscribers.wait_for(args[0], float(args[1]))
        elif command == "report":
            answer = subscribers.report()
        else:
            await subscribers.quit()
            return
        print(json.dumps(answer), flush=True)


def main() -> None:
    url, authorization = sys.argv[1:3]
    uvloop.run(serve(url, authorization))


if __name__ == "__main__":
    main()
