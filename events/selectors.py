"""Reading the event stream: a caller sees its own client's events (staff see every client's),
in stream order."""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, Q, QuerySet, Subquery

from events.errors import EventNotFound
from events.models import ID_PREFIX, Event
from events.transactions import settled
from payouts.callers import Caller
from payouts.errors import PayoutNotFound
from payouts.models import Payout
from payouts.selectors import payout_list

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


def stream_key(event: Event) -> tuple[int, int]:
    """Where an event stands in the stream: what the events after it follow."""
    return (event.transaction_id, event.position)


def events_following(events: QuerySet[Event], key: tuple[int, int]) -> QuerySet[Event]:
    """The events of `events` that follow the stream key `key` in stream order."""
    transaction_id, position = key
    later = Q(transaction_id__gt=transaction_id) | Q(
        transaction_id=transaction_id, position__gt=position
    )
    # The first condition alone starts the index range at the cursor; the second picks in it.
    return events.filter(transaction_id__gte=transaction_id).filter(later)


def events_after(events: QuerySet[Event], caller: Caller, event_id: object) -> QuerySet[Event]:
    """The events of `events` that follow the caller's event `event_id` in stream order: a
    catch-up read."""
    return events_following(events, stream_key(event_get(caller, event_id)))


def every_settled_event() -> QuerySet[Event]:
    """Every client's events a reader may be shown, in stream order (what a relay reads)."""
    return Event.objects.filter(settled()).order_by(*STREAM_ORDER)


def last_settled_key() -> tuple[int, int]:
    """The stream key of the newest event a reader may be shown; (0, 0) for an empty stream."""
    last = every_settled_event().reverse().values_list(*STREAM_ORDER).first()
    return last if last is not None else (0, 0)


def payout_with_last_sequence(caller: Caller, payout_id: uuid.UUID) -> tuple[Payout, int]:
    """The caller's payout and the sequence of the last event it has had, read by one statement
    (one snapshot): every later event of the payout has a higher sequence."""
    last = Event.objects.filter(payout=OuterRef("pk")).order_by("-sequence").values("sequence")
    payout = (
        payout_list(caller).annotate(last_sequence=Subquery(last[:1])).filter(pk=payout_id).first()
    )
    if payout is None:
        raise PayoutNotFound()
    return payout, payout.last_sequence or 0


def payout_events_between(
    caller: Caller, payout_id: uuid.UUID, after: int, before: int
) -> list[Event]:
    """The caller's events of one payout with a sequence strictly between `after` and `before`.

    Those before an event that has committed have committed too: a payout's events are written
    under its row lock, one transaction after the other."""
    return list(
        Event.objects.filter(caller.scope())
        .filter(payout_id=payout_id, sequence__gt=after, sequence__lt=before)
        .order_by("sequence")
    )
