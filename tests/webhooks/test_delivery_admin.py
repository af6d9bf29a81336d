"""The admin's deliveries: read-only, with their attempts, and a retry through the service."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from tests.webhooks.deliveries import allow_loopback, delivery_of, endpoint_for, payout_event
from webhooks.admin_deliveries import MSG_RETRIED
from webhooks.errors import MSG_ALREADY_SCHEDULED
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

CHANGELIST = "/admin/webhooks/webhookdelivery/"


@pytest.fixture
def endpoint(owner, httpserver, settings):
    allow_loopback(settings)
    return endpoint_for(owner.client, httpserver.url_for("/hook"))


def ended(owner, endpoint, status: str) -> WebhookDelivery:
    delivery = delivery_of(payout_event(owner.caller), endpoint)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        attempted_at=timezone.now(),
        duration_ms=40,
        response_status=410,
        response_body="gone away",
        succeeded=False,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=1, next_attempt_at=None
    )
    return delivery


def test_changelist_filters_by_status(admin_client, owner, endpoint):
    failed = ended(owner, endpoint, DeliveryStatus.FAILED)
    ended(owner, endpoint, DeliveryStatus.SUCCEEDED)

    response = admin_client.get(CHANGELIST, {"status__exact": "failed"})

    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [failed.pk]


def test_a_delivery_shows_its_attempts_and_cannot_be_edited(admin_client, owner, endpoint):
    delivery = ended(owner, endpoint, DeliveryStatus.FAILED)

    response = admin_client.get(f"{CHANGELIST}{delivery.pk}/change/")

    assert response.status_code == 200
    assert b"gone away" in response.content
    assert b'name="_save"' not in response.content


def test_retry_action_sends_a_failed_delivery_again(
    admin_client, owner, endpoint, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = ended(owner, endpoint, DeliveryStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "retry", "_selected_action": [str(delivery.pk)]}
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert WebhookAttempt.objects.get(delivery=delivery, number=2).manual is True
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        MSG_RETRIED.format(delivery_id=delivery.pk)
    ]


def test_retry_action_refuses_a_pending_delivery(admin_client, owner, endpoint, httpserver):
    delivery = delivery_of(payout_event(owner.caller), endpoint)

    response = admin_client.post(
        CHANGELIST, {"action": "retry", "_selected_action": [str(delivery.pk)]}
    )

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Delivery {delivery.pk}: {MSG_ALREADY_SCHEDULED}"
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.manual) == (DeliveryStatus.PENDING, False)
    assert httpserver.log == []
