"""Live updates over WebSocket: one payout's changes (payoutUpdated), and every change of the
caller's payouts (payoutEvents), both read from the event stream that webhooks deliver."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import strawberry
from channels.db import database_sync_to_async

from events import selectors as event_selectors
from events.broadcast import EVERY_CLIENT_GROUP, client_group, payout_group
from events.documents import event_document
from events.models import Event, EventType
from graphql_api.context import caller_of, live_connection
from graphql_api.types import CurrencyEnum, PayoutStatusEnum, PayoutType, payout_id_from_global_id
from payouts.callers import Caller
from payouts.documents import payout_from_document
from payouts.models import Payout
from payouts.selectors import PayoutCriteria
from payouts.states import FINAL_STATUSES
from payouts.validation import parse_amount

if TYPE_CHECKING:
    PayoutEventTypeEnum = EventType
else:
    PayoutEventTypeEnum = strawberry.enum(
        EventType,
        name="PayoutEventType",
        description="What changed; webhooks and GET /api/events/ name it payout.<lower case>.",
    )

# The events a replay reads at a time.
REPLAY_BATCH = 200

P = ParamSpec("P")
R = TypeVar("R")


async def _read(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A selector's answer, read in a worker thread (the ORM is synchronous), which gives its
    database connection back when done."""
    read = database_sync_to_async(function, thread_sensitive=False)
    return await read(*args, **kwargs)


@strawberry.type(
    name="PayoutEvent",
    description="A change of a payout: the event webhooks deliver and GET /api/events/ lists.",
)
class PayoutEventType:
    id: strawberry.ID = strawberry.field(description="The event's id (evt_…), for `after`.")
    type: PayoutEventTypeEnum
    sequence: int = strawberry.field(
        description="The payout's own count of its events: 1, 2, 3… in the order they happened."
    )
    timestamp: datetime
    payout: PayoutType = strawberry.field(description="The payout as this change left it.")


@strawberry.input(
    name="PayoutEventFilter",
    description=(
        "Which payouts' changes to receive, judged on the payout as the change left it: every "
        "condition given must hold."
    ),
)
class PayoutEventFilter:
    status: list[PayoutStatusEnum] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    currency: list[CurrencyEnum] | None = strawberry.field(
        default=None, description="Any of these currencies."
    )
    min_amount: Decimal | None = strawberry.field(
        default=None, description="An amount greater than or equal to this."
    )
    max_amount: Decimal | None = strawberry.field(
        default=None, description="An amount less than or equal to this."
    )

    def criteria(self) -> PayoutCriteria:
        """The filter as the domain reads it: amounts as REST reads min_amount and max_amount."""
        return PayoutCriteria(
            statuses=None if self.status is None else frozenset(self.status),
            currencies=None if self.currency is None else frozenset(self.currency),
            min_amount=None if self.min_amount is None else parse_amount(self.min_amount),
            max_amount=None if self.max_amount is None else parse_amount(self.max_amount),
        )


def _event_of(document: dict[str, Any]) -> PayoutEventType:
    return PayoutEventType(
        id=strawberry.ID(document["id"]),
        type=EventType(document["type"]),
        sequence=document["sequence"],
        timestamp=datetime.fromisoformat(document["timestamp"]),
        payout=cast("PayoutType", payout_from_document(document["data"])),
    )


def _documents(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [event_document(event) for event in events]


def _replay_batch(caller: Caller, after: object, key: tuple[int, int] | None) -> list[Event]:
    """The caller's next events of a replay: after the event `after`, then after `key`."""
    events = event_selectors.event_list(caller)
    if key is None:
        following = event_selectors.events_after(events, caller, after)
    else:
        following = event_selectors.events_following(events, key)
    return list(following[:REPLAY_BATCH])


def _groups_of(caller: Caller) -> list[str]:
    if caller.sees_every_client:
        return [EVERY_CLIENT_GROUP]
    assert caller.client is not None
    return [client_group(caller.client.pk)]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "A payout as it is now, then after each change, until it is COMPLETED or FAILED "
            "(the last payout sent) or deleted (nothing more is sent); then the subscription "
            "completes. An error when the id names no payout of yours."
        )
    )
    async def payout_updated(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> AsyncGenerator[PayoutType, None]:
        caller = caller_of(info)
        payout_id = payout_id_from_global_id(id)
        async with live_connection(info).events([payout_group(payout_id)]) as messages:
            # Read once listening: a change committed in between is both read and heard, and
            # its sequence tells which.
            payout, seen = await _read(event_selectors.payout_with_last_sequence, caller, payout_id)
            yield cast("PayoutType", payout)
            if payout.status in FINAL_STATUSES:
                return
            async for message in messages:
                document = message["event"]
                if document["sequence"] <= seen:
                    continue
                # Announcements of one payout can arrive out of order (they come from the web
                # process and the consumer): the stream has the ones between.
                missed = await _read(
                    event_selectors.payout_events_between,
                    caller,
                    payout_id,
                    seen,
                    document["sequence"],
                )
                for change in [*_documents(missed), document]:
                    seen = change["sequence"]
                    if change["type"] == EventType.DELETED:
                        return
                    payout = payout_from_document(change["data"])
                    yield cast("PayoutType", payout)
                    if payout.status in FINAL_STATUSES:
                        return

    @strawberry.subscription(
        description=(
            "Every change of your payouts (every client's for staff) that the filter matches, "
            "as it happens. With `after` (an event id), first the events after it that you "
            "missed, in stream order, then the new ones: a reconnecting client loses nothing."
        )
    )
    async def payout_events(
        self,
        info: strawberry.Info,
        filters: PayoutEventFilter | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[PayoutEventType, None]:
        caller = caller_of(info)
        criteria = filters.criteria() if filters is not None else PayoutCriteria()
        async with live_connection(info).events(_groups_of(caller)) as messages:
            # The last sequence replayed of each payout: a replayed event may be heard too.
            replayed: dict[uuid.UUID, int] = {}
            if after is not None:
                key = None
                while True:
                    batch = await _read(_replay_batch, caller, after, key)
                    for event in batch:
                        replayed[event.payout_id] = event.sequence
                        if criteria.matches(_payout_of_event(event)):
                            yield _event_of(_documents([event])[0])
                    if len(batch) < REPLAY_BATCH:
                        break
                    key = event_selectors.stream_key(batch[-1])
            async for message in messages:
                document = message["event"]
                payout_key = uuid.UUID(hex=message["payout"])
                if document["sequence"] <= replayed.get(payout_key, 0):
                    continue
                live = _event_of(document)
                if criteria.matches(cast("Payout", live.payout)):
                    yield live


def _payout_of_event(event: Event) -> Payout:
    return payout_from_document(event.data)
