"""Fixtures of the payouts domain's tests: captured task messages, payouts aged by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts.models import Payout


def age(payout: Payout, seconds: float) -> None:
    """Pretend the payout was last touched `seconds` ago."""
    Payout.objects.filter(pk=payout.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.fixture
def enqueued(monkeypatch):
    """Capture the task messages the services enqueue instead of running them."""
    messages: list = []
    monkeypatch.setattr(HUEY, "enqueue", messages.append)
    return messages
