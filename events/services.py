"""Writing the event stream: one event per change a client can see, in the change's own
transaction, announced once that commits."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max

from events.models import Event, EventType
from events.signals import event_committed
from payouts.documents import payout_document
from payouts.models import Payout, PayoutEventKind, PayoutStatus

logger = logging.getLogger(__name__)

# The history entries a client sees as events. Attempts after the first (the payout stays
# PROCESSING), releases, extensions and re-enqueues change nothing the REST API shows.
_TYPE_OF_KIND = {
    PayoutEventKind.CREATED: EventType.CREATED,
    PayoutEventKind.PROCESSING: EventType.PROCESSING,
    PayoutEventKind.COMPLETED: EventType.COMPLETED,
    PayoutEventKind.FAILED: EventType.FAILED,
    PayoutEventKind.UPDATED: EventType.UPDATED,
    PayoutEventKind.DELETED: EventType.DELETED,
}


def event_type_of(kind: str, from_status: str) -> EventType | None:
    """The event a history entry of this kind, from this status, is seen as; None if none."""
    if kind == PayoutEventKind.PROCESSING and from_status == PayoutStatus.PROCESSING:
        return None
    return _TYPE_OF_KIND.get(PayoutEventKind(kind))


def event_record(payout: Payout, event_type: EventType) -> Event:
    """Append the event of a change of `payout`, which holds its new state.

    Call it inside the change's transaction, holding the payout's row lock (or having just
    inserted it): the lock orders its events, so `sequence` counts up without gaps, and the
    unique constraint on (payout, sequence) refuses anything else.
    """
    if event_type == EventType.CREATED:
        sequence = 1
    else:
        latest = Event.objects.filter(payout=payout).aggregate(latest=Max("sequence"))["latest"]
        sequence = (latest or 0) + 1
    event = Event.objects.create(
        client_id=payout.client_id,
        payout=payout,
        type=event_type,
        sequence=sequence,
        data=payout_document(payout),
    )
    transaction.on_commit(lambda: _announce(event))
    return event


def _announce(event: Event) -> None:
    for receiver, result in event_committed.send_robust(sender=Event, event=event):
        if isinstance(result, Exception):
            logger.error(
                "Event %s: %s failed (%s); the webhooks sweep will deliver it",
                event.public_id,
                getattr(receiver, "__qualname__", receiver),
                result,
                exc_info=result,
            )
