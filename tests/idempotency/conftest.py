"""What the idempotency tests share: the key they send and the tasks a request enqueued."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from idempotency.models import IdempotencyKey
from payouts import tasks

KEY = "order-1234-payout"


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The payout ids whose processing was enqueued."""
    calls: list[str] = []
    monkeypatch.setattr(
        tasks, "enqueue_processing", lambda payout_id, **kwargs: calls.append(str(payout_id))
    )
    return calls


def expire_keys(settings: Any) -> None:
    """Age every stored key past PAYOUT_IDEMPOTENCY_TTL_HOURS."""
    past_ttl = timedelta(hours=settings.PAYOUT_IDEMPOTENCY_TTL_HOURS, seconds=1)
    IdempotencyKey.objects.update(created_at=timezone.now() - past_ttl)
