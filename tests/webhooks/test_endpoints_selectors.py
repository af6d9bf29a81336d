"""Which endpoints an event goes to: the enabled ones of its client that take its type."""

from __future__ import annotations

from events.models import Event, EventType
from payouts import services
from tests.conftest import payout_payload
from webhooks.selectors import endpoint_list_receiving


def test_an_event_goes_to_its_clients_enabled_endpoints_that_take_its_type(
    make_endpoint, stranger, owner
):
    every_type, _ = make_endpoint()
    created_only, _ = make_endpoint(event_types=["payout.created", "payout.failed"])
    make_endpoint(event_types=["payout.completed"])
    make_endpoint(enabled=False)
    make_endpoint(holder=stranger)
    payout = services.payout_create(owner.caller, payout_payload())
    event = Event.objects.get(payout=payout)
    assert event.type == EventType.CREATED

    assert endpoint_list_receiving(event) == [every_type, created_only]


def test_an_event_goes_to_no_endpoint_added_after_it(make_endpoint, pending_payout):
    event = Event.objects.get(payout=pending_payout)
    make_endpoint()

    assert endpoint_list_receiving(event) == []
