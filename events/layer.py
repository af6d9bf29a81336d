"""The Channels layer's message format with Redis: channels-redis's msgpack, each message
decoded once per process.

channels-redis's pub/sub layer hands the same bytes of a group message to every channel of the
group in the process, and each channel decoded them again: a thousand subscribers of one client
made a thousand copies of every event, for the collector to chase (make bench: p99 event →
subscriber, and the garbage collector's pauses with it). The copies are one dictionary now,
shared: readers must not change it.
"""

from __future__ import annotations

from typing import Any

from channels_redis.serializers import MsgPackSerializer, registry

# The `serializer_format` of CHANNEL_LAYERS that names it.
FORMAT = "msgpack-decoded-once"
# Messages kept decoded: those being handed out at once (an event goes to three groups).
DECODED_KEPT = 16


class DecodedOnce(MsgPackSerializer):  # type: ignore[misc]  # channels-redis is untyped
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By the identity of the bytes the layer received: every channel gets that one object.
        # The bytes are kept with their message, so that an id is not reused meanwhile.
        self.decoded: dict[int, tuple[bytes, Any]] = {}

    def deserialize(self, message: bytes) -> Any:
        known = self.decoded.get(id(message))
        if known is not None and known[0] is message:
            return known[1]
        decoded = super().deserialize(message)
        if len(self.decoded) >= DECODED_KEPT:
            del self.decoded[next(iter(self.decoded))]
        self.decoded[id(message)] = (message, decoded)
        return decoded


def register() -> None:
    registry.register_serializer(FORMAT, DecodedOnce)
