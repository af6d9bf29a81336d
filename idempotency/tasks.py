"""The periodic purge of idempotency keys past their TTL."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from idempotency.services import purge_expired

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/10"))
def purge_expired_idempotency_keys() -> None:
    """Every ten minutes: forget keys older than PAYOUT_IDEMPOTENCY_TTL_HOURS. Two consumers
    running it at once delete disjoint or already-deleted rows, which is harmless."""
    purged = purge_expired()
    if purged:
        logger.info("Purged %s expired idempotency key(s)", purged)
