"""The HTTP POST of one webhook: to the address checked for it, within one overall deadline.

httpx's timeouts bound each connect, read and write, so a receiver that drips its answer a byte
at a time could hold a worker for ever. The POST is made with httpcore (the engine under httpx)
over a network backend that clamps every socket operation to what is left of
TOTAL_TIMEOUT_SECONDS: a real deadline for the whole exchange.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import httpcore
import httpx

from webhooks.models import RESPONSE_BODY_MAX_LENGTH
from webhooks.targets import ResolvedTarget

# The bounds: a receiver gets 5 s to accept the connection and 15 s for everything.
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 15.0
USER_AGENT = "payout-service-webhooks/1.0"


@dataclass(frozen=True)
class Response:
    """What came back: a status and the start of the body, or the error that stopped it."""

    status: int | None
    body: str
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None, expired: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise expired(f"the {TOTAL_TIMEOUT_SECONDS:g} s deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: float) -> None:
        self._backend = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout(f"the {TOTAL_TIMEOUT_SECONDS:g} s deadline passed")
        timeout = left if timeout is None else min(timeout, left)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@cache
def _tls() -> ssl.SSLContext:
    # httpx's own: certifi's authorities, hostname checks on.
    return httpx.create_ssl_context()


def post(target: ResolvedTarget, body: bytes, headers: Mapping[str, str]) -> Response:
    """POST `body` to `target`, connecting to the addresses its check resolved (never resolving
    again, so DNS cannot be switched to another address between check and send), the next one
    only when a connection to the one before could not be made. Redirects are not followed;
    at most RESPONSE_BODY_MAX_LENGTH bytes of the answer are read.
    """
    deadline = time.monotonic() + TOTAL_TIMEOUT_SECONDS
    request_headers = [
        ("Host", target.host_header),
        ("User-Agent", USER_AGENT),
        ("Content-Type", "application/json"),
        *headers.items(),
    ]
    pool = httpcore.ConnectionPool(
        ssl_context=_tls(),
        max_keepalive_connections=0,
        network_backend=_DeadlineBackend(deadline),
    )
    try:
        for address in target.addresses[:-1]:
            try:
                return _exchange(pool, target, address, request_headers, body)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # nothing was sent: the next address may answer
        return _exchange(pool, target, target.addresses[-1], request_headers, body)
    except httpcore.TimeoutException as error:
        return Response(None, "", f"Timed out: {error or type(error).__name__}")
    except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
        return Response(None, "", f"{type(error).__name__}: {error}")
    finally:
        pool.close()


def _exchange(
    pool: httpcore.ConnectionPool,
    target: ResolvedTarget,
    address: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> Response:
    timeouts = {
        "connect": CONNECT_TIMEOUT_SECONDS,
        "read": TOTAL_TIMEOUT_SECONDS,
        "write": TOTAL_TIMEOUT_SECONDS,
        "pool": TOTAL_TIMEOUT_SECONDS,
    }
    extensions: dict[str, object] = {"timeout": timeouts}
    if target.scheme == "https":
        # The certificate is checked against the host name, not the address connected to.
        extensions["sni_hostname"] = target.host
    with pool.stream(
        "POST", target.connect_url(address), headers=headers, content=body, extensions=extensions
    ) as answer:
        start = bytearray()
        try:
            for chunk in answer.iter_stream():
                start += chunk
                if len(start) >= RESPONSE_BODY_MAX_LENGTH:
                    break
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError):
            # The status came within the deadline and stands; the body is what arrived.
            pass
    text = bytes(start[:RESPONSE_BODY_MAX_LENGTH]).decode("utf-8", errors="replace")
    # PostgreSQL's text cannot hold NUL: the record of the attempt would fail with it.
    return Response(answer.status, text.replace("\x00", "\ufffd"), "")
