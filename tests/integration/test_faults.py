"""Faults injected for real: a dead queue, a killed consumer, a stopped consumer."""

from __future__ import annotations

import signal

from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from payouts import services
from payouts.models import Payout, PayoutEvent, PayoutStatus
from tests.integration.conftest import wait_until
from tests.integration.test_processing import FINAL, create_payouts, statuses


def assert_each_finished_exactly_once(ids: list[str]) -> None:
    for payout_id in ids:
        finals = PayoutEvent.objects.filter(payout_id=payout_id, to_status__in=FINAL)
        assert finals.count() == 1, list(finals.values_list("to_status", "attempt", "reason"))


def test_payouts_created_while_redis_is_down_are_recovered(api_client, start_consumer, settings):
    live_storage = HUEY.storage
    HUEY.storage = RedisStorage(HUEY.name, url="redis://127.0.0.1:1/0")
    try:
        ids = create_payouts(api_client, 5)
    finally:
        HUEY.storage = live_storage
    assert set(statuses(ids).values()) == {PayoutStatus.PENDING}
    consumer = start_consumer()
    settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = 0

    report = services.payouts_recover_stalled()

    assert report.requeued_pending == 5
    done = wait_until(lambda: set(statuses(ids).values()) <= FINAL, timeout=30)
    assert done, f"{statuses(ids)}\n{consumer.output()[-3000:]}"
    assert_each_finished_exactly_once(ids)


def test_payouts_of_a_killed_consumer_are_finished_by_the_next_one(
    api_client, start_consumer, settings
):
    first = start_consumer(workers=4, PAYOUT_PROCESSING_DELAY_SECONDS="3")
    ids = create_payouts(api_client, 6)
    in_flight = wait_until(
        lambda: list(statuses(ids).values()).count(PayoutStatus.PROCESSING) >= 2, timeout=20
    )
    assert in_flight, first.output()[-3000:]

    first.stop(signal.SIGKILL)

    abandoned = [pid for pid, status in statuses(ids).items() if status == PayoutStatus.PROCESSING]
    assert abandoned, "the kill should leave payouts PROCESSING"
    second = start_consumer(workers=4)
    settings.PAYOUT_PROCESSING_LEASE_SECONDS = 1
    settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = 1

    def recovered() -> bool:
        services.payouts_recover_stalled()
        return set(statuses(ids).values()) <= FINAL

    done = wait_until(recovered, timeout=45, interval=1)
    assert done, f"{statuses(ids)}\n{second.output()[-3000:]}"
    assert_each_finished_exactly_once(ids)
    for payout_id in abandoned:
        assert Payout.objects.get(pk=payout_id).attempts == 2


def test_sigterm_lets_running_payouts_finish(api_client, start_consumer):
    consumer = start_consumer(workers=4, PAYOUT_PROCESSING_DELAY_SECONDS="2")
    ids = create_payouts(api_client, 3)
    assert wait_until(lambda: PayoutStatus.PROCESSING in statuses(ids).values(), timeout=20), (
        consumer.output()[-3000:]
    )
    processing = [pid for pid, status in statuses(ids).items() if status == PayoutStatus.PROCESSING]

    consumer.stop(signal.SIGTERM, timeout=20)

    assert consumer.process is not None
    assert consumer.process.returncode == 0, consumer.output()[-3000:]
    for payout_id in processing:
        assert Payout.objects.get(pk=payout_id).status == PayoutStatus.COMPLETED


def test_a_stop_past_the_shutdown_timeout_releases_the_payout_to_the_next_consumer(
    api_client, start_consumer
):
    first = start_consumer(
        workers=1, PAYOUT_PROCESSING_DELAY_SECONDS="30", HUEY_SHUTDOWN_TIMEOUT="0.5"
    )
    [payout_id] = create_payouts(api_client, 1)
    assert wait_until(
        lambda: Payout.objects.get(pk=payout_id).status == PayoutStatus.PROCESSING, timeout=20
    ), first.output()[-3000:]

    first.stop(signal.SIGTERM, timeout=20)

    released = PayoutEvent.objects.filter(
        payout_id=payout_id, reason="Released: the consumer stopped mid-attempt."
    )
    assert released.exists(), first.output()[-3000:]
    second = start_consumer(workers=1)
    done = wait_until(
        lambda: Payout.objects.get(pk=payout_id).status == PayoutStatus.COMPLETED, timeout=30
    )
    assert done, second.output()[-3000:]
    assert Payout.objects.get(pk=payout_id).attempts == 1
