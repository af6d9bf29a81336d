"""Webhooks end to end: the API writes events on PostgreSQL, a real `run_webhooks` consumer
delivers them through Redis to a real receiver on loopback (pytest-httpserver), and receivers
verify them with the `standardwebhooks` library."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response

from events.models import Event
from payouts import services
from payouts.models import Payout
from tests.conftest import KeyHolder, field_codes, payout_payload
from tests.integration.conftest import Consumer, service_environment, wait_until
from tests.integration.test_concurrency import in_own_connection
from webhooks import delivery as deliveries
from webhooks.delivery import MSG_LOST_ATTEMPT, deliveries_create, deliveries_sweep
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.queue import WEBHOOK_HUEY
from webhooks.signing import new_secret

ENDPOINTS = "/api/webhook-endpoints/"
# Retries come quickly here; the schedule itself is the unit tests'.
FAST_RETRIES = {"WEBHOOK_RETRY_DELAY_SECONDS": "0.2"}


@pytest.fixture
def webhook_queue(queue: Any) -> Iterator[Any]:
    """The real Redis queue of webhooks, empty before and after (and payouts', which no
    consumer reads here: the payouts stay PENDING)."""
    WEBHOOK_HUEY.immediate = False
    WEBHOOK_HUEY.flush()
    yield WEBHOOK_HUEY
    WEBHOOK_HUEY.flush()


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def start_webhooks(
    webhook_queue: Any, transactional_db: None, loopback_allowed: None
) -> Iterator[Callable[..., Consumer]]:
    """Start `run_webhooks` consumers allowed to reach the loopback receiver."""
    started: list[Consumer] = []

    def start(**knobs: str) -> Consumer:
        knobs = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", **knobs}
        consumer = Consumer(service_environment(**knobs), workers=4, command="run_webhooks")
        consumer.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()
        consumer.log.unlink(missing_ok=True)


def add_endpoint(api_client: Any, url: str) -> dict[str, Any]:
    response = api_client.post(ENDPOINTS, {"url": url}, format="json")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def create_payout(api_client: Any, **fields: Any) -> str:
    response = api_client.post("/api/payouts/", payout_payload(**fields), format="json")
    assert response.status_code == 201, response.content
    payout_id: str = response.json()["id"]
    return payout_id


def received(httpserver: Any) -> list[tuple[bytes, dict[str, str]]]:
    return [(request.get_data(), dict(request.headers)) for request, _ in httpserver.log]


def test_a_webhook_verifies_with_the_standard_webhooks_library_and_fails_once_changed(
    api_client, httpserver, start_webhooks
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    secret = add_endpoint(api_client, httpserver.url_for("/hook"))["secret"]
    consumer = start_webhooks()

    payout_id = create_payout(api_client, amount="250.00")

    assert wait_until(lambda: len(httpserver.log) == 1, timeout=30), consumer.output()[-3000:]
    [(body, headers)] = received(httpserver)
    event = Webhook(secret).verify(body, headers)
    assert (event["type"], event["sequence"], event["data"]["id"]) == (
        "payout.created",
        1,
        payout_id,
    )
    assert headers["Webhook-Id"] == event["id"]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b'"250.00"', b'"950.00"'), headers)
    timestamp = int(headers["Webhook-Timestamp"])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "Webhook-Timestamp": str(timestamp + 1)})
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_receiver_failing_twice_gets_the_event_three_times_under_one_id(
    api_client, httpserver, start_webhooks
):
    statuses = iter([500, 500, 200])
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: Response("not yet" if (status := next(statuses)) >= 500 else "ok", status)
    )
    endpoint = add_endpoint(api_client, httpserver.url_for("/hook"))
    consumer = start_webhooks(**FAST_RETRIES)

    create_payout(api_client)

    assert wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(),
        timeout=30,
    ), consumer.output()[-3000:]
    deliveries = received(httpserver)
    assert len(deliveries) == 3
    assert len({headers["Webhook-Id"] for _, headers in deliveries}) == 1
    assert len({body for body, _ in deliveries}) == 1
    log = api_client.get(f"{ENDPOINTS}{endpoint['id']}/deliveries/").json()["results"]
    [delivery] = log
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 3)
    assert [
        (attempt["number"], attempt["response_status"], attempt["response_body"])
        for attempt in delivery["attempts_made"]
    ] == [(1, 500, "not yet"), (2, 500, "not yet"), (3, 200, "ok")]


def test_a_consumer_killed_mid_delivery_loses_nothing(api_client, httpserver, start_webhooks):
    first_arrived, killed = threading.Event(), threading.Event()

    def receiver(request: Request) -> Response:
        if not first_arrived.is_set():
            first_arrived.set()
            killed.wait(timeout=30)  # the consumer dies while this POST is in flight
        return Response("", status=204)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    add_endpoint(api_client, httpserver.url_for("/hook"))
    doomed = start_webhooks()
    create_payout(api_client)
    assert first_arrived.wait(timeout=30), doomed.output()[-3000:]
    doomed.stop(signal.SIGKILL)
    killed.set()

    # Later: the claim of the dead consumer has run out, and a sweep runs.
    survivor = start_webhooks()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    report = deliveries_sweep()

    assert report.requeued_deliveries == 1
    assert wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(),
        timeout=30,
    ), survivor.output()[-3000:]
    deliveries = received(httpserver)
    assert len(deliveries) == 2
    assert len({headers["Webhook-Id"] for _, headers in deliveries}) == 1
    attempts = list(WebhookAttempt.objects.order_by("number").values_list("error", "succeeded"))
    assert attempts == [(MSG_LOST_ATTEMPT, False), ("", True)]


def test_an_event_whose_fan_out_message_was_lost_is_still_delivered(
    api_client, httpserver, start_webhooks, webhook_queue
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    add_endpoint(api_client, httpserver.url_for("/hook"))
    payout_id = create_payout(api_client)
    webhook_queue.flush()  # Redis restarted without persistence: the fan-out message is gone
    # An hour later (the endpoint was there before the event).
    WebhookEndpoint.objects.update(created_at=timezone.now() - timedelta(hours=2))
    Event.objects.update(created_at=timezone.now() - timedelta(hours=1))
    consumer = start_webhooks()

    report = deliveries_sweep()

    assert report.dispatched_events == 1
    assert wait_until(lambda: len(httpserver.log) == 1, timeout=30), consumer.output()[-3000:]
    [(body, _)] = received(httpserver)
    assert payout_id.encode() in body


def test_a_rolled_back_change_sends_nothing(
    api_client, owner: KeyHolder, httpserver, start_webhooks
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    add_endpoint(api_client, httpserver.url_for("/hook"))
    consumer = start_webhooks()

    def create_then_fail() -> None:
        with transaction.atomic():
            services.payout_create(owner.caller, payout_payload(description="rolled back"))
            raise RuntimeError("the transaction fails after the payout's event was written")

    with pytest.raises(RuntimeError):
        create_then_fail()
    marker = create_payout(api_client, description="committed")

    assert wait_until(lambda: len(httpserver.log) >= 1, timeout=30), consumer.output()[-3000:]
    deliveries_sweep()  # nothing the sweep could find either
    assert not wait_until(lambda: len(httpserver.log) > 1, timeout=3)
    [(body, _)] = received(httpserver)
    assert marker.encode() in body
    assert list(Payout.objects.values_list("description", flat=True)) == ["committed"]
    assert Event.objects.count() == 1


def test_a_private_address_is_refused_without_the_setting(
    api_client, httpserver, settings, transactional_db
):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    response = api_client.post(ENDPOINTS, {"url": httpserver.url_for("/hook")}, format="json")

    assert response.status_code == 400
    assert field_codes(response) == {"url": ["webhook_url_private_address"]}


def test_a_private_address_is_not_sent_to_by_a_consumer_without_the_setting(
    api_client, httpserver, start_webhooks
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    add_endpoint(api_client, httpserver.url_for("/hook"))  # allowed when it was added
    consumer = start_webhooks(WEBHOOK_ALLOW_PRIVATE_TARGETS="false")

    create_payout(api_client)

    assert wait_until(WebhookAttempt.objects.exists, timeout=30), consumer.output()[-3000:]
    attempt = WebhookAttempt.objects.get()
    assert (attempt.succeeded, attempt.response_status) == (False, None)
    assert "private" in attempt.error
    assert httpserver.log == []


def test_two_workers_claiming_one_attempt_at_once_make_one_claim(
    api_client, owner: KeyHolder, transactional_db, webhook_queue, loopback_allowed
):
    add_endpoint(api_client, "http://127.0.0.1:9/hook")
    create_payout(api_client)
    deliveries_create(Event.objects.get().position)
    delivery_id = WebhookDelivery.objects.get().pk
    first_claimed, release = threading.Event(), threading.Event()

    @in_own_connection
    def claim_and_hold() -> bool:
        with transaction.atomic():
            claimed = deliveries._claim(delivery_id) is not None
            first_claimed.set()
            release.wait(timeout=30)  # the row stays locked until this commits
        return claimed

    @in_own_connection
    def claim() -> bool:
        return deliveries._claim(delivery_id) is not None

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(claim_and_hold)
        assert first_claimed.wait(timeout=30)
        second = pool.submit(claim)  # waits for the first claim's row lock, then re-checks
        assert wait_until(lambda: waiting_on_a_lock() >= 1, timeout=10)
        release.set()
        results = [first.result(timeout=30), second.result(timeout=30)]

    assert results == [True, False]
    assert WebhookDelivery.objects.get().attempts == 1


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        (waiting,) = cursor.fetchone()
    return int(waiting)
