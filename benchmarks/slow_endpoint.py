"""Webhooks: processing with one slow endpoint against the same run without it, and how long a
status change takes to reach the receiver.

The receiver is an aiohttp server in a process of its own that answers each webhook after
`delay` seconds and notes when each arrived; the Procfile's `webhooks` consumer delivers to it
while the `worker` consumer processes a batch exactly as the run without webhooks did.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web

from benchmarks.report import Latency
from benchmarks.stack import HOST, LOG_DIR, Process, Stack, StackError, free_port

READY_TIMEOUT_SECONDS = 60.0
# After the batch is final, how long the deliveries it caused may take to arrive.
DRAIN_TIMEOUT_SECONDS = 120.0


def serve(port: int, delay: float, arrivals: Path) -> None:
    """Answer every POST to /webhooks with 204 after `delay` seconds, writing a line of its
    arrival (wall time, the event's timestamp, its webhook-id) to `arrivals` as it comes."""
    out = arrivals.open("a", buffering=1)

    async def receive(request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        out.write(f"{arrived} {body['timestamp']} {request.headers['webhook-id']}\n")
        await asyncio.sleep(delay)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    web.run_app(app, host=HOST, port=port, backlog=4096, access_log=None, print=None)


@dataclass
class Receiver:
    """The slow endpoint in a process of its own (the harness's threads are gevent's, under
    locust, so an event loop in one would run in the harness's own thread)."""

    stack: Stack
    delay: float
    arrivals: Path = LOG_DIR / "webhook-arrivals.txt"
    process: Process | None = None

    def start(self) -> str:
        port = free_port()
        self.arrivals.unlink(missing_ok=True)
        self.process = self.stack.start(
            "webhook-receiver",
            *(sys.executable, "-m", "benchmarks.slow_endpoint", str(port), str(self.delay)),
            str(self.arrivals),
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.process.alive():
            with suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                return f"http://{HOST}:{port}/webhooks"
            time.sleep(0.1)
        raise StackError(f"the webhook receiver did not start:\n{self.process.tail()}")

    def stop(self) -> None:
        if self.process is not None:
            self.stack.stop(self.process)

    def first_arrivals(self) -> dict[str, float]:
        """Seconds from each event to its first arrival, by webhook-id (a retry is not a new
        arrival)."""
        latencies: dict[str, float] = {}
        lines = self.arrivals.read_text().splitlines() if self.arrivals.exists() else []
        for line in lines:
            arrived, timestamp, event_id = line.split()
            if event_id not in latencies:
                sent = datetime.fromisoformat(timestamp).timestamp()
                latencies[event_id] = float(arrived) - sent
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
    """The Procfile's webhooks consumer, as if it had run all along: the fan-outs the earlier
    runs (with no consumer of them) left behind are dropped, their events counted as done."""
    from webhooks.queue import WEBHOOK_HUEY

    WEBHOOK_HUEY.flush()
    with stack.connect() as conn:
        conn.execute("UPDATE events_event SET dispatched_at = now() WHERE dispatched_at IS NULL")
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


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3]))
