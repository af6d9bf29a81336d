"""Every change a client can see of a payout writes one event, in the change's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from events.models import Event, EventType
from events.signals import event_committed
from payouts import services
from payouts.models import PayoutStatus
from payouts.providers import Declined, Paid, Retryable
from rest_api.serializers import PayoutSerializer
from tests.conftest import payout_payload
from tests.processing import run_to_the_end

pytestmark = pytest.mark.django_db


def types_of(payout) -> list[tuple[int, str]]:
    return list(
        Event.objects.filter(payout=payout).order_by("position").values_list("sequence", "type")
    )


def test_a_create_writes_payout_created_with_the_payout_as_rest_renders_it(owner):
    payout = services.payout_create(owner.caller, payout_payload())

    event = Event.objects.get(payout=payout)

    assert (event.type, event.sequence, event.client_id) == (EventType.CREATED, 1, owner.client.pk)
    assert event.data == PayoutSerializer(payout).data


def test_a_payment_writes_processing_then_completed_in_sequence(pending_payout, provider):
    provider.script.append(Paid("pr_1"))

    run_to_the_end(pending_payout)

    assert types_of(pending_payout) == [
        (1, EventType.CREATED),
        (2, EventType.PROCESSING),
        (3, EventType.COMPLETED),
    ]
    completed = Event.objects.get(payout=pending_payout, type=EventType.COMPLETED)
    assert (completed.data["status"], completed.data["provider_reference"]) == (
        PayoutStatus.COMPLETED,
        "pr_1",
    )


def test_an_event_keeps_the_payout_as_it_was_at_its_change(pending_payout, provider):
    provider.script.append(Paid("pr_1"))

    run_to_the_end(pending_payout)

    processing = Event.objects.get(payout=pending_payout, type=EventType.PROCESSING)
    assert processing.data["status"] == PayoutStatus.PROCESSING
    assert processing.data["provider_reference"] == ""


def test_a_retried_attempt_writes_no_second_processing_event(pending_payout, provider):
    provider.script.extend([Retryable("HTTP 503"), Paid("pr_2")])

    run_to_the_end(pending_payout)

    assert types_of(pending_payout) == [
        (1, EventType.CREATED),
        (2, EventType.PROCESSING),
        (3, EventType.COMPLETED),
    ]


def test_a_decline_writes_payout_failed_with_its_code(pending_payout, provider):
    provider.script.append(Declined("insufficient_funds", "No funds."))

    run_to_the_end(pending_payout)

    failed = Event.objects.get(payout=pending_payout, type=EventType.FAILED)
    assert (failed.sequence, failed.data["failure_code"]) == (3, "insufficient_funds")


def test_an_edit_writes_payout_updated_and_a_delete_payout_deleted(owner, pending_payout):
    services.payout_update(owner.caller, pending_payout.id, {"description": "Changed"})
    services.payout_delete(owner.caller, pending_payout.id)

    assert types_of(pending_payout) == [
        (1, EventType.CREATED),
        (2, EventType.UPDATED),
        (3, EventType.DELETED),
    ]
    updated = Event.objects.get(payout=pending_payout, type=EventType.UPDATED)
    assert updated.data["description"] == "Changed"


def test_an_edit_that_changes_nothing_writes_no_event(owner, pending_payout):
    services.payout_update(owner.caller, pending_payout.id, {"amount": "100.00"})

    assert types_of(pending_payout) == [(1, EventType.CREATED)]


def test_a_rolled_back_change_leaves_no_event(owner, pending_payout):
    def edit_then_fail() -> None:
        with transaction.atomic():
            services.payout_update(owner.caller, pending_payout.id, {"description": "Changed"})
            raise RuntimeError("the caller's transaction fails after the edit")

    with pytest.raises(RuntimeError):
        edit_then_fail()

    assert types_of(pending_payout) == [(1, EventType.CREATED)]


def test_a_refused_create_writes_no_event(owner):
    with pytest.raises(Exception, match="amount"):
        services.payout_create(owner.caller, payout_payload(amount="-1"))

    assert not Event.objects.exists()


def test_an_event_is_announced_only_once_its_transaction_commits(
    owner, django_capture_on_commit_callbacks
):
    announced: list[Event] = []

    def receiver(event: Event, **kwargs: object) -> None:
        announced.append(event)

    event_committed.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            payout = services.payout_create(owner.caller, payout_payload())
            assert announced == []
        for callback in callbacks:
            callback()
    finally:
        event_committed.disconnect(receiver)

    assert [event.type for event in announced] == [EventType.CREATED]
    assert announced[0].payout_id == payout.id


def test_a_failing_reader_of_the_stream_never_fails_the_change(
    api_client, django_capture_on_commit_callbacks, caplog
):
    def broken(**kwargs: object) -> None:
        raise ConnectionError("queue down")

    event_committed.connect(broken, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post("/api/payouts/", payout_payload(), format="json")
    finally:
        event_committed.disconnect(broken)

    assert response.status_code == 201
    assert "queue down" in caplog.text
