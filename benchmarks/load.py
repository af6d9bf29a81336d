"""HTTP load with locust's library API: closed-loop users (no wait time) timed over a window.

Locust's own statistics keep response times in a histogram rounded to whole milliseconds, so
every request's exact time is taken from its `request` event instead, and the rate is the
requests completed within the window, after the users' first requests and before they stop.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from benchmarks.report import Latency

# Users spawn at once; their first requests land here, outside the timed window.
RAMP_SECONDS = 0.3


@dataclass(frozen=True)
class Request:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int = 200
    # Sent with a value no other request has (an Idempotency-Key, as a client sends per payout).
    unique_header: str = ""


@dataclass
class Load:
    """What one request (by name) got over the window."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Every request answered, the ramp's too, and the CPU the harness spent sending them.
    sent: int = 0
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def latency(self) -> Latency:
        return Latency.of(self.latencies)

    def require(self, what: str) -> Load:
        """Fail loudly on a refused or failed request: timed 401s or 429s measure nothing."""
        if self.errors or not self.latencies:
            raise RuntimeError(f"{what}: {len(self.errors)} errors {self.errors[:3]}, or no answer")
        return self


def _user_class(base_url: str, requests: list[Request]) -> type[Any]:
    # Imported here: locust patches the standard library with gevent when imported, which the
    # harness wants (its __main__ imports it first) and the unit tests don't.
    from locust import FastHttpUser, constant, task

    class Caller(FastHttpUser):
        host = base_url
        wait_time = constant(0)

        @task
        def send_in_turn(self) -> None:
            # One user sends the requests in turn: a slow spell of the machine falls on each.
            for request in requests:
                headers = dict(request.headers)
                if request.unique_header:
                    headers[request.unique_header] = str(uuid.uuid4())
                with self.client.request(
                    request.method,
                    request.path,
                    data=request.body.decode() or None,
                    headers=headers,
                    name=request.name,
                    catch_response=True,
                ) as response:
                    if response.status_code != request.status:
                        response.failure(f"{response.status_code}: {(response.text or '')[:300]!r}")

    return Caller


def run_users(
    base_url: str, requests: list[Request], users: int, seconds: float
) -> dict[str, Load]:
    """`users` closed-loop users, each sending `requests` in turn for `seconds`."""
    from locust.env import Environment

    loads = {request.name: Load() for request in requests}
    window = [0.0, 0.0]

    def on_request(name: str, response_time: float, exception: Any, **_: Any) -> None:
        loads[name].sent += 1
        if exception is not None:
            loads[name].errors.append(str(exception))
        elif window[0] <= time.monotonic() <= window[1]:
            loads[name].latencies.append(response_time / 1000)

    environment = Environment(user_classes=[_user_class(base_url, requests)])
    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    cpu = time.process_time()
    started = time.monotonic()
    window[:] = [started + RAMP_SECONDS, started + RAMP_SECONDS + seconds]
    runner.start(users, spawn_rate=users)
    # locust has patched time.sleep: its users run meanwhile.
    time.sleep(RAMP_SECONDS + seconds)
    runner.quit()
    cpu = (time.process_time() - cpu) / len(loads)
    for load in loads.values():
        load.seconds, load.cpu_seconds = seconds, cpu
    return loads


def run_alternating(
    base_url: str, requests: list[Request], users: int, seconds: float, slices: int
) -> dict[str, Load]:
    """Each request loaded alone by `users` users for `seconds` in all, in slices that take
    turns A B C, C B A, ...: a slow spell or a drift over the run falls on every one alike."""
    totals = {request.name: Load() for request in requests}
    for number in range(slices):
        for request in requests if number % 2 == 0 else reversed(requests):
            load = run_users(base_url, [request], users, seconds / slices)[request.name]
            total = totals[request.name]
            total.latencies += load.latencies
            total.errors += load.errors
            total.seconds += load.seconds
            total.sent += load.sent
            total.cpu_seconds += load.cpu_seconds
    return totals


def warm(base_url: str, requests: list[Request], users: int) -> None:
    """A short untimed run of each request, so every gunicorn worker has its connection."""
    for request in requests:
        load = run_users(base_url, [request], users, 2.0)[request.name]
        if load.errors or not load.sent:
            raise RuntimeError(f"warm-up {request.name}: {load.errors[:3] or 'no answer'}")
