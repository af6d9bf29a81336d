"""The periodic purge of idempotency keys past their TTL."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from idempotency.services import purge_expired

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def purge_expired_idempotency_keys() -> None:
    """Every minute: forget keys older than PAYOUT_IDEMPOTENCY_TTL_HOURS, up to 100,000 a run
    (6 million an hour, more than keyed creates can make). Two consumers running it at once
    delete disjoint or already-deleted rows, which is harmless."""
    purged = purge_expired()
    if purged:
        logger.info("Purged %s expired idempotency key(s)", purged)
