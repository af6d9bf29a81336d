"""A payout as clients see it: the REST API's body, and the `data` of its events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from payouts.models import Payout


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the REST API writes every time."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def payout_document(payout: Payout) -> dict[str, Any]:
    """The payout's fields as JSON-ready values, in the REST API's order and form."""
    return {
        "id": str(payout.id),
        "amount": f"{payout.amount:.2f}",
        "currency": payout.currency,
        "recipient_details": payout.recipient_details,
        "status": payout.status,
        "description": payout.description,
        "reference": payout.reference,
        "metadata": payout.metadata,
        "failure_code": payout.failure_code,
        "failure_reason": payout.failure_reason,
        "provider_reference": payout.provider_reference,
        "created_at": timestamp(payout.created_at),
        "updated_at": timestamp(payout.updated_at),
    }
