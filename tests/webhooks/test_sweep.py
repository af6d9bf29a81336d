"""The webhooks sweep: events and deliveries whose task messages were lost are sent anyway."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from payouts.leases import lease
from tests.webhooks.deliveries import allow_loopback, delivery_of, endpoint_for, payout_event
from webhooks import delivery as deliveries
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tasks import sweep_deliveries


@pytest.fixture(autouse=True)
def _loopback_receiver(settings):
    allow_loopback(settings)


@pytest.fixture
def event(owner):
    return payout_event(owner.caller)


@pytest.fixture
def endpoint(owner, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    return endpoint_for(owner.client, httpserver.url_for("/hook"))


def written_ago(event: Event, seconds: float) -> None:
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def due_ago(delivery: WebhookDelivery, seconds: float) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=seconds)
    )


def sweep(capture) -> None:
    with capture(execute=True):
        sweep_deliveries()


def test_an_event_whose_fan_out_was_lost_is_delivered(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    written_ago(event, 31)

    sweep(django_capture_on_commit_callbacks)

    event.refresh_from_db()
    assert event.dispatched_at is not None
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(httpserver.log) == 1


def test_a_recent_event_is_left_to_its_fan_out_task(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    written_ago(event, 10)

    sweep(django_capture_on_commit_callbacks)

    event.refresh_from_db()
    assert event.dispatched_at is None
    assert not WebhookDelivery.objects.exists()


def test_an_overdue_delivery_is_sent(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    delivery = delivery_of(event, endpoint)
    due_ago(delivery, 61)

    sweep(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert len(httpserver.log) == 1


def test_a_delivery_due_within_the_grace_is_left_to_its_task(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    delivery = delivery_of(event, endpoint)
    due_ago(delivery, 30)

    sweep(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert httpserver.log == []


def test_an_overdue_delivery_to_a_disabled_endpoint_waits(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    delivery = delivery_of(event, endpoint)
    due_ago(delivery, 600)
    endpoint.enabled = False
    endpoint.save()

    sweep(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert httpserver.log == []


def test_a_delivery_waiting_for_its_endpoint_is_sent_once_it_is_enabled_again(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    delivery = delivery_of(event, endpoint)
    due_ago(delivery, 600)
    endpoint.enabled = False
    endpoint.save()
    sweep(django_capture_on_commit_callbacks)
    endpoint.enabled = True
    endpoint.save()

    sweep(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_the_sweep_takes_a_batch_at_a_time(owner, endpoint, monkeypatch):
    monkeypatch.setattr(deliveries, "SWEEP_BATCH", 2)
    for _ in range(3):
        due_ago(delivery_of(payout_event(owner.caller), endpoint), 61)

    report = deliveries.deliveries_sweep()

    assert report.requeued_deliveries == 2
    cutoff = timezone.now() - timedelta(seconds=60)
    assert WebhookDelivery.objects.filter(next_attempt_at__lt=cutoff).count() == 1


def test_a_sweep_runs_in_one_consumer_at_a_time(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    written_ago(event, 31)

    with lease("webhook-delivery-sweep", seconds=60) as held:
        assert held
        sweep(django_capture_on_commit_callbacks)

    event.refresh_from_db()
    assert event.dispatched_at is None
    assert httpserver.log == []


def test_the_grace_before_a_delivery_counts_as_lost_is_a_setting(
    event, endpoint, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 5
    delivery = delivery_of(event, endpoint)
    due_ago(delivery, 6)

    sweep(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
