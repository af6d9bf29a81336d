"""Huey tasks and signal handlers for payout processing: thin, they call services."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from huey import crontab, signals
from huey.api import Task
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task, signal

from payouts import services
from payouts.provider import provider_request_for, provider_send

logger = logging.getLogger(__name__)


def attempt_number(task: Task) -> int:
    """Huey counts retries down to 0; the message carries its last attempt, so this is stable
    even when the consumer runs with another PAYOUT_MAX_RETRIES than the API that enqueued it."""
    last_attempt: int = task.args[1]
    retries_left: int = task.retries
    return last_attempt - retries_left


@db_task(context=True)
def process_payout(payout_id: str, last_attempt: int, task: Task) -> None:
    attempt = attempt_number(task)
    payout = services.payout_start_attempt(payout_id, attempt)
    if payout is None:
        return
    try:
        provider_send(provider_request_for(payout))
    except Exception as error:
        if task.retries:
            services.payout_record_attempt_failure(payout_id, attempt, str(error))
        raise
    services.payout_complete(payout_id)


def processing_task(payout_id: uuid.UUID | str, *, next_attempt: int = 1) -> Task:
    """The task message for a payout's next attempt, with the retry budget that remains.

    The budget, the first retry delay and the backoff travel in the message, so retries follow
    the settings of the process that accepted the payout, whatever the consumer's own say.
    """
    last_attempt = settings.PAYOUT_MAX_RETRIES + 1
    task: Task = process_payout.s(
        str(payout_id),
        last_attempt,
        retries=max(last_attempt - next_attempt, 0),
        retry_delay=settings.PAYOUT_RETRY_DELAY_SECONDS,
        retry_backoff=settings.PAYOUT_RETRY_BACKOFF,
    )
    return task


def enqueue_processing(payout_id: uuid.UUID | str, *, next_attempt: int = 1) -> None:
    HUEY.enqueue(processing_task(payout_id, next_attempt=next_attempt))


@signal(signals.SIGNAL_ERROR)
def fail_payout_after_last_attempt(
    signal_name: str, task: Task, exc: BaseException | None = None, **_: Any
) -> None:
    """Huey emits an error for every failed attempt; only the last one (no retries left) fails."""
    if not isinstance(task, process_payout.task_class) or task.retries:
        return
    payout_id = task.args[0]
    reason = f"Failed after {attempt_number(task)} attempt(s): {exc}"
    try:
        services.payout_fail(payout_id, reason)
    except Exception:
        logger.exception("Could not mark payout %s as FAILED", payout_id)


@signal(signals.SIGNAL_INTERRUPTED)
def release_interrupted_payout(signal_name: str, task: Task, **_: Any) -> None:
    """A consumer stopping mid-call gives its attempt back instead of leaving it PROCESSING."""
    if not isinstance(task, process_payout.task_class):
        return
    payout_id = task.args[0]
    try:
        released = services.payout_release_attempt(
            payout_id, attempt_number(task), reason="Released: the consumer stopped mid-attempt."
        )
    except Exception:
        logger.exception("Could not release payout %s; the recovery sweep will", payout_id)
        return
    if released:
        logger.warning("Released payout %s for another consumer", payout_id)


@db_periodic_task(crontab(minute="*"))
@lock_task("payout-recovery-sweep")
def recover_stalled_payouts() -> None:
    """Every minute: re-enqueue payouts whose task was lost, retry or fail abandoned ones."""
    report = services.payouts_recover_stalled()
    if report != services.RecoveryReport():
        logger.warning("Recovery sweep: %s", report)
