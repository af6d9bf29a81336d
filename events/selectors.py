"""Reading the event stream: a caller sees its own client's events (staff see every client's),
in stream order."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from events.errors import EventNotFound
from events.models import ID_PREFIX, Event
from events.transactions import settled
from payouts.callers import Caller

STREAM_ORDER = ("transaction_id", "position")


def parse_event_id(value: object) -> uuid.UUID:
    """The uid an event id ("evt_" and 32 lowercase hex digits, as the API writes it) names, or
    EventNotFound."""
    text = value if isinstance(value, str) else ""
    digits = text.removeprefix(ID_PREFIX)
    if digits == text or len(digits) != 32 or digits.strip("0123456789abcdef"):
        raise EventNotFound()
    return uuid.UUID(hex=digits)


def event_list(caller: Caller) -> QuerySet[Event]:
    """The caller's events in stream order, oldest first: only those no running transaction
    can still precede (events.transactions), so reading on from the last one never skips."""
    return Event.objects.filter(caller.scope()).filter(settled()).order_by(*STREAM_ORDER)


def event_get(caller: Caller, event_id: object) -> Event:
    try:
        return Event.objects.filter(caller.scope()).get(uid=parse_event_id(event_id))
    except Event.DoesNotExist:
        raise EventNotFound() from None


def events_after(events: QuerySet[Event], caller: Caller, event_id: object) -> QuerySet[Event]:
    """The events of `events` that follow the caller's event `event_id` in stream order: a
    catch-up read."""
    event = event_get(caller, event_id)
    later = Q(transaction_id__gt=event.transaction_id) | Q(
        transaction_id=event.transaction_id, position__gt=event.position
    )
    # The first condition alone starts the index range at the cursor; the second picks in it.
    return events.filter(transaction_id__gte=event.transaction_id).filter(later)
