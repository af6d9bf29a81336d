"""A payout as clients see it: the REST API's body, and the `data` of its events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
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


def payout_from_document(document: dict[str, Any]) -> Payout:
    """The payout a document shows, as it stood when the document was written: an unsaved
    instance to render (an event's payout), never to save."""
    return Payout(
        id=uuid.UUID(document["id"]),
        amount=Decimal(document["amount"]),
        currency=document["currency"],
        recipient_details=document["recipient_details"],
        status=document["status"],
        description=document["description"],
        reference=document["reference"],
        metadata=document["metadata"],
        failure_code=document["failure_code"],
        failure_reason=document["failure_reason"],
        provider_reference=document["provider_reference"],
        created_at=datetime.fromisoformat(document["created_at"]),
        updated_at=datetime.fromisoformat(document["updated_at"]),
    )
