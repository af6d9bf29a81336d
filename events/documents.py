"""An event as clients see it: the body of its webhook and of GET /api/events/."""

from __future__ import annotations

from typing import Any

from events.models import Event
from payouts.documents import timestamp


def event_document(event: Event) -> dict[str, Any]:
    return {
        "id": event.public_id,
        "type": event.type,
        "timestamp": timestamp(event.created_at),
        "sequence": event.sequence,
        "data": event.data,
    }
