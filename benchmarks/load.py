"""A lean HTTP/1.1 load generator for loopback runs, bounded in requests and in time.

It shares two cores with the server it measures, so it does the least a client can: one
pre-built request, one connection per request (gunicorn's sync workers close each one), and the
status line read back. Every target of a comparison goes through this same client.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    # A header sent with a value no other request has (an Idempotency-Key, as a client sends
    # one per payout): the request is then built anew for each send.
    unique_header: str = ""

    def encode(self, host: str, port: int) -> bytes:
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Connection: close",
            "Accept: application/json",
        ]
        if self.body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.unique_header:
            lines.append(f"{self.unique_header}: {uuid.uuid4()}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def require(self, expected_status: int, what: str) -> None:
        """Fail loudly unless every answer had the expected status and at least one came.

        Timed refusals (a 401 for a missing key, a 429) would make a figure that measures
        nothing. A request that got no answer at all stays an error in the report.
        """
        others = {status: n for status, n in self.statuses.items() if status != expected_status}
        if others or not self.latencies:
            raise RuntimeError(
                f"{what}: expected every answer to be {expected_status}, got "
                f"{self.statuses or 'no answer'} ({self.errors} errors)"
            )


def parse_response(raw: bytes) -> HttpResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return HttpResponse(status=int(parts[1]), headers=headers, body=body)


async def send(host: str, port: int, raw_request: bytes) -> HttpResponse:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw_request)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    return parse_response(raw)


async def _timed_send(
    host: str, port: int, raw: bytes, result: LoadResult, expected_status: int
) -> None:
    """Send one request and add its latency, or an error, to `result`."""
    begin = time.perf_counter()
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancellation that
        # Ctrl-C sends, and the run would go on.
        async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
            response = await send(host, port, raw)
    except (OSError, ValueError, TimeoutError):
        result.errors += 1
        return
    elapsed = time.perf_counter() - begin
    result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
    if response.status == expected_status:
        result.latencies.append(elapsed)
    else:
        result.errors += 1


def run_load(
    host: str,
    port: int,
    request: HttpRequest,
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    expected_status: int = 200,
) -> LoadResult:
    """Send from `concurrency` clients until max_requests were sent or max_seconds passed."""
    raw = request.encode(host, port)
    result = LoadResult()
    issued = 0

    async def client(deadline: float) -> None:
        nonlocal issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            if request.unique_header:
                await _timed_send(host, port, request.encode(host, port), result, expected_status)
            else:
                await _timed_send(host, port, raw, result, expected_status)

    async def load() -> None:
        started = time.perf_counter()
        await asyncio.gather(*(client(started + max_seconds) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started

    asyncio.run(load())
    return result


def run_alternating(
    host: str, port: int, requests: list[HttpRequest], *, rounds: int, max_seconds: float
) -> list[LoadResult]:
    """One client sending each request in turn, `rounds` times or until max_seconds passed.

    Requests compared with each other take turns, so a slow spell of the machine lands on all
    of them alike instead of on whichever happened to be measured then.
    """
    raws = [request.encode(host, port) for request in requests]
    results = [LoadResult() for _ in requests]

    async def alternate() -> None:
        started = time.perf_counter()
        done = 0
        while done < rounds and time.perf_counter() < started + max_seconds:
            done += 1
            for raw, result in zip(raws, results, strict=True):
                await _timed_send(host, port, raw, result, expected_status=200)
        for result in results:
            result.seconds = time.perf_counter() - started

    asyncio.run(alternate())
    return results


async def _fetch(host: str, port: int, request: HttpRequest) -> HttpResponse:
    async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
        return await send(host, port, request.encode(host, port))


def fetch(host: str, port: int, request: HttpRequest) -> HttpResponse:
    """One request, for probes and readiness checks."""
    return asyncio.run(_fetch(host, port, request))


def fetch_expecting(host: str, port: int, request: HttpRequest, status: int) -> HttpResponse:
    """One request that must answer `status`; otherwise fail, showing what the server said."""
    response = fetch(host, port, request)
    if response.status != status:
        raise RuntimeError(
            f"{request.method} {request.path} answered {response.status}, not {status}: "
            f"{response.body[:500]!r}"
        )
    return response
