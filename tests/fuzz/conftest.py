"""Shared set-up of the fuzz runs: example budget, fixed seed and payouts with well-known ids."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from schemathesis import Config

from payouts.models import Payout, PayoutStatus
from tests.conftest import KeyHolder, payout_payload

# `make fuzz` raises the budget; the bounded run in the normal suite keeps it small.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20251203"))

# One payout in each status, with ids the fuzzers also draw, so edits and reads reach real rows.
KNOWN_PAYOUT_IDS: dict[str, uuid.UUID] = {
    status: uuid.UUID(int=index + 1) for index, status in enumerate(PayoutStatus.values)
}


def fuzz_config() -> Config:
    return Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
        }
    )


@pytest.fixture
def known_payouts(owner: KeyHolder) -> dict[str, Payout]:
    payouts: dict[str, Payout] = {}
    for status, payout_id in KNOWN_PAYOUT_IDS.items():
        fields: dict[str, Any] = payout_payload()
        if status == PayoutStatus.FAILED:
            fields["failure_code"] = "insufficient_funds"
            fields["failure_reason"] = "Failed after 1 attempt(s): declined"
        attempts = 0 if status == PayoutStatus.PENDING else 1
        payouts[status] = Payout.objects.create(
            id=payout_id,
            client=owner.client,
            status=status,
            attempts=attempts,
            max_attempts=4,
            **fields,
        )
    return payouts


@pytest.fixture(autouse=True)
def _quiet_client_errors(caplog: pytest.LogCaptureFixture) -> None:
    """Thousands of expected 4xx warnings would bury the one 5xx a failure report needs."""
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Keep the test's database connection across requests, as Django's test client does.

    Schemathesis calls the WSGI application directly, so Django's end-of-request hook would close
    the connection that holds the test transaction (on PostgreSQL; SQLite's in-memory one stays).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
