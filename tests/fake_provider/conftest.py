"""A fake provider served from a thread per test, and a helper that posts payouts to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from fake_provider.server import Config, start_in_thread

ACCOUNT = "NL91ABNA0417164300"


def new_key() -> str:
    return str(uuid.uuid4())


def payout_body(key: str, account: str = ACCOUNT, **changes: Any) -> dict[str, Any]:
    body = {
        "payout_id": key,
        "amount": "10.00",
        "currency": "EUR",
        "recipient": {"name": "Ada", "account_number": account},
        "attempt": 1,
    }
    return {**body, **changes}


def post_payout(
    client: httpx.Client, key: str, account: str = ACCOUNT, **changes: Any
) -> httpx.Response:
    return client.post(
        "/payouts", json=payout_body(key, account, **changes), headers={"Idempotency-Key": key}
    )


@pytest.fixture
def start_provider() -> Iterator[Callable[..., httpx.Client]]:
    """Start a fake provider with the given Config options; returns a client for it."""
    started: list[tuple[httpx.Client, Callable[[], None]]] = []

    def start(**options: Any) -> httpx.Client:
        url, stop = start_in_thread(Config(**options))
        client = httpx.Client(base_url=url, timeout=5)
        started.append((client, stop))
        return client

    yield start
    for client, stop in started:
        client.close()
        stop()


@pytest.fixture
def provider(start_provider: Callable[..., httpx.Client]) -> httpx.Client:
    return start_provider()
