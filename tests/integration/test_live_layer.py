"""The Channels layer with Redis, as the web processes use it for live updates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings


def test_every_channel_of_a_group_in_a_process_shares_one_decoded_message() -> None:
    layers: dict[str, Any] = settings.CHANNEL_LAYERS
    assert layers["default"]["CONFIG"]["serializer_format"] == "msgpack-decoded-once"
    group = f"layer-test.{uuid.uuid4().hex}"
    message = {"type": "payout.event", "key": [7, 1], "previous": {group: None}}

    async def scenario() -> None:
        layer = get_channel_layer()
        assert layer is not None
        first, second = await layer.new_channel(), await layer.new_channel()
        await layer.group_add(group, first)
        await layer.group_add(group, second)

        await layer.group_send(group, message)
        heard_first = await asyncio.wait_for(layer.receive(first), 5)
        heard_second = await asyncio.wait_for(layer.receive(second), 5)

        assert heard_first == message
        assert heard_second is heard_first
        await layer.flush()

    asyncio.run(scenario())
