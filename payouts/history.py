"""What a payout's history records about an edit: each changed field, before and after, masked."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from payouts.models import Payout

MASK = "••••"
# How many trailing characters of a recipient value stay readable, as on a bank statement.
VISIBLE_TAIL = 4


def _masked(value: Any) -> str:
    """Hide a recipient value, keeping only the tail of a long string to tell two apart."""
    if isinstance(value, str) and len(value) > 2 * VISIBLE_TAIL:
        return MASK + value[-VISIBLE_TAIL:]
    return MASK


def _masked_recipient(details: Mapping[str, Any]) -> dict[str, str]:
    """recipient_details with every value masked: account numbers never reach the history."""
    return {str(key): _masked(value) for key, value in details.items()}


def _shown(field: str, value: Any) -> Any:
    if field == "recipient_details":
        return _masked_recipient(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def edit_changes(payout: Payout, changed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The `changes` of an update event: {field: {"from": old, "to": new}} for each field."""
    return {
        field: {"from": _shown(field, getattr(payout, field)), "to": _shown(field, value)}
        for field, value in changed.items()
    }
