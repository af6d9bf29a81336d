"""Announcing committed events to live subscribers: at commit through the layer (Redis), or by
each web process's relay of the stream (the embedded default)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from pytest_django.fixtures import Settings

from events.broadcast import EVERY_CLIENT_GROUP, client_group, payout_group
from events.models import Event
from events.relay import Relay
from payouts import services
from tests.conftest import KeyHolder, key_holder, payout_payload
from tests.graphql_api.live import layer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_layer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.LIVE_EVENTS_RELAYED = False
    monkeypatch.setattr(services, "_enqueue_processing", lambda payout, *, attempt: None)


@pytest.fixture
def owner(transactional_db: None) -> KeyHolder:
    return key_holder("acme")


def listen(*groups: str) -> str:
    """A channel in these groups."""
    channel_layer = layer()
    channel: str = async_to_sync(channel_layer.new_channel)()
    for group in groups:
        async_to_sync(channel_layer.group_add)(group, channel)
    return channel


def received(channel: str) -> list[dict[str, Any]]:
    """Every message waiting on the channel."""

    async def drain() -> list[dict[str, Any]]:
        channel_layer = layer()
        messages = []
        while (queue := channel_layer.channels.get(channel)) is not None and not queue.empty():
            messages.append(await channel_layer.receive(channel))
        return messages

    return async_to_sync(drain)()


def test_a_committed_event_goes_to_every_client_its_client_and_its_payout_groups(
    owner: KeyHolder,
) -> None:
    staff = listen(EVERY_CLIENT_GROUP)
    client = listen(client_group(owner.client.pk))
    other_client = listen(client_group(owner.client.pk + 1))

    payout = services.payout_create(owner.caller, payout_payload())
    watcher = listen(payout_group(payout.pk))
    services.payout_update(owner.caller, payout.pk, {"amount": "12.00"})

    [created, updated] = Event.objects.filter(payout=payout).order_by("sequence")
    assert [m["event"]["id"] for m in received(staff)] == [created.public_id, updated.public_id]
    assert [m["event"]["id"] for m in received(client)] == [created.public_id, updated.public_id]
    assert [m["event"]["id"] for m in received(watcher)] == [updated.public_id]
    assert received(other_client) == []


def test_an_announcement_carries_the_event_as_webhooks_send_it(owner: KeyHolder) -> None:
    channel = listen(EVERY_CLIENT_GROUP)

    payout = services.payout_create(owner.caller, payout_payload())

    [message] = received(channel)
    event = Event.objects.get(payout=payout)
    assert message["type"] == "payout.event"
    assert message["client"] == owner.client.pk
    assert message["payout"] == payout.pk.hex
    assert message["event"]["id"] == event.public_id
    assert message["event"]["type"] == "payout.created"
    assert message["event"]["sequence"] == 1
    assert message["event"]["data"] == event.data


def test_a_rolled_back_change_announces_nothing(owner: KeyHolder) -> None:
    channel = listen(EVERY_CLIENT_GROUP)

    def create_then_fail() -> None:
        with transaction.atomic():
            services.payout_create(owner.caller, payout_payload())
            raise RuntimeError("the request fails after the write")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert received(channel) == []


def test_nothing_is_announced_at_commit_where_the_relay_reads_the_stream(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_EVENTS_RELAYED = True
    channel = listen(EVERY_CLIENT_GROUP)

    services.payout_create(owner.caller, payout_payload())

    assert received(channel) == []


def test_a_payout_is_written_when_redis_cannot_be_reached(
    owner: KeyHolder, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}]},
        }
    }

    with caplog.at_level(logging.ERROR, logger="events.services"):
        payout = services.payout_create(owner.caller, payout_payload())

    assert Event.objects.filter(payout=payout).count() == 1
    assert "announce_committed_event failed" in caplog.text


def test_the_relay_sends_the_events_written_after_it_started_in_stream_order(
    owner: KeyHolder, settings: Settings
) -> None:
    settings.LIVE_EVENTS_RELAYED = True
    services.payout_create(owner.caller, payout_payload())
    relay = Relay()

    async def start_and_drive_by_hand() -> None:
        await relay.start()
        assert relay.task is not None
        relay.task.cancel()

    async_to_sync(start_and_drive_by_hand)()
    channel = listen(EVERY_CLIENT_GROUP)

    first = services.payout_create(owner.caller, payout_payload())
    services.payout_update(owner.caller, first.pk, {"amount": "12.00"})
    second = services.payout_create(owner.caller, payout_payload())
    sent = async_to_sync(relay.send_new_events)()

    later = Event.objects.filter(payout__in=[first, second]).order_by("position")
    assert sent == 3
    assert [m["event"]["id"] for m in received(channel)] == [e.public_id for e in later]
    assert async_to_sync(relay.send_new_events)() == 0
