"""Live updates over WebSocket: one payout's changes (payoutUpdated), and every change of the
caller's payouts (payoutEvents), both read from the event stream that webhooks deliver."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings

from events import selectors as event_selectors
from events.broadcast import EVERY_CLIENT_GROUP, client_group, payout_group
from events.documents import event_document
from events.models import Event, EventType
from events.relay import stream_key_of
from graphql_api.context import caller_of, live_connection
from graphql_api.types import CurrencyEnum, PayoutStatusEnum, PayoutType, payout_id_from_global_id
from payouts.callers import Caller
from payouts.documents import payout_from_document
from payouts.errors import PayoutNotFound
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


def _events_after(caller: Caller, after: object) -> tuple[list[Event], tuple[int, int]]:
    """The caller's first events after its event `after`, and that event's stream key."""
    cursor = event_selectors.event_get(caller, after)
    key = event_selectors.stream_key(cursor)
    return _events_following(caller, key), key


def _events_following(caller: Caller, key: tuple[int, int]) -> list[Event]:
    """The caller's next events (settled, in stream order) after the stream key `key`."""
    following = event_selectors.events_following(event_selectors.event_list(caller), key)
    return list(following[:REPLAY_BATCH])


def _groups_of(caller: Caller) -> list[str]:
    if caller.sees_every_client:
        return [EVERY_CLIENT_GROUP]
    assert caller.client is not None
    return [client_group(caller.client.pk)]


def _is_callers(caller: Caller, message: dict[str, Any]) -> bool:
    """Whether an announcement is of the caller's payouts. Every subscription of a connection
    hears what any of them listens to, so each keeps its own."""
    return caller.sees_every_client or (
        caller.client is not None and message["client"] == caller.client.pk
    )


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
        # Whose it is first: another client's subscription joins nothing.
        await _read(event_selectors.payout_with_last_sequence, caller, payout_id)
        seen = -1
        while True:
            async with live_connection(info).events(
                [payout_group(payout_id)], timeout=settings.LIVE_RESYNC_SECONDS
            ) as messages:
                # Read once listening: a change committed in between is both read and heard,
                # and its sequence tells which. Read again after a silence, in case an
                # announcement was lost on the way.
                try:
                    payout, last = await _read(
                        event_selectors.payout_with_last_sequence, caller, payout_id
                    )
                except PayoutNotFound:
                    return  # deleted while nothing was heard
                if last > seen:
                    seen = last
                    yield cast("PayoutType", payout)
                    if payout.status in FINAL_STATUSES:
                        return
                async for message in messages:
                    document = message["event"]
                    if message["payout"] != payout_id.hex or document["sequence"] <= seen:
                        continue
                    changes = [document]
                    if document["sequence"] > seen + 1:
                        # A payout's changes can reach the stream out of their order (a write
                        # that began earlier waited for the row's lock): read the ones between.
                        missed = await _read(
                            event_selectors.payout_events_between,
                            caller,
                            payout_id,
                            seen,
                            document["sequence"],
                        )
                        changes = [*_documents(missed), document]
                    for change in changes:
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
        key: tuple[int, int] | None = None
        if after is not None:
            # What the caller missed, read before listening: a long replay fills no buffer.
            batch, key = await _read(_events_after, caller, after)
            while batch:
                for event in batch:
                    if criteria.matches(payout_from_document(event.data)):
                        yield _event_of(event_document(event))
                key = event_selectors.stream_key(batch[-1])
                batch = (
                    await _read(_events_following, caller, key)
                    if len(batch) == REPLAY_BATCH
                    else []
                )
        while True:
            async with live_connection(info).events(
                _groups_of(caller), timeout=settings.LIVE_RESYNC_SECONDS
            ) as messages:
                # Listening now: what settled before is read, what settles after is heard.
                if key is None:
                    key = await _read(event_selectors.last_settled_key)
                else:
                    batch = await _read(_events_following, caller, key)
                    while batch:
                        for event in batch:
                            if criteria.matches(payout_from_document(event.data)):
                                yield _event_of(event_document(event))
                        key = event_selectors.stream_key(batch[-1])
                        batch = await _read(_events_following, caller, key)
                # Announced in stream order: anything at or before the key was sent already.
                async for message in messages:
                    if not _is_callers(caller, message):
                        continue
                    announced = stream_key_of(message)
                    if announced <= key:
                        continue
                    key = announced
                    live = _event_of(message["event"])
                    if criteria.matches(cast("Payout", live.payout)):
                        yield live
