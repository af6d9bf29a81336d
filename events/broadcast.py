"""Live announcements of committed events, through the Channels layer, to GraphQL subscribers.

Every event goes to three groups: every client's (staff subscribers), its client's and its
payout's, so a subscriber joins only groups it may read. Announcements are sent at most once:
what a subscriber misses (it was disconnected, or a process died between commit and send) it
reads again from the stream itself (`payoutEvents(after:)`, GET /api/events/).

With Redis (`REDIS_URL`) the process that commits an event sends it, and every web process on
every machine hears it. The embedded default's layer lives in one process's memory, which the
consumer (another process) cannot reach: there each web process reads new events from the
stream instead (events.relay), and nothing is sent at commit.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from events.documents import event_document
from events.models import Event

logger = logging.getLogger(__name__)

# The `type` of the layer's messages: Channels hands them to the consumer's listeners by it.
MESSAGE_TYPE = "payout.event"
EVERY_CLIENT_GROUP = "payout-events.all"


def client_group(client_id: int) -> str:
    return f"payout-events.client.{client_id}"


def payout_group(payout_id: uuid.UUID) -> str:
    return f"payout-events.payout.{payout_id.hex}"


def event_message(event: Event) -> dict[str, Any]:
    """The layer message of an event: its client document, and whose it is."""
    return {
        "type": MESSAGE_TYPE,
        "event": event_document(event),
        "client": event.client_id,
        "payout": event.payout_id.hex,
    }


def groups_of(message: dict[str, Any]) -> tuple[str, ...]:
    return (
        EVERY_CLIENT_GROUP,
        client_group(message["client"]),
        payout_group(uuid.UUID(hex=message["payout"])),
    )


async def broadcast(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None  # CHANNEL_LAYERS always names one
    for group in groups_of(message):
        await layer.group_send(group, message)


def announce_committed_event(event: Event, **_: object) -> None:
    """events.signals.event_committed's receiver: send the event to live subscribers."""
    if settings.LIVE_EVENTS_RELAYED:
        return
    async_to_sync(broadcast)(event_message(event))
