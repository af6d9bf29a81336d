"""The payment provider: one call, "send this payout", and the four outcomes it can have.

`PAYOUT_PROVIDER` picks the adapter: `simulated` (a delay and a failure rate, the default) or
`http` (Provider HTTP contract v1, in the README). Tasks call `send()`; nothing else in the
service knows which adapter runs.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from payouts.providers.base import (
    Declined,
    Instruction,
    Outcome,
    Paid,
    Provider,
    Rejected,
    Retryable,
    Unknown,
)

__all__ = [
    "Declined",
    "Instruction",
    "Outcome",
    "Paid",
    "Provider",
    "Rejected",
    "Retryable",
    "Unknown",
    "current_provider",
]


_built: list[Provider] = []
# Workers that ask at once wait for the first to build it: building one per thread (64 threads
# built 64 http adapters in 2.8 s) cost a thread consumer its whole first round.
_building = threading.Lock()


def current_provider() -> Provider:
    """The adapter PAYOUT_PROVIDER names: one per process, so the http adapter's connection
    pool is shared by every worker of the consumer."""
    if not _built:
        with _building:
            if not _built:
                _built.append(_build())
    return _built[0]


def _build() -> Provider:
    if settings.PAYOUT_PROVIDER == "http":
        from payouts.providers.http import HttpProvider

        return HttpProvider.from_settings()
    from payouts.providers.simulated import SimulatedProvider

    return SimulatedProvider()


def _forget_provider(*, setting: str, **_: Any) -> None:
    # Tests switch adapters with the settings fixture; a real process never changes them.
    if setting.startswith("PAYOUT_PROVIDER") or setting == "HUEY_WORKERS":
        _built.clear()


setting_changed.connect(_forget_provider)
