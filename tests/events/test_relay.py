"""The relay: the stream's settled events announced through the Channels layer, in stream
order, to the groups that may hear them."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from pytest_django.fixtures import Settings

from events.broadcast import EVERY_CLIENT_GROUP, client_group, payout_group
from events.models import Event
from events.relay import Relay
from payouts import services
from project import orm
from tests.conftest import KeyHolder, key_holder, payout_payload
from tests.graphql_api.live import layer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_layer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # One relay, no lease: the lease in Redis has its own test (tests/integration).
    settings.REDIS_URL = None
    monkeypatch.setattr(services, "_enqueue_processing", lambda payout, *, attempt: None)
    monkeypatch.setattr(orm, "ONE_THREAD", True)


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


def started_relay() -> Relay:
    """A relay started now, moved by hand (send_new_events) rather than by its loop."""
    relay = Relay()

    async def start() -> None:
        await relay.start()
        assert relay.task is not None
        relay.task.cancel()

    async_to_sync(start)()
    return relay


def announce(relay: Relay) -> int:
    sent: int = async_to_sync(relay.send_new_events)()
    return sent


def test_the_relay_announces_each_event_to_every_client_its_client_and_its_payout_groups(
    owner: KeyHolder,
) -> None:
    relay = started_relay()
    staff = listen(EVERY_CLIENT_GROUP)
    client = listen(client_group(owner.client.pk))
    other_client = listen(client_group(owner.client.pk + 1))
    payout = services.payout_create(owner.caller, payout_payload())
    watcher = listen(payout_group(payout.pk))

    services.payout_update(owner.caller, payout.pk, {"amount": "12.00"})
    announce(relay)

    created, updated = (
        e.public_id for e in Event.objects.filter(payout=payout).order_by("sequence")
    )
    assert [m["event"]["id"] for m in received(staff)] == [created, updated]
    assert [m["event"]["id"] for m in received(client)] == [created, updated]
    assert [m["event"]["id"] for m in received(watcher)] == [created, updated]
    assert received(other_client) == []


def test_an_announcement_carries_the_event_as_webhooks_send_it_and_its_stream_key(
    owner: KeyHolder,
) -> None:
    relay = started_relay()
    channel = listen(EVERY_CLIENT_GROUP)

    payout = services.payout_create(owner.caller, payout_payload())
    announce(relay)

    [message] = received(channel)
    event = Event.objects.get(payout=payout)
    assert message["type"] == "payout.event"
    assert message["client"] == owner.client.pk
    assert message["payout"] == payout.pk.hex
    assert message["key"] == [event.transaction_id, event.position]
    assert message["event"] == {
        "id": event.public_id,
        "type": "payout.created",
        "timestamp": message["event"]["timestamp"],
        "sequence": 1,
        "data": event.data,
    }


def test_the_relay_announces_only_what_is_written_after_it_started_once_each(
    owner: KeyHolder,
) -> None:
    services.payout_create(owner.caller, payout_payload())
    relay = started_relay()
    channel = listen(EVERY_CLIENT_GROUP)

    first = services.payout_create(owner.caller, payout_payload())
    services.payout_update(owner.caller, first.pk, {"amount": "12.00"})
    second = services.payout_create(owner.caller, payout_payload())

    later = Event.objects.filter(payout__in=[first, second]).order_by("position")
    assert announce(relay) == 3
    assert [m["event"]["id"] for m in received(channel)] == [e.public_id for e in later]
    assert announce(relay) == 0


def test_a_rolled_back_change_is_never_announced(owner: KeyHolder) -> None:
    relay = started_relay()
    channel = listen(EVERY_CLIENT_GROUP)

    def create_then_fail() -> None:
        with transaction.atomic():
            services.payout_create(owner.caller, payout_payload())
            raise RuntimeError("the request fails after the write")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert announce(relay) == 0
    assert received(channel) == []


def test_each_announcement_names_the_one_before_it_in_each_group(owner: KeyHolder) -> None:
    relay = started_relay()
    channel = listen(EVERY_CLIENT_GROUP)
    first = services.payout_create(owner.caller, payout_payload())
    second = services.payout_create(owner.caller, payout_payload())

    announce(relay)

    one, two = received(channel)
    client = client_group(owner.client.pk)
    assert one["previous"] == {
        EVERY_CLIENT_GROUP: None,
        client: None,
        payout_group(first.pk): None,
    }
    assert two["previous"] == {
        EVERY_CLIENT_GROUP: one["key"],
        client: one["key"],
        payout_group(second.pk): None,
    }
