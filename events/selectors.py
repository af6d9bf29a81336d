"""Reading the event stream: a caller sees its own client's events (staff see every client's),
in stream order."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from events.errors import EventNotFound
from events.models import ID_PREFIX, Event
from payouts.callers import Caller


def parse_event_id(value: object) -> uuid.UUID:
    """The uid an event id ("evt_" and 32 lowercase hex digits, as the API writes it) names, or
    EventNotFound."""
    text = value if isinstance(value, str) else ""
    digits = text.removeprefix(ID_PREFIX)
    if digits == text or len(digits) != 32 or digits.strip("0123456789abcdef"):
        raise EventNotFound()
    return uuid.UUID(hex=digits)


def event_list(caller: Caller) -> QuerySet[Event]:
    """The caller's events, oldest first: the order they were written in."""
    return Event.objects.filter(caller.scope()).order_by("position")


def event_get(caller: Caller, event_id: object) -> Event:
    try:
        return event_list(caller).get(uid=parse_event_id(event_id))
    except Event.DoesNotExist:
        raise EventNotFound() from None


def events_after(events: QuerySet[Event], caller: Caller, event_id: object) -> QuerySet[Event]:
    """The events of `events` written after the caller's event `event_id`: a catch-up read."""
    position = event_get(caller, event_id).position
    return events.filter(position__gt=position)
