"""The layer's message format with Redis: each message's bytes decoded once per process."""

from __future__ import annotations

from channels_redis.serializers import registry

from events.layer import DECODED_KEPT, FORMAT

MESSAGE = {"type": "payout.event", "key": [41, 2], "previous": {"payout-events.all": None}}


def test_the_bytes_every_channel_of_a_group_is_handed_are_decoded_once() -> None:
    serializer = registry.get_serializer(FORMAT)
    received = serializer.serialize(MESSAGE)

    first = serializer.deserialize(received)

    assert first == MESSAGE
    assert serializer.deserialize(received) is first


def test_equal_bytes_received_apart_are_decoded_apart() -> None:
    serializer = registry.get_serializer(FORMAT)
    received = serializer.serialize(MESSAGE)
    first = serializer.deserialize(received)

    again = serializer.deserialize(bytes(bytearray(received)))

    assert again == first
    assert again is not first


def test_only_the_latest_messages_are_kept_decoded() -> None:
    serializer = registry.get_serializer(FORMAT)
    messages = [serializer.serialize({**MESSAGE, "key": [n, 0]}) for n in range(DECODED_KEPT + 5)]
    for message in messages:
        serializer.deserialize(message)

    assert len(serializer.decoded) == DECODED_KEPT
    assert serializer.deserialize(messages[-1])["key"] == [DECODED_KEPT + 4, 0]
