"""The ledger check: after a rough run, the service's record agrees exactly with the provider's.

Two consumers pay a few hundred payouts through the http adapter and the fake provider, which
fails, hangs, declines and pays-then-drops 10% of requests each; one consumer is killed with
SIGKILL mid-run and the recovery sweep takes its payouts back. Then every payout must be final,
and each COMPLETED payout paid exactly once under the same reference, no other payout paid, and
every decline FAILED with its code.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from typing import Any

import pytest

from payouts import services
from payouts.models import Payout, PayoutStatus
from tests.conftest import payout_payload
from tests.integration.conftest import ROOT, wait_until
from tests.integration.fake_provider import FakeProviderProcess

PAYOUTS = 300
# Short enough to run in CI, long enough that a hung request outlives the client's timeout.
PROVIDER_TIMEOUT_SECONDS = 1.0
HANG_SECONDS = 1.5
LEASE_SECONDS = 4


@pytest.fixture
def rough_provider() -> Any:
    provider = FakeProviderProcess(
        ROOT / "data" / f"fake-provider-{time.monotonic_ns()}.log",
        latency=0.02,
        decline_rate=0.1,
        error_rate=0.1,
        timeout_rate=0.1,
        drop_rate=0.1,
        hang_seconds=HANG_SECONDS,
        retry_after=0,
        seed=13,
    )
    provider.start()
    yield provider
    provider.stop()
    provider.log.unlink(missing_ok=True)


def final_record() -> dict[str, Payout]:
    return {str(payout.id): payout for payout in Payout.objects.all()}


def test_the_service_agrees_with_the_providers_ledger_after_a_consumer_is_killed(
    owner, start_consumer, rough_provider, settings
):
    knobs = {
        "PAYOUT_PROVIDER": "http",
        "PAYOUT_PROVIDER_URL": rough_provider.url,
        "PAYOUT_PROVIDER_TIMEOUT_SECONDS": PROVIDER_TIMEOUT_SECONDS,
        "PAYOUT_RETRY_DELAY_SECONDS": 0.05,
        "PAYOUT_RETRY_MAX_DELAY_SECONDS": 0.5,
        "PAYOUT_PROCESSING_LEASE_SECONDS": LEASE_SECONDS,
    }
    doomed = start_consumer(workers=8, **knobs)
    survivor = start_consumer(workers=8, **knobs)
    # Two attempts each: most payouts whose answer is lost meet the end of their budget, where
    # failing them as unpaid would be wrong.
    settings.PAYOUT_MAX_RETRIES = 1
    # The sweep runs here, every half second, instead of once a minute in the consumers.
    settings.PAYOUT_PROCESSING_LEASE_SECONDS = LEASE_SECONDS
    settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = LEASE_SECONDS

    ids = [
        str(services.payout_create(owner.caller, payout_payload(amount=f"{n + 1}.00")).id)
        for n in range(PAYOUTS)
    ]

    def finished() -> int:
        return Payout.objects.filter(
            status__in=[PayoutStatus.COMPLETED, PayoutStatus.FAILED]
        ).count()

    assert wait_until(lambda: finished() >= PAYOUTS // 4, timeout=60), doomed.output()[-3000:]
    in_flight_when_killed = PAYOUTS - finished()
    doomed.stop(signal.SIGKILL)

    def swept_until_final() -> bool:
        services.payouts_recover_stalled()
        return finished() == PAYOUTS

    done = wait_until(swept_until_final, timeout=180, interval=0.5)
    record = final_record()
    ledger = rough_provider.ledger()
    unfinished = Counter(
        p.status for p in record.values() if p.status not in {"COMPLETED", "FAILED"}
    )
    assert done, f"{unfinished}\n{survivor.output()[-3000:]}"
    assert in_flight_when_killed > 0

    paid = {key: entry for key, entry in ledger["payouts"].items() if entry["status"] == "paid"}
    declined = {
        key: entry for key, entry in ledger["payouts"].items() if entry["status"] == "declined"
    }
    completed = {key for key, p in record.items() if p.status == PayoutStatus.COMPLETED}
    # Every COMPLETED payout was paid once, under the reference the service shows.
    assert completed == set(paid)
    for key in completed:
        assert paid[key]["paid_count"] == 1
        assert record[key].provider_reference == paid[key]["provider_reference"]
        assert paid[key]["amount"] == f"{record[key].amount:.2f}"
    # No payout outside COMPLETED was paid, and each decline is FAILED with its code.
    for key, entry in declined.items():
        assert (record[key].status, record[key].failure_code) == ("FAILED", entry["code"])
    assert set(ledger["payouts"]) <= set(ids)
    # The run met every kind of trouble the check is about.
    totals = ledger["totals"]
    assert min(totals["errors"], totals["timeouts"], totals["drops"], totals["declined"]) > 0
