"""Live updates over WebSocket: one payout's changes (payoutUpdated), and every change of the
caller's payouts (payoutEvents), both read from the event stream that webhooks deliver."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import strawberry
from django.conf import settings

from events import selectors as event_selectors
from events.broadcast import EVERY_CLIENT_GROUP, client_group, payout_group
from events.documents import event_document
from events.models import Event, EventType
from events.relay import missed_before, stream_key_of
from graphql_api.context import caller_of, live_connection
from graphql_api.execution import SharedResults
from graphql_api.types import CurrencyEnum, PayoutStatusEnum, PayoutType, payout_id_from_global_id
from payouts.callers import Caller
from payouts.documents import payout_from_document
from payouts.errors import PayoutNotFound
from payouts.models import Payout
from payouts.selectors import PayoutCriteria
from payouts.states import FINAL_STATUSES
from payouts.validation import parse_amount
from project.orm import in_thread

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
    # Its results for each document that asked for it (graphql_api.execution).
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(
        default_factory=SharedResults
    )


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


# The events heard lately, each as one object for every subscriber of this process: executed
# once for all the subscriptions that asked for it in the same words (graphql_api.execution).
_heard: OrderedDict[str, PayoutEventType] = OrderedDict()
HEARD_MAX = 1_000


def _heard_event(document: dict[str, Any]) -> PayoutEventType:
    event = _heard.get(document["id"])
    if event is None:
        event = _heard[document["id"]] = _event_of(document)
        if len(_heard) > HEARD_MAX:
            _heard.popitem(last=False)
    return event


def _documents(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [event_document(event) for event in events]


def _stream_key_of(caller: Caller, event_id: object) -> tuple[int, int]:
    """Where the caller's event `event_id` stands in the stream (EventNotFound if nowhere)."""
    return event_selectors.stream_key(event_selectors.event_get(caller, event_id))


def _events_following(caller: Caller, key: tuple[int, int]) -> list[Event]:
    """The caller's next events (settled, in stream order) after the stream key `key`."""
    following = event_selectors.events_following(event_selectors.event_list(caller), key)
    return list(following[:REPLAY_BATCH])


async def _read_on(
    caller: Caller, key: tuple[int, int]
) -> AsyncGenerator[tuple[tuple[int, int], PayoutEventType], None]:
    """The caller's events after the stream key `key`, read batch after batch to the end, each
    with its own key."""
    while True:
        batch = await in_thread(_events_following, caller, key)
        for event in batch:
            yield event_selectors.stream_key(event), _heard_event(event_document(event))
        if len(batch) < REPLAY_BATCH:
            return
        key = event_selectors.stream_key(batch[-1])


@dataclasses.dataclass
class _Change:
    payout: Payout
    sequence_seen: int

    @property
    def final(self) -> bool:
        return self.payout.status in FINAL_STATUSES


async def _changes_up_to(
    caller: Caller,
    payout_id: uuid.UUID,
    seen: int,
    before: int,
    heard: dict[str, Any] | None,
) -> AsyncGenerator[_Change | None, None]:
    """The payout's changes after `seen` and before `before`, read from the stream, then the
    one heard (if any), in sequence order; None for a deletion (nothing follows it)."""
    documents = []
    if before > seen + 1:
        missed = await in_thread(
            event_selectors.payout_events_between, caller, payout_id, seen, before
        )
        documents = _documents(missed)
    for document in [*documents, *([heard] if heard is not None else [])]:
        if document["type"] == EventType.DELETED:
            yield None
            return
        yield _Change(payout_from_document(document["data"]), document["sequence"])


async def _changes_after(
    caller: Caller,
    payout_id: uuid.UUID,
    seen: int,
    last: int,
    messages: AsyncGenerator[dict[str, Any], None],
) -> AsyncGenerator[_Change | None, None]:
    """The payout's changes after sequence `seen`: those up to `last` read from the stream, then
    those heard, completed from the stream when heard out of order (a write that began earlier
    waited for the row's lock); None for a deletion."""
    async for change in _changes_up_to(caller, payout_id, seen, last + 1, None):
        yield change
        if change is None:
            return
        seen = change.sequence_seen
    async for message in messages:
        document = message["event"]
        if message["payout"] != payout_id.hex or document["sequence"] <= seen:
            continue
        async for change in _changes_up_to(caller, payout_id, seen, document["sequence"], document):
            yield change
            if change is None:
                return
            seen = change.sequence_seen


def _resync_seconds() -> float:
    """How long a subscription listens before it reads the stream itself; spread, so that the
    subscriptions of a reconnecting crowd do not all read at once."""
    seconds: float = settings.LIVE_RESYNC_SECONDS * random.uniform(0.8, 1.2)
    return seconds


def _group_of(caller: Caller) -> str:
    """The group announcing every change of the caller's payouts."""
    if caller.sees_every_client:
        return EVERY_CLIENT_GROUP
    assert caller.client is not None
    return client_group(caller.client.pk)


def _is_callers(caller: Caller, message: dict[str, Any]) -> bool:
    """Whether an announcement is of the caller's payouts: a subscription hears only its
    groups' (events.hub), and checks again before it sends a payout."""
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
        await in_thread(event_selectors.payout_with_last_sequence, caller, payout_id)
        seen = 0  # the sequence of the last change sent
        opening = True
        while True:
            async with live_connection(info).events(
                [payout_group(payout_id)], timeout=_resync_seconds()
            ) as messages:
                # Read once listening: a change committed in between is both read and heard,
                # and its sequence tells which. Read again after a silence, in case an
                # announcement was lost on the way.
                try:
                    payout, last = await in_thread(
                        event_selectors.payout_with_last_sequence, caller, payout_id
                    )
                except PayoutNotFound:
                    return  # deleted while nothing was heard
                if opening:
                    opening, seen = False, last
                    yield cast("PayoutType", payout)
                    if payout.status in FINAL_STATUSES:
                        return
                async for change in _changes_after(caller, payout_id, seen, last, messages):
                    if change is None:
                        return
                    seen = change.sequence_seen
                    yield cast("PayoutType", change.payout)
                    if change.final:
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

        async def read_on(start: tuple[int, int]) -> AsyncGenerator[PayoutEventType, None]:
            """The events after `start` the filter matches, read from the stream; `key` follows
            each event read, matched or not."""
            nonlocal key
            async for read, event in _read_on(caller, start):
                key = read
                if criteria.matches(cast("Payout", event.payout)):
                    yield event

        if after is not None:
            # What the caller missed, read before listening: a long replay fills no buffer.
            key = await in_thread(_stream_key_of, caller, after)
            async for event in read_on(key):
                yield event
        group = _group_of(caller)
        while True:
            async with live_connection(info).events([group], timeout=_resync_seconds()) as messages:
                # Listening now: what settled before is read, what settles after is heard.
                if key is None:
                    key = await in_thread(event_selectors.last_settled_key)
                else:
                    async for event in read_on(key):
                        yield event
                # Announced in stream order: anything at or before the key was sent already.
                async for message in messages:
                    if not _is_callers(caller, message):
                        continue
                    announced = stream_key_of(message)
                    if announced <= key:
                        continue
                    if missed_before(message, group, key):
                        # One was lost on the way (or the relay changed): read the stream, to
                        # this one included.
                        async for event in read_on(key):
                            yield event
                        continue
                    key = announced
                    live = _heard_event(message["event"])
                    if criteria.matches(cast("Payout", live.payout)):
                        yield live
