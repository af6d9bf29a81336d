"""The webhooks queue's tasks: thin, they call webhooks.delivery."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from huey import crontab

from payouts.leases import lease
from webhooks import delivery
from webhooks.queue import WEBHOOK_HUEY, db_periodic_task, db_task

logger = logging.getLogger(__name__)

# Longer than any sweep takes, short enough that a consumer killed mid-sweep delays the next
# one by minutes.
SWEEP_LEASE_SECONDS = 120


@db_task()
def fan_out(event_position: int) -> None:
    """Make an event's deliveries and enqueue them."""
    delivery.deliveries_create(event_position)


@db_task()
def deliver(delivery_id: str) -> None:
    """Make one delivery's due attempt; a duplicate message finds none and does nothing."""
    delivery.delivery_attempt(delivery_id)


def enqueue_fan_out(event_position: int) -> None:
    WEBHOOK_HUEY.enqueue(fan_out.s(event_position=event_position))


def enqueue_delivery(delivery_id: uuid.UUID | str, *, eta: datetime | None = None) -> None:
    """Enqueue a delivery's attempt, due at `eta` (now if None)."""
    WEBHOOK_HUEY.enqueue(deliver.s(delivery_id=str(delivery_id), eta=eta))


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    """Every minute, in one webhooks consumer at a time: fan out events and send deliveries
    whose task messages were lost."""
    with lease("webhook-delivery-sweep", seconds=SWEEP_LEASE_SECONDS) as held:
        if not held:
            return
        report = delivery.deliveries_sweep()
    if report.dispatched_events or report.requeued_deliveries:
        logger.warning("Webhook sweep: %s", report)
