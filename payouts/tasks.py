"""Huey tasks and signal handlers for payout processing: thin, they call services."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from huey import signals
from huey.api import Task
from huey.contrib.djhuey import db_task, signal

from payouts import services
from payouts.provider import ProviderError, provider_request_for, provider_send

logger = logging.getLogger(__name__)

RETRY_BACKOFF = 2


def attempt_number(task: Task) -> int:
    """Huey counts retries down from PAYOUT_MAX_RETRIES; attempts count up from 1."""
    retries_left: int = task.retries
    return settings.PAYOUT_MAX_RETRIES - retries_left + 1


@db_task(
    retries=settings.PAYOUT_MAX_RETRIES,
    retry_delay=settings.PAYOUT_RETRY_DELAY_SECONDS,
    retry_backoff=RETRY_BACKOFF,
    context=True,
)
def process_payout(payout_id: str, task: Task) -> None:
    attempt = attempt_number(task)
    payout = services.payout_start_attempt(payout_id, attempt)
    if payout is None:
        return
    try:
        provider_send(provider_request_for(payout))
    except ProviderError as error:
        if task.retries:
            services.payout_record_attempt_failure(payout_id, attempt, str(error))
        raise
    services.payout_complete(payout_id)


@signal(signals.SIGNAL_ERROR)
def fail_payout_after_last_attempt(
    signal_name: str, task: Task, exc: BaseException | None = None, **_: Any
) -> None:
    """Huey emits an error for every failed attempt; only the last one (no retries left) fails."""
    if task.name != process_payout.name or task.retries:
        return
    payout_id = task.args[0]
    reason = f"Failed after {attempt_number(task)} attempt(s): {exc}"
    try:
        services.payout_fail(payout_id, reason)
    except Exception:
        logger.exception("Could not mark payout %s as FAILED", payout_id)
