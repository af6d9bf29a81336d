"""Announcing events to live subscribers through the Channels layer (events.relay sends them).

Every event goes to three groups: every client's (staff subscribers), its client's and its
payout's, so a subscriber joins only groups it may read. With Redis (`REDIS_URL`) the layer is
channels-redis's pub/sub: every web process on every machine hears each announcement. Without,
it is each web process's own memory.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.layers import get_channel_layer

from events.documents import event_document
from events.models import Event

# The `type` of the layer's messages: Channels hands them to the consumer's listeners by it.
MESSAGE_TYPE = "payout.event"
EVERY_CLIENT_GROUP = "payout-events.all"


def client_group(client_id: int) -> str:
    return f"payout-events.client.{client_id}"


def payout_group(payout_id: uuid.UUID) -> str:
    return f"payout-events.payout.{payout_id.hex}"


def event_message(event: Event) -> dict[str, Any]:
    """The layer message of an event: its client document, whose it is, and its stream key."""
    return {
        "type": MESSAGE_TYPE,
        "event": event_document(event),
        "client": event.client_id,
        "payout": event.payout_id.hex,
        "key": [event.transaction_id, event.position],
        # The key of the announcement before this one in each of its groups, by group (see
        # events.relay): none known here.
        "previous": {},
    }


def groups_of(message: dict[str, Any]) -> tuple[str, ...]:
    return (
        EVERY_CLIENT_GROUP,
        client_group(message["client"]),
        payout_group(uuid.UUID(hex=message["payout"])),
    )


def announcement(message: dict[str, Any], group: str) -> dict[str, Any]:
    """The message as announced to one of its groups: a process hears it once for each group
    it listens to (events.hub), and hands each to that group's listeners."""
    return {**message, "group": group}


async def broadcast(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None  # CHANNEL_LAYERS always names one
    for group in groups_of(message):
        await layer.group_send(group, announcement(message, group))
