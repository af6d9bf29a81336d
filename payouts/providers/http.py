"""The `http` adapter: Provider HTTP contract v1 (README), over one pooled httpx client."""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from payouts.models import FailureCode
from payouts.providers.base import (
    Declined,
    Instruction,
    Outcome,
    Paid,
    Rejected,
    Retryable,
    Unknown,
)

CONTRACT_PATH = "payouts"
# What is kept of a provider's words: codes and references verbatim up to the columns' size.
MAX_CODE_LENGTH = 100
MAX_REFERENCE_LENGTH = 255
MAX_MESSAGE_LENGTH = 1000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# httpcore looks at every connection of its pool on each request and each answer: with a
# thousand connections in one pool that scan was most of a greenlet consumer's time. 4,000
# requests from 1,000 greenlets to a 2 s provider, through this adapter: 121/s in one pool,
# 318/s in pools of 32, 346/s in pools of 16, 361/s in pools of 8.
CONNECTIONS_PER_POOL = 16
# Sent by a proxy in front of the gateway after it passed the request on: the gateway may
# have paid before the proxy gave up on it.
PROXY_ERRORS = (502, 504)
# Raised before a single byte of the request left: the provider cannot have acted on it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class HttpProvider:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @classmethod
    def from_settings(cls) -> HttpProvider:
        """One client per process, its pool as large as the consumer's worker count, so no
        worker waits for a connection another one holds."""
        workers: int = settings.HUEY_WORKERS
        headers = {"User-Agent": "payout-service (Provider HTTP contract v1)"}
        token: str = settings.PAYOUT_PROVIDER_TOKEN
        if token:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(
            base_url=settings.PAYOUT_PROVIDER_URL,
            headers=headers,
            timeout=settings.PAYOUT_PROVIDER_TIMEOUT_SECONDS,
            transport=PooledTransport(connections=workers),
            follow_redirects=False,
        )
        return cls(client)

    def send(self, instruction: Instruction) -> Outcome:
        body = {
            "payout_id": str(instruction.payout_id),
            "amount": f"{instruction.amount:.2f}",
            "currency": instruction.currency,
            "recipient": instruction.recipient,
            "attempt": instruction.attempt,
        }
        try:
            response = self.client.post(
                CONTRACT_PATH, json=body, headers={"Idempotency-Key": instruction.idempotency_key}
            )
        except NOT_SENT as error:
            return Retryable(f"The provider could not be reached: {_describe(error)}.")
        except httpx.RequestError as error:
            # Timed out, cut off or unreadable after the request went out: it may have paid.
            return Unknown(f"No answer from the provider: {_describe(error)}.")
        return outcome_of(response)


class PooledTransport(httpx.BaseTransport):
    """httpx's own transport, its connections spread over pools of CONNECTIONS_PER_POOL that
    requests take in turn, so that no request scans more than one small pool."""

    def __init__(self, connections: int) -> None:
        pools = max(math.ceil(connections / CONNECTIONS_PER_POOL), 1)
        # Room for twice a fair share: turns are even, the time requests hold them is not.
        per_pool = min(connections, 2 * CONNECTIONS_PER_POOL)
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        # One TLS context for every pool: each would otherwise load the CA bundle again.
        tls = httpx.create_ssl_context()
        self.pools = [httpx.HTTPTransport(verify=tls, limits=limits) for _ in range(pools)]
        self._turns = itertools.cycle(self.pools)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return next(self._turns).handle_request(request)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


def outcome_of(response: httpx.Response) -> Outcome:
    """What a provider's answer means, by contract v1."""
    status = response.status_code
    answer = _json_object(response)
    message = _text(answer.get("message"), MAX_MESSAGE_LENGTH)
    said = f"HTTP {status}" + (f": {message}" if message else "")
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status in (200, 201):
        reference = _text(answer.get("provider_reference"), MAX_REFERENCE_LENGTH)
        if answer.get("status") == "paid" and reference:
            return Paid(provider_reference=reference)
        return Unknown(f"HTTP {status} without a paid status and a provider_reference.")
    if status in (402, 422) and answer.get("status") == "declined":
        code = _text(answer.get("code"), MAX_CODE_LENGTH) or FailureCode.PROVIDER_DECLINED
        return Declined(code=code, message=message or f"Declined by the provider (HTTP {status}).")
    if status == 409:
        return Unknown(f"{said} (an earlier attempt is still running there)", retry_after)
    if status in PROXY_ERRORS:
        return Unknown(f"{said} (a proxy's answer: the provider behind it may have paid)")
    if status == 429 or status >= 500:
        return Retryable(said, retry_after)
    if 400 <= status < 500:
        return Rejected(f"The provider rejected it: {said}")
    # Any other 2xx (202: accepted for later) may still pay; a 1xx or 3xx did nothing yet.
    if 200 <= status < 300:
        return Unknown(f"{said} is not an answer contract v1 defines.")
    return Retryable(f"{said} is not an answer contract v1 defines.")


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header's wait in seconds (a number, or an HTTP date), as the provider
    said it; None if unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - (now or datetime.now(tz=UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    # How long the task then waits, at most PAYOUT_RETRY_MAX_DELAY_SECONDS, is its decision.
    return max(seconds, 0.0)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = json.loads(response.content)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _text(value: object, limit: int) -> str:
    """A provider's string as the database can store it: no NUL or other control characters
    (PostgreSQL refuses NUL), no lone surrogates (UTF-8 cannot encode them)."""
    if not isinstance(value, str):
        return ""
    storable = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return CONTROL_CHARACTERS.sub("", storable).strip()[:limit]


def _describe(error: httpx.RequestError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
