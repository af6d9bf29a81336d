"""Huey tasks and signal handlers for payout processing: thin, they call services."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from huey import crontab, signals
from huey.api import Task
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, signal
from huey.exceptions import RetryTask

from payouts import services
from payouts.leases import lease
from payouts.provider import provider_request_for, provider_send

logger = logging.getLogger(__name__)

# Past this many waiting messages the sweep does not read the queue (50,000 take about a second
# and 45 MB to read); it waits for the backlog to shrink, which a backlog that long is doing.
QUEUE_SCAN_LIMIT = 50_000
# Longer than any sweep takes, short enough that a consumer killed mid-sweep delays the next
# one by minutes, not forever.
RECOVERY_SWEEP_LEASE_SECONDS = 120
# Recording a payment the provider already made is retried every few seconds for a day: it
# must outlast any database outage, and it never calls the provider again.
RECORD_PAID_RETRY_DELAY_SECONDS = 5
RECORD_PAID_RETRIES = 24 * 3600 // RECORD_PAID_RETRY_DELAY_SECONDS


def attempt_number(task: Task) -> int:
    """Huey counts retries down to 0; the message carries the payout's budget, so the attempt
    is the budget less the retries left, whatever the consumer's own settings say."""
    max_attempts: int = task.kwargs["max_attempts"]
    retries_left: int = task.retries
    return max_attempts - retries_left


@db_task(context=True)
def process_payout(payout_id: str, max_attempts: int, task: Task) -> None:
    attempt = attempt_number(task)
    try:
        payout = services.payout_start_attempt(payout_id, attempt)
    except Exception as error:
        # Nothing was claimed, so nothing was sent: run this same attempt again later. A plain
        # failure here would spend an attempt, or fail the payout on its last one.
        logger.warning(
            "Payout %s: attempt %s not started (%s); retrying it", payout_id, attempt, error
        )
        raise RetryTask(delay=settings.PAYOUT_RETRY_DELAY_SECONDS) from error
    if payout is None:
        return
    try:
        provider_send(provider_request_for(payout))
    except Exception as error:
        if task.retries:
            services.payout_record_attempt_failure(payout_id, attempt, str(error))
        raise
    record_paid(payout_id, attempt)


def record_paid(payout_id: str, attempt: int) -> None:
    """Write down that the provider paid, before anything else can fail.

    From here on a failure must never count as a failed attempt: that would call the provider
    again, or mark a paid payout FAILED. If the database refuses the record, the record alone
    is handed to its own task, which retries it until it lands.
    """
    try:
        services.payout_complete(payout_id, attempt)
    except Exception:
        logger.exception("Payout %s was paid; recording it failed and will be retried", payout_id)
        try:
            HUEY.enqueue(record_paid_later.s(payout_id=payout_id, attempt=attempt))
        except Exception:
            # Database and queue both down: nothing durable is left to write to.
            logger.critical(
                "Payout %s was paid by the provider but neither the database nor the queue "
                "took the record: reconcile it with the provider",
                payout_id,
                exc_info=True,
            )


@db_task(retries=RECORD_PAID_RETRIES, retry_delay=RECORD_PAID_RETRY_DELAY_SECONDS)
def record_paid_later(payout_id: str, attempt: int) -> None:
    """Record a payment the provider already made; never calls the provider."""
    services.payout_complete(payout_id, attempt)


def processing_task(payout_id: uuid.UUID | str, *, attempt: int, max_attempts: int) -> Task:
    """The task message for attempt `attempt` of a payout whose budget is `max_attempts`.

    The budget travels in the message so that the attempt number never depends on the
    consumer's settings; the retry delays are those of the process that enqueues.
    """
    task: Task = process_payout.s(
        payout_id=str(payout_id),
        max_attempts=max_attempts,
        retries=max(max_attempts - attempt, 0),
        retry_delay=settings.PAYOUT_RETRY_DELAY_SECONDS,
        retry_backoff=settings.PAYOUT_RETRY_BACKOFF,
    )
    return task


def enqueue_processing(payout_id: uuid.UUID | str, *, attempt: int, max_attempts: int) -> None:
    HUEY.enqueue(processing_task(payout_id, attempt=attempt, max_attempts=max_attempts))


def payout_ids_with_queued_work() -> set[uuid.UUID] | None:
    """The payouts a message waiting in the queue or the schedule will still work on.

    None when the queue is too long to read (see QUEUE_SCAN_LIMIT).
    """
    count: int = HUEY.pending_count() + HUEY.scheduled_count()
    if count > QUEUE_SCAN_LIMIT:
        logger.warning("The queue holds %d messages: recovery waits for it to shrink", count)
        return None
    payout_tasks = (process_payout.task_class, record_paid_later.task_class)
    # The schedule first: a retry that falls due meanwhile moves to the queue, read second.
    messages = [*HUEY.scheduled(), *HUEY.pending()]
    return {
        uuid.UUID(task.kwargs["payout_id"]) for task in messages if isinstance(task, payout_tasks)
    }


@signal(signals.SIGNAL_ERROR)
def fail_payout_after_last_attempt(
    signal_name: str, task: Task, exc: BaseException | None = None, **_: Any
) -> None:
    """Huey emits an error for every failed attempt; only the last one (no retries left) fails.

    A process_payout error always comes from its provider call: the task retries its claim
    without an error, and never raises once the provider has paid.
    """
    if not isinstance(task, process_payout.task_class) or task.retries:
        return
    payout_id = task.kwargs["payout_id"]
    attempt = attempt_number(task)
    try:
        services.payout_fail(payout_id, attempt, f"Failed after {attempt} attempt(s): {exc}")
    except Exception:
        logger.exception("Could not mark payout %s as FAILED", payout_id)


@signal(signals.SIGNAL_ERROR)
def alert_unrecorded_payment(signal_name: str, task: Task, *_: Any) -> None:
    """The record of a payment gave up after a day: someone must complete it by hand."""
    if isinstance(task, record_paid_later.task_class) and not task.retries:
        logger.critical(
            "Payout %s was paid by the provider but recording it failed for a day: "
            "complete it by hand after checking the provider",
            task.kwargs["payout_id"],
        )


@signal(signals.SIGNAL_INTERRUPTED)
def release_interrupted_payout(signal_name: str, task: Task, **_: Any) -> None:
    """A consumer stopping mid-task gives its work back instead of leaving it PROCESSING."""
    if isinstance(task, record_paid_later.task_class):
        try:
            HUEY.enqueue(record_paid_later.s(**task.kwargs))
        except Exception:
            logger.critical(
                "Payout %s was paid; its record was interrupted and could not be queued again",
                task.kwargs["payout_id"],
                exc_info=True,
            )
        return
    if not isinstance(task, process_payout.task_class):
        return
    payout_id = task.kwargs["payout_id"]
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
def recover_stalled_payouts() -> None:
    """Every minute, in one consumer at a time: take back payouts no task will finish."""
    with lease("payout-recovery-sweep", seconds=RECOVERY_SWEEP_LEASE_SECONDS) as held:
        if not held:
            return
        report = services.payouts_recover_stalled()
    if report.requeued_pending or report.retried_processing or report.failed_processing:
        logger.warning("Recovery sweep: %s", report)
    elif report.still_queued:
        logger.info("Recovery sweep: %s", report)
