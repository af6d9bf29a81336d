"""One attempt of a delivery, as the webhooks consumer runs it: sent, recorded, retried."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from events.documents import event_document
from tests.webhooks.deliveries import (
    SECRET,
    allow_loopback,
    delivery_of,
    endpoint_for,
    expected_signature,
    payout_event,
)
from webhooks import delivery as deliveries
from webhooks import sender, signing
from webhooks.delivery import MSG_DISABLED, MSG_LOST_ATTEMPT, retry_delay
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.queue import WEBHOOK_HUEY
from webhooks.tasks import deliver, fan_out


@pytest.fixture(autouse=True)
def _loopback_receiver(settings):
    allow_loopback(settings)


@pytest.fixture
def event(owner):
    return payout_event(owner.caller)


@pytest.fixture
def endpoint(owner, httpserver):
    return endpoint_for(owner.client, httpserver.url_for("/hook"))


def scheduled_deliveries():
    return [task for task in WEBHOOK_HUEY.scheduled() if isinstance(task, deliver.task_class)]


def test_an_event_is_posted_once_signed_to_its_endpoint(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")

    with django_capture_on_commit_callbacks(execute=True):
        fan_out(event.position)

    (request, _), *others = httpserver.log
    assert others == []
    body = request.get_data()
    assert json.loads(body) == json.loads(json.dumps(event_document(event)))
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert request.headers["webhook-id"] == event.public_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["webhook-signature"] == expected_signature(
        event.public_id, request.headers["webhook-timestamp"], body
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == sender.USER_AGENT
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.SUCCEEDED,
        1,
        None,
    )
    attempt = delivery.attempts_made.get()
    assert (attempt.number, attempt.manual, attempt.response_status, attempt.response_body) == (
        1,
        False,
        200,
        "ok",
    )
    assert attempt.succeeded is True
    assert attempt.error == ""
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_a_failed_attempt_is_scheduled_again_after_the_backoff(
    event, endpoint, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    delivery = delivery_of(event, endpoint)

    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(str(delivery.id))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    # The first wait is WEBHOOK_RETRY_DELAY_SECONDS (5) plus up to half of it.
    assert delivery.next_attempt_at is not None
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=7.5)
    (task,) = scheduled_deliveries()
    assert task.kwargs == {"delivery_id": str(delivery.id)}
    assert task.eta.replace(tzinfo=UTC) == delivery.next_attempt_at
    attempt = delivery.attempts_made.get()
    assert (attempt.response_status, attempt.response_body, attempt.succeeded) == (
        500,
        "down",
        False,
    )


@pytest.mark.parametrize(("attempt", "low", "high"), [(1, 5, 7.5), (2, 10, 15), (4, 40, 60)])
def test_retry_delays_double_with_jitter_on_top(monkeypatch, attempt, low, high):
    monkeypatch.setattr(random, "uniform", lambda a, b: a)
    shortest = retry_delay(attempt)
    monkeypatch.setattr(random, "uniform", lambda a, b: b)
    longest = retry_delay(attempt)

    assert (shortest, longest) == (low, high)


def test_the_last_attempt_failing_fails_the_delivery(
    event, endpoint, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    delivery = delivery_of(event, endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        attempted_at=timezone.now(),
        duration_ms=3,
        response_status=503,
        succeeded=False,
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(str(delivery.id))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        2,
        None,
    )
    assert scheduled_deliveries() == []


def test_a_redirect_is_a_failure_and_is_not_followed(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.response_status, attempt.succeeded) == (302, False)
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


def test_a_receiver_slower_than_the_deadline_is_a_timed_out_attempt(
    event, endpoint, httpserver, monkeypatch
):
    monkeypatch.setattr(sender, "TOTAL_TIMEOUT_SECONDS", 0.5)

    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.response_status is None
    assert attempt.error.startswith("Timed out")
    assert attempt.succeeded is False
    assert attempt.duration_ms < 1400


def test_only_the_first_kilobyte_of_the_answer_is_kept(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data("x" * 5000, status=400)
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.response_body == "x" * 1024


def test_an_endpoint_failing_for_the_disable_period_is_disabled(
    event, endpoint, httpserver, log_lines
):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    failing_since = timezone.now() - timedelta(hours=72, minutes=1)
    endpoint.failing_since = failing_since
    endpoint.save()
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert endpoint.disabled_at is not None
    reason = MSG_DISABLED.format(since=failing_since.isoformat(), hours=72)
    assert endpoint.disabled_reason == reason
    warnings = [line for line in log_lines() if line["level"] == "warning"]
    assert any(reason in line["event"] for line in warnings), warnings


def test_an_endpoint_failing_for_less_than_the_disable_period_stays_enabled(
    event, endpoint, httpserver
):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    endpoint.failing_since = timezone.now() - timedelta(hours=71)
    endpoint.save()
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")


def test_the_first_failure_starts_the_endpoints_failing_clock(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    endpoint.refresh_from_db()
    assert endpoint.failing_since == WebhookAttempt.objects.get(delivery=delivery).attempted_at


def test_a_success_stops_the_endpoints_failing_clock(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint.failing_since = timezone.now() - timedelta(hours=5)
    endpoint.save()
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_an_endpoint_gets_only_the_event_types_it_asked_for(owner, event, httpserver):
    every = endpoint_for(owner.client, httpserver.url_for("/every"))
    created = endpoint_for(owner.client, httpserver.url_for("/c"), event_types=[event.type])
    completed = endpoint_for(
        owner.client, httpserver.url_for("/x"), event_types=["payout.completed"]
    )

    made = deliveries.deliveries_create(event.position)

    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {
        every.pk,
        created.pk,
    }
    assert len(made) == 2
    assert not WebhookDelivery.objects.filter(endpoint=completed).exists()


def test_a_disabled_endpoint_gets_no_delivery(owner, event, httpserver):
    endpoint_for(owner.client, httpserver.url_for("/hook"), enabled=False)

    assert deliveries.deliveries_create(event.position) == []
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_added_after_an_event_does_not_get_it_however_late_the_fan_out(
    owner, event, httpserver
):
    added_now = WebhookEndpoint.objects.create(
        client=owner.client, url=httpserver.url_for("/hook"), secret=SECRET
    )

    assert deliveries.deliveries_create(event.position) == []
    assert not WebhookDelivery.objects.filter(endpoint=added_now).exists()


def test_another_clients_endpoint_gets_no_delivery(stranger, event, httpserver):
    endpoint_for(stranger.client, httpserver.url_for("/hook"))

    assert deliveries.deliveries_create(event.position) == []


def test_a_delivery_to_an_endpoint_disabled_since_is_not_sent_and_waits(
    event, endpoint, httpserver
):
    delivery = delivery_of(event, endpoint)
    endpoint.enabled = False
    endpoint.save()

    deliver(str(delivery.id))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert httpserver.log == []


def test_fanning_an_event_out_twice_makes_its_deliveries_once(
    event, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = deliveries.deliveries_create(event.position)
        second = deliveries.deliveries_create(event.position)

    assert len(first) == 1
    assert second == []
    assert WebhookDelivery.objects.count() == 1
    assert len(callbacks) == 1


def test_a_duplicate_message_finds_nothing_to_send(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    delivery = delivery_of(event, endpoint)
    deliver(str(delivery.id))

    deliver(str(delivery.id))

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert len(httpserver.log) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_an_attempt_in_flight_is_not_claimed_twice(event, endpoint, httpserver):
    delivery = delivery_of(event, endpoint)
    first = deliveries._claim(delivery.id)

    assert first is not None
    assert deliveries._claim(delivery.id) is None
    assert httpserver.log == []


def test_a_url_refused_at_delivery_time_is_a_failed_attempt(event, endpoint, httpserver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.error.startswith("Not sent: ")
    assert (attempt.response_status, attempt.succeeded) == (None, False)
    assert httpserver.log == []


def test_an_attempt_whose_worker_died_is_recorded_lost_and_sent_again(event, endpoint, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = delivery_of(event, endpoint)
    # A worker claimed attempt 1 and died before recording it; its claim has run out.
    assert deliveries._claim(delivery.id) is not None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    deliver(str(delivery.id))

    lost, sent = WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
    assert (lost.number, lost.error, lost.succeeded) == (1, MSG_LOST_ATTEMPT, False)
    assert (sent.number, sent.response_status, sent.succeeded) == (2, 200, True)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)


def test_an_attempt_that_raises_is_recorded_as_failed_and_retried(
    event, endpoint, httpserver, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("signing broke")

    monkeypatch.setattr(signing, "signature_header", broken)
    delivery = delivery_of(event, endpoint)

    deliver(str(delivery.id))

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.error == "The attempt failed unexpectedly: RuntimeError('signing broke')"
    assert attempt.succeeded is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
