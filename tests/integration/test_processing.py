"""End to end: the API enqueues on Redis, a real Huey consumer processes on PostgreSQL."""

from __future__ import annotations

from payouts.models import Payout, PayoutEvent, PayoutStatus
from tests.conftest import payout_payload
from tests.integration.conftest import wait_until

FINAL = {PayoutStatus.COMPLETED, PayoutStatus.FAILED}


def create_payouts(api_client, count: int) -> list[str]:
    ids = []
    for index in range(count):
        response = api_client.post(
            "/api/payouts/", payout_payload(amount=f"{index + 1}.00"), format="json"
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def statuses(ids: list[str]) -> dict[str, str]:
    rows = Payout.objects.filter(pk__in=ids).values_list("id", "status")
    return {str(payout_id): status for payout_id, status in rows}


def test_consumer_completes_payouts_created_through_the_api(api_client, start_consumer):
    consumer = start_consumer()
    ids = create_payouts(api_client, 10)

    done = wait_until(lambda: set(statuses(ids).values()) == {PayoutStatus.COMPLETED}, timeout=30)

    assert done, f"{statuses(ids)}\n{consumer.output()[-3000:]}"
    for payout_id in ids:
        history = list(
            PayoutEvent.objects.filter(payout_id=payout_id).values_list("kind", flat=True)
        )
        assert history == ["created", "processing", "completed"]


def test_consumer_retries_then_fails_with_the_reason(api_client, start_consumer, settings):
    settings.PAYOUT_MAX_RETRIES = 2
    consumer = start_consumer(PAYOUT_FAILURE_RATE="1", PAYOUT_MAX_RETRIES="7")
    [payout_id] = create_payouts(api_client, 1)

    done = wait_until(
        lambda: Payout.objects.get(pk=payout_id).status == PayoutStatus.FAILED, timeout=30
    )

    payout = Payout.objects.get(pk=payout_id)
    assert done, f"{payout.status}\n{consumer.output()[-3000:]}"
    assert payout.attempts == 3
    assert payout.failure_code == "provider_unavailable"
    assert payout.failure_reason == (
        "The provider did not take it in 3 attempt(s). "
        "Last: The simulated provider failed the request (PAYOUT_FAILURE_RATE)."
    )
    history = PayoutEvent.objects.filter(payout_id=payout_id).values_list("kind", flat=True)
    assert list(history) == [
        "created",
        *["processing", "attempt_failed"] * 3,
        "failed",
    ]


def test_every_payout_ends_final_exactly_once_under_random_failures(api_client, start_consumer):
    consumer = start_consumer(workers=8, PAYOUT_FAILURE_RATE="0.5")
    ids = create_payouts(api_client, 30)

    done = wait_until(lambda: set(statuses(ids).values()) <= FINAL, timeout=60)

    assert done, f"{statuses(ids)}\n{consumer.output()[-3000:]}"
    for payout_id in ids:
        finals = PayoutEvent.objects.filter(payout_id=payout_id, to_status__in=FINAL)
        assert finals.count() == 1


def test_a_consumer_of_more_workers_than_a_redis_pools_default_reads_the_queue(
    api_client, start_consumer
):
    # Each worker holds a Redis connection while it waits on the queue; redis-py's pools stop
    # at 100 unless told otherwise.
    consumer = start_consumer(workers=150)
    ids = create_payouts(api_client, 5)

    done = wait_until(lambda: set(statuses(ids).values()) == {PayoutStatus.COMPLETED}, timeout=30)

    assert done, f"{statuses(ids)}\n{consumer.output()[-3000:]}"
    assert "Too many connections" not in consumer.output()
