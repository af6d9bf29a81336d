"""GET /api/webhook-endpoints/{id}/deliveries/ and POST .../deliveries/{delivery_id}/retry/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event, EventType
from payouts import services
from payouts.errors import ErrorCode
from tests.conftest import api_error
from tests.webhooks.deliveries import allow_loopback, delivery_of, endpoint_for, payout_event
from webhooks.errors import (
    MSG_ALREADY_SCHEDULED,
    MSG_DELIVERY_NOT_FOUND,
    MSG_NOT_FOUND,
)
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery


@pytest.fixture(autouse=True)
def _loopback_receiver(settings):
    allow_loopback(settings)


@pytest.fixture
def endpoint(owner, httpserver):
    return endpoint_for(owner.client, httpserver.url_for("/hook"))


def deliveries_url(endpoint_id: object) -> str:
    return f"/api/webhook-endpoints/{endpoint_id}/deliveries/"


def retry_url(endpoint_id: object, delivery_id: object) -> str:
    return f"{deliveries_url(endpoint_id)}{delivery_id}/retry/"


def settled_delivery(owner, endpoint, status: str, event_type: str = EventType.CREATED):
    """A delivery of a new event that ended `status` after one attempt answered 200 or 500."""
    event = payout_event(owner.caller)
    if event_type != EventType.CREATED:
        event = services_event(owner, event, event_type)
    delivery = delivery_of(event, endpoint)
    succeeded = status == DeliveryStatus.SUCCEEDED
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        attempted_at=timezone.now(),
        duration_ms=12,
        response_status=200 if succeeded else 500,
        response_body="ok" if succeeded else "down",
        succeeded=succeeded,
    )
    next_attempt_at = timezone.now() + timedelta(minutes=1) if status == "pending" else None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=1, next_attempt_at=next_attempt_at
    )
    delivery.refresh_from_db()
    return delivery


def services_event(owner, created: Event, event_type: str) -> Event:
    """The payout of `created` deleted: its payout.deleted event."""
    assert event_type == EventType.DELETED
    services.payout_delete(owner.caller, created.payout_id)
    return Event.objects.get(payout_id=created.payout_id, type=EventType.DELETED)


def test_deliveries_are_listed_newest_first_with_their_attempts(api_client, owner, endpoint):
    older = settled_delivery(owner, endpoint, DeliveryStatus.FAILED)
    newer = settled_delivery(owner, endpoint, DeliveryStatus.SUCCEEDED)

    response = api_client.get(deliveries_url(endpoint.id))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(newer.id), str(older.id)]
    item = body["results"][1]
    assert item["event"] == older.event.public_id
    assert item["event_type"] == "payout.created"
    assert (item["status"], item["attempts"], item["next_attempt_at"]) == ("failed", 1, None)
    assert set(item) == {
        "id",
        "event",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "attempts_made",
    }
    (attempt,) = item["attempts_made"]
    attempted_at = attempt.pop("attempted_at")
    assert attempted_at.endswith("Z")
    assert attempt == {
        "number": 1,
        "manual": False,
        "duration_ms": 12,
        "response_status": 500,
        "response_body": "down",
        "error": "",
        "succeeded": False,
    }


@pytest.mark.parametrize("outcome", ["pending", "succeeded", "failed"])
def test_deliveries_are_filtered_by_outcome(api_client, owner, endpoint, outcome):
    made = {
        status: settled_delivery(owner, endpoint, status)
        for status in ("pending", "succeeded", "failed")
    }

    response = api_client.get(deliveries_url(endpoint.id), {"outcome": outcome})

    assert [item["id"] for item in response.json()["results"]] == [str(made[outcome].id)]


def test_deliveries_are_filtered_by_event_type(api_client, owner, endpoint):
    settled_delivery(owner, endpoint, DeliveryStatus.SUCCEEDED)
    deleted = settled_delivery(owner, endpoint, DeliveryStatus.SUCCEEDED, EventType.DELETED)

    response = api_client.get(deliveries_url(endpoint.id), {"event_type": "payout.deleted"})

    assert [item["id"] for item in response.json()["results"]] == [str(deleted.id)]


def test_an_unknown_outcome_is_refused(api_client, endpoint):
    response = api_client.get(deliveries_url(endpoint.id), {"outcome": "lost"})

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["code"]) == ("outcome", "invalid_choice")


def test_listing_reads_attempts_in_one_query_whatever_the_page_holds(
    api_client, owner, endpoint, django_assert_max_num_queries
):
    for _ in range(5):
        settled_delivery(owner, endpoint, DeliveryStatus.FAILED)

    # Authentication, the endpoint, the count, the page's ids, its rows, their attempts.
    with django_assert_max_num_queries(9):
        response = api_client.get(deliveries_url(endpoint.id))

    assert len(response.json()["results"]) == 5


def test_another_clients_endpoint_is_not_found(api_client, stranger, httpserver):
    theirs = endpoint_for(stranger.client, httpserver.url_for("/hook"))

    response = api_client.get(deliveries_url(theirs.id))

    assert response.status_code == 404
    assert response.json() == api_error(ErrorCode.NOT_FOUND.value, MSG_NOT_FOUND)


def test_a_malformed_endpoint_id_is_not_found(api_client):
    response = api_client.get(deliveries_url("not-a-uuid"))

    assert response.status_code == 404
    assert response.json() == api_error(ErrorCode.NOT_FOUND.value, MSG_NOT_FOUND)


def test_a_failed_delivery_is_retried_once_manually(
    api_client, owner, endpoint, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("still down", status=500)
    delivery = settled_delivery(owner, endpoint, DeliveryStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 202
    assert response.json()["id"] == str(delivery.id)
    assert len(httpserver.log) == 1
    delivery.refresh_from_db()
    # One attempt, and no schedule after it: failed again.
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        2,
        None,
    )
    manual = WebhookAttempt.objects.get(delivery=delivery, number=2)
    assert (manual.manual, manual.response_status, manual.succeeded) == (True, 500, False)


def test_a_retry_answers_the_delivery_pending_until_its_attempt_runs(
    api_client, owner, endpoint, django_capture_on_commit_callbacks
):
    delivery = settled_delivery(owner, endpoint, DeliveryStatus.SUCCEEDED)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 1)
    assert len(callbacks) == 1


def test_a_succeeded_delivery_retried_successfully_succeeds_again(
    api_client, owner, endpoint, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = settled_delivery(owner, endpoint, DeliveryStatus.SUCCEEDED)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempts = WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
    assert [(a.manual, a.succeeded) for a in attempts] == [(False, True), (True, True)]


def test_a_pending_delivery_is_not_retried(api_client, owner, endpoint, httpserver):
    delivery = settled_delivery(owner, endpoint, DeliveryStatus.PENDING)

    response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 409
    assert response.json() == api_error(
        ErrorCode.DELIVERY_ALREADY_SCHEDULED.value, MSG_ALREADY_SCHEDULED
    )
    delivery.refresh_from_db()
    assert (delivery.manual, delivery.attempts) == (False, 1)
    assert httpserver.log == []


def test_a_delivery_of_another_endpoint_is_not_found(api_client, owner, endpoint, httpserver):
    other = endpoint_for(owner.client, httpserver.url_for("/other"))
    delivery = settled_delivery(owner, other, DeliveryStatus.FAILED)

    response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 404
    assert response.json() == api_error(ErrorCode.NOT_FOUND.value, MSG_DELIVERY_NOT_FOUND)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_a_retry_on_another_clients_endpoint_is_not_found(api_client, stranger, httpserver):
    theirs = endpoint_for(stranger.client, httpserver.url_for("/hook"))
    delivery = settled_delivery(stranger, theirs, DeliveryStatus.FAILED)

    response = api_client.post(retry_url(theirs.id, delivery.id))

    assert response.status_code == 404
    assert response.json() == api_error(ErrorCode.NOT_FOUND.value, MSG_NOT_FOUND)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_a_retry_waits_while_its_endpoint_is_disabled(
    api_client, owner, endpoint, httpserver, django_capture_on_commit_callbacks
):
    delivery = settled_delivery(owner, endpoint, DeliveryStatus.FAILED)
    endpoint.enabled = False
    endpoint.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(retry_url(endpoint.id, delivery.id))

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert httpserver.log == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.manual) == ("pending", 1, True)
