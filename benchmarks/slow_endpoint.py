"""Webhooks: processing with one slow endpoint against the same run without it, and how long a
status change takes to reach the receiver.

The receiver is an aiohttp server in a thread of the harness that answers each webhook after
`delay` seconds and notes when each arrived; the Procfile's `webhooks` consumer delivers to it
while the `worker` consumer processes a batch exactly as the run without webhooks did.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from benchmarks.report import Latency
from benchmarks.stack import HOST, Process, Stack, StackError

READY_TIMEOUT_SECONDS = 60.0
# After the batch is final, how long the deliveries it caused may take to arrive.
DRAIN_TIMEOUT_SECONDS = 120.0


@dataclass
class Receiver:
    """A slow webhook endpoint on loopback: each POST is answered 204 after `delay` seconds."""

    delay: float
    # (wall time it arrived, the event's timestamp, webhook-id) of every POST.
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        self.arrivals.append((arrived, body["timestamp"], request.headers["webhook-id"]))
        await asyncio.sleep(self.delay)
        return web.Response(status=204)

    def start(self) -> str:
        sock = socket.socket()
        sock.bind((HOST, 0))
        self.url = f"http://{HOST}:{sock.getsockname()[1]}/webhooks"
        started = threading.Event()
        loop = self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/webhooks", self._receive)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock, backlog=4096).start()
            started.set()

        def run() -> None:
            loop.run_until_complete(serve())
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="webhook-receiver", daemon=True)
        self._thread.start()
        if not started.wait(READY_TIMEOUT_SECONDS):
            raise StackError("the webhook receiver did not start")
        return self.url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def first_arrivals(self) -> dict[str, float]:
        """Seconds from each event to its first arrival, by webhook-id (a retry is not a new
        arrival)."""
        latencies: dict[str, float] = {}
        for arrived, timestamp, event_id in list(self.arrivals):
            if event_id not in latencies:
                latencies[event_id] = arrived - datetime.fromisoformat(timestamp).timestamp()
        return latencies


def add_endpoint(stack: Stack, url: str) -> None:
    """One endpoint of every event type for the benchmark's client, as the client would add
    it (POST /api/webhook-endpoints/ runs the same service)."""
    from clients.models import Client
    from payouts.callers import Caller
    from webhooks.services import endpoint_create

    client = Client.objects.get(pk=stack.client_id)
    endpoint_create(Caller.for_key(client, "benchmark"), {"url": url})


def remove_endpoints(stack: Stack) -> None:
    from webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.filter(client_id=stack.client_id).delete()


def start_webhooks(stack: Stack, workers: int) -> Process:
    knobs = {"WEBHOOK_WORKERS": str(workers), "WEBHOOK_WORKER_TYPE": "greenlet"}
    return stack.procfile("webhooks", "bench-webhooks", 1, PGAPPNAME="bench-webhooks", **knobs)


def wait_for_deliveries(stack: Stack, created_at: datetime | None) -> tuple[int, int, bool]:
    """(events the batch wrote, deliveries of them still pending, all delivered in time)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    with stack.connect() as conn:
        while True:
            row = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE e.dispatched_at IS NULL OR d.status = "
                "'pending') FROM events_event e JOIN payouts_payout p ON p.id = e.payout_id "
                "LEFT JOIN webhooks_webhookdelivery d ON d.event_id = e.position "
                "WHERE p.created_at = %s",
                (created_at,),
            ).fetchone()
            events, waiting = (int(str(value)) for value in row) if row else (0, 0)
            if waiting == 0 or time.monotonic() > deadline:
                return events, waiting, waiting == 0
            time.sleep(0.5)


def latency_of(receiver: Receiver) -> Latency:
    return Latency.of(list(receiver.first_arrivals().values()))
