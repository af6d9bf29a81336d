"""Live updates: GraphQL subscribers over WebSocket on one web process, fed by REST creates.

The Procfile's web with one worker; the subscribers (benchmarks.subscriber_client, the
`websockets` library) in a process and asyncio loop of their own, each subscribed to
payoutEvents with the benchmark client's key. Payouts are created through REST one at a time;
each create's `payout.created` event travels from the web's commit through Redis back to every
subscriber. The time of an (event, subscriber) pair runs from just before the create was sent
to the event's arrival at that subscriber. First with a few subscribers (the baseline), then
with all of them; the web worker's resident memory is read with each count subscribed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from benchmarks.create import PAYLOAD
from benchmarks.report import Figure, Latency, Results, Table, number
from benchmarks.stack import LOG_DIR, StackError

if TYPE_CHECKING:
    from benchmarks.stack import Process, Stack

MAX_P99_MS = 250.0
MAX_KB_PER_CONNECTION = 50.0
# How long every subscriber may take to receive one event before the run calls it lost.
ARRIVAL_TIMEOUT_SECONDS = 30.0
# How long the warm-up waits for each of its events before it sends another.
WARM_UP_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class SubscribersPlan:
    subscribers: int = 1000
    few: int = 10
    events: int = 20
    interval: float = 0.5


@dataclass(frozen=True)
class Round:
    """The events sent to `subscribers` connections and when each arrived where."""

    subscribers: int
    latencies: list[float]
    expected_pairs: int
    complete_subscribers: int
    rss_mb: float
    create_latency: Latency

    @property
    def pairs(self) -> int:
        return len(self.latencies)

    def latency(self) -> Latency:
        return Latency.of(self.latencies)


class Client:
    """The subscribers' process, driven line by line (see benchmarks.subscriber_client)."""

    def __init__(self, url: str, authorization: str) -> None:
        self.log = LOG_DIR / "subscribers.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.subscriber_client", url, authorization],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("wb"),
            text=True,
        )

    def ask(self, command: str) -> dict[str, Any]:
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(command + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise StackError(f"the subscribers' process ended on {command!r}:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        with suppress(StackError, OSError, ValueError):
            self.ask("quit")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def rss_mb(pid: int) -> float:
    """The process's resident memory now (not its peak): what the connections hold."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise StackError(f"no VmRSS for process {pid}")


def create_payout(base_url: str, authorization: str) -> tuple[str, float, float]:
    """Create a payout through REST: its id, when the request was about to be sent, and how
    long the answer took."""
    request = urllib.request.Request(
        f"{base_url}/api/payouts/",
        data=json.dumps(PAYLOAD).encode(),
        headers={"Authorization": authorization, "Content-Type": "application/json"},
        method="POST",
    )
    sent = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        payout_id = str(json.load(response)["id"])
    return payout_id, sent, time.monotonic() - sent


def open_and_go_live(client: Client, stack: Stack, count: int, total: int) -> None:
    """Open `count` more subscribers, then create payouts until all `total` have received an
    event: only then are their subscriptions known to be live (a subscription hears events from
    when the server has set it up, which the protocol does not announce)."""
    opened = client.ask(f"open {count}")
    if opened["open"] != total:
        raise StackError(f"{opened['failures']} subscribers failed to open: {opened['failed']}")
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    live = 0
    while live < total and time.monotonic() < deadline:
        create_payout(stack.config.base_url, stack.authorization)
        live = client.ask(f"live {WARM_UP_WAIT_SECONDS}")["live"]
    if live != total:
        raise StackError(f"only {live} of {total} subscribers received a warm-up event")


def send_round(client: Client, stack: Stack, plan: SubscribersPlan, worker: int) -> Round:
    subscribers = client.ask("report")["open"]
    rss = rss_mb(worker)
    sent: dict[str, float] = {}
    create_times: list[float] = []
    for _ in range(plan.events):
        started = time.monotonic()
        payout_id, sent[payout_id], took = create_payout(stack.config.base_url, stack.authorization)
        create_times.append(took)
        time.sleep(max(0.0, plan.interval - (time.monotonic() - started)))
    client.ask(f"await {payout_id} {ARRIVAL_TIMEOUT_SECONDS}")
    arrivals: dict[str, dict[str, float]] = client.ask("report")["arrivals"]
    received = [arrivals.get(payout_id, {}) for payout_id in sent]
    latencies = [
        arrived - sent_at
        for by_connection, sent_at in zip(received, sent.values(), strict=True)
        for arrived in by_connection.values()
    ]
    complete = set.intersection(*(set(by_connection) for by_connection in received))
    return Round(
        subscribers,
        latencies,
        plan.events * subscribers,
        len(complete),
        rss,
        Latency.of(create_times),
    )


def measure_subscribers(stack: Stack, plan: SubscribersPlan, results: Results) -> None:
    web: Process = stack.start_web("web-live", WEB_CONCURRENCY="1")
    client = Client(
        f"ws://{stack.config.base_url.removeprefix('http://')}/graphql/", stack.authorization
    )
    try:
        [worker] = web.leaves()
        open_and_go_live(client, stack, plan.few, plan.few)
        few = send_round(client, stack, plan, worker.pid)
        open_and_go_live(client, stack, plan.subscribers - plan.few, plan.subscribers)
        many = send_round(client, stack, plan, worker.pid)
        closed = client.ask("report")["closed"]
    finally:
        client.stop()
        stack.stop(web)
    if closed:
        raise StackError(f"subscribers were closed during the run: codes {closed[:10]}")
    per_connection_kb = (many.rss_mb - few.rss_mb) * 1024 / (many.subscribers - few.subscribers)
    name = f"{many.subscribers:,} subscribers on one web process"
    lat, base = many.latency(), few.latency()
    results.figures += [
        Figure("Live updates", f"event → subscriber p99, {name}", lat.p99_ms, "ms",
               base.p99_ms, f"{few.subscribers} subscribers").at_most(
                   MAX_P99_MS, f"<= {MAX_P99_MS:.0f} ms"),
        Figure("Live updates", f"event → subscriber p50, {name}", lat.p50_ms, "ms",
               base.p50_ms, f"{few.subscribers} subscribers"),
        Figure("Live updates", f"(event, subscriber) pairs delivered, {name}", many.pairs,
               "pairs", many.expected_pairs, "events x subscribers", "all",
               many.pairs == many.expected_pairs
               and many.complete_subscribers == many.subscribers),
        Figure("Live updates", "memory per subscribed connection (web worker RSS)",
               per_connection_kb, "KB").at_most(
                   MAX_KB_PER_CONNECTION, f"<= {MAX_KB_PER_CONNECTION:.0f} KB"),
    ]  # fmt: skip
    results.tables.append(
        Table(
            "Live updates",
            f"One web worker; {plan.events} payouts created through REST one at a time, "
            f"{plan.interval} s apart, with {few.subscribers} and then {many.subscribers} "
            "subscribers to `payoutEvents` (the `websockets` library, a process of its own). "
            "Times run from just before the create was sent to the event's arrival at each "
            "subscriber; `create` is the REST answer's own time. Memory per connection is "
            f"(RSS with {many.subscribers} - RSS with {few.subscribers}) / "
            f"{many.subscribers - few.subscribers}.",
            ["Subscribers", "Pairs received", "Subscribers with every event",
             "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "create p99 ms",
             "Worker RSS MB"],
            [[str(r.subscribers), f"{r.pairs:,} of {r.expected_pairs:,}",
              str(r.complete_subscribers), *r.latency().cells(), number(r.latency().max_ms),
              number(r.create_latency.p99_ms), number(r.rss_mb)] for r in (few, many)],
        )
    )  # fmt: skip
