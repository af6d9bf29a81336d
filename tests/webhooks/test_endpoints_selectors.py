"""Which endpoints an event goes to: the enabled ones of its client that take its type."""

from __future__ import annotations

from events.models import Event, EventType
from webhooks.selectors import endpoint_list_receiving


def test_an_event_goes_to_its_clients_enabled_endpoints_that_take_its_type(
    make_endpoint, stranger, pending_payout
):
    event = Event.objects.get(payout=pending_payout)
    assert event.type == EventType.CREATED
    every_type, _ = make_endpoint()
    created_only, _ = make_endpoint(event_types=["payout.created", "payout.failed"])
    make_endpoint(event_types=["payout.completed"])
    make_endpoint(enabled=False)
    make_endpoint(holder=stranger)

    assert endpoint_list_receiving(event) == [every_type, created_only]
