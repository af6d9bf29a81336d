"""Scale-out: consumers started against one queue share its work, with nothing else to set up."""

from __future__ import annotations

import re

from payouts.models import PayoutEvent, PayoutStatus
from tests.integration.conftest import wait_until
from tests.integration.test_processing import create_payouts, statuses

# Huey logs each message it runs by its id.
EXECUTED = re.compile(r"Executing payouts\.tasks\.process_payout: ([0-9a-f-]{36})")


def test_two_consumers_on_one_queue_share_the_payouts_and_run_each_message_once(
    api_client, start_consumer
):
    # Whatever their worker types: a fleet moving from threads to greenlets runs both at once.
    # As many workers each, so that each consumer waits on the queue as often as the other.
    consumers = [
        start_consumer(workers=8, PAYOUT_PROCESSING_DELAY_SECONDS="0.3"),
        start_consumer(
            workers=8, HUEY_WORKER_TYPE="greenlet", PAYOUT_PROCESSING_DELAY_SECONDS="0.3"
        ),
    ]
    started = wait_until(
        lambda: all("Huey consumer started" in c.output() for c in consumers), timeout=30
    )
    assert started, "\n".join(c.output()[-3000:] for c in consumers)
    ids = create_payouts(api_client, 40)

    done = wait_until(lambda: set(statuses(ids).values()) == {PayoutStatus.COMPLETED}, timeout=60)

    assert done, f"{statuses(ids)}\n" + "\n".join(c.output()[-3000:] for c in consumers)
    runs = [EXECUTED.findall(consumer.output()) for consumer in consumers]
    assert all(runs), f"one consumer ran everything: {[len(r) for r in runs]}"
    every_run = [message for ran in runs for message in ran]
    assert len(every_run) == len(set(every_run)) == len(ids)
    for payout_id in ids:
        history = PayoutEvent.objects.filter(payout_id=payout_id).values_list("kind", flat=True)
        assert list(history) == ["created", "processing", "completed"]
