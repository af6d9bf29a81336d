"""Huey tasks and signal handlers for payout processing: thin, they call services."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from huey import crontab, signals
from huey.api import Task
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, on_shutdown, on_startup, signal
from huey.exceptions import RetryTask

from payouts import metrics, services
from payouts.leases import lease
from payouts.logs import attempt_settled, current_request_id, task_context
from payouts.models import Payout
from payouts.providers import (
    Declined,
    Instruction,
    Outcome,
    Paid,
    Rejected,
    Retryable,
    Unknown,
    current_provider,
)

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
def process_payout(
    payout_id: str, max_attempts: int, task: Task, request_id: str | None = None
) -> None:
    """Run one attempt of a payout. `request_id` is the request that caused it, for the log
    context (payouts.logs binds it); messages from before request ids come without it."""
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
    with metrics.recording_attempt() as record_outcome:
        outcome = send(payout, attempt)
        record_outcome(outcome)
        settle(payout_id, attempt, payout.max_attempts, outcome)


def send(payout: Payout, attempt: int) -> Outcome:
    """Ask the provider, holding no database connection while it answers: a thousand workers
    waiting on a slow provider share the pool's few connections instead of one each."""
    instruction = Instruction.for_attempt(payout, attempt)
    release_database_connection()
    try:
        return current_provider().send(instruction)
    except Exception as error:
        # An adapter's own bug, perhaps after the request went out: the provider may have paid.
        logger.exception("Payout %s: attempt %s: the provider call raised", payout.id, attempt)
        return Unknown(f"The provider call raised {type(error).__name__}: {error}")


def release_database_connection() -> None:
    """Give this worker's connection back (to the pool on PostgreSQL) for the provider's wait.

    Never inside a transaction: there the connection is the caller's (a test's, say)."""
    if not connection.in_atomic_block:
        connection.close()


def settle(payout_id: str, attempt: int, max_attempts: int, outcome: Outcome) -> None:
    """Record what the provider answered, and run whatever it calls for next."""
    match outcome:
        # The record first, then the log line: nothing may come between a payment and its record.
        case Paid(provider_reference=reference):
            record_paid(payout_id, attempt, reference)
            attempt_settled(payout_id, attempt, max_attempts, outcome)
        case Declined():
            services.payout_decline(payout_id, attempt, outcome)
            attempt_settled(payout_id, attempt, max_attempts, outcome)
        case Rejected():
            next_attempt = services.payout_after_rejection(payout_id, attempt, outcome)
            schedule(payout_id, attempt, max_attempts, outcome, next_attempt, None)
        case (
            Retryable(reason=reason, retry_after=retry_after)
            | Unknown(reason=reason, retry_after=retry_after)
        ):
            next_attempt = services.payout_after_unanswered_attempt(
                payout_id, attempt, may_have_paid=isinstance(outcome, Unknown), reason=reason
            )
            schedule(payout_id, attempt, max_attempts, outcome, next_attempt, retry_after)


def schedule(
    payout_id: str,
    attempt: int,
    max_attempts: int,
    outcome: Outcome,
    next_attempt: services.NextAttempt | None,
    retry_after: float | None,
) -> None:
    """Log the attempt, and enqueue the attempt the services decided on after the backoff;
    nothing if none."""
    delay = retry_delay(attempt, retry_after)
    attempt_settled(
        payout_id, attempt, max_attempts, outcome, next_attempt=next_attempt, delay=delay
    )
    if next_attempt is None:
        return
    enqueue_processing(
        payout_id, attempt=next_attempt.number, max_attempts=next_attempt.max_attempts, delay=delay
    )


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """How long to wait after unanswered attempt `attempt`: exponential backoff, never sooner
    than the provider's Retry-After, and at most PAYOUT_RETRY_MAX_DELAY_SECONDS (the settings
    keep the processing lease longer than that, so a waiting payout is never taken for lost)."""
    backoff: float = settings.PAYOUT_RETRY_DELAY_SECONDS * settings.PAYOUT_RETRY_BACKOFF ** (
        attempt - 1
    )
    longest: float = settings.PAYOUT_RETRY_MAX_DELAY_SECONDS
    return min(max(backoff, retry_after or 0.0), longest)


def record_paid(payout_id: str, attempt: int, provider_reference: str) -> None:
    """Write down that the provider paid, before anything else can fail.

    From here on a failure must never count as a failed attempt: that would call the provider
    again, or mark a paid payout FAILED. If the database refuses the record, the record alone
    is handed to its own task, which retries it until it lands.
    """
    try:
        services.payout_complete(payout_id, attempt, provider_reference)
    except Exception:
        logger.exception("Payout %s was paid; recording it failed and will be retried", payout_id)
        try:
            HUEY.enqueue(
                record_paid_later.s(
                    payout_id=payout_id,
                    attempt=attempt,
                    provider_reference=provider_reference,
                    request_id=current_request_id(),
                )
            )
        except Exception:
            # Database and queue both down: nothing durable is left to write to.
            logger.critical(
                "Payout %s was paid by the provider (reference %s) but neither the database "
                "nor the queue took the record: reconcile it with the provider",
                payout_id,
                provider_reference,
                exc_info=True,
            )


@db_task(retries=RECORD_PAID_RETRIES, retry_delay=RECORD_PAID_RETRY_DELAY_SECONDS)
def record_paid_later(
    payout_id: str, attempt: int, provider_reference: str = "", request_id: str | None = None
) -> None:
    """Record a payment the provider already made; never calls the provider. `request_id` is
    for the log context, as process_payout's."""
    services.payout_complete(payout_id, attempt, provider_reference)


def processing_task(
    payout_id: uuid.UUID | str,
    *,
    attempt: int,
    max_attempts: int,
    delay: float = 0.0,
    request_id: str | None = None,
) -> Task:
    """The task message for attempt `attempt` of a payout whose budget is `max_attempts`, due
    in `delay` seconds, on behalf of request `request_id`.

    The budget travels in the message so that the attempt number never depends on the
    consumer's settings. Huey's own retries (what is left of the budget) serve only an
    unexpected error; an unanswered attempt schedules the next one itself, so that its delay
    can honour the provider's Retry-After.
    """
    task: Task = process_payout.s(
        payout_id=str(payout_id),
        max_attempts=max_attempts,
        # Outside any request or task (a shell, a test) there is no id to carry.
        **({"request_id": request_id} if request_id else {}),
        retries=max(max_attempts - attempt, 0),
        retry_delay=settings.PAYOUT_RETRY_DELAY_SECONDS,
        retry_backoff=settings.PAYOUT_RETRY_BACKOFF,
        delay=delay if delay > 0 else None,
    )
    return task


def enqueue_processing(
    payout_id: uuid.UUID | str, *, attempt: int, max_attempts: int, delay: float = 0.0
) -> None:
    """Enqueue an attempt on behalf of the request (or task) being served: retries keep the
    id of the request that created the payout."""
    HUEY.enqueue(
        processing_task(
            payout_id,
            attempt=attempt,
            max_attempts=max_attempts,
            delay=delay,
            request_id=current_request_id(),
        )
    )


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
def settle_attempt_after_error(
    signal_name: str, task: Task, exc: BaseException | None = None, **_: Any
) -> None:
    """An attempt whose outcome could not be recorded (the provider call itself never raises,
    and a payment is recorded by its own task) counts as an attempt that may have paid.

    Huey's own retry runs the next attempt while the message has retries left; after the last
    one, this records the payout's final state, or schedules the attempts its unknown outcome
    earns.
    """
    if not isinstance(task, process_payout.task_class):
        return
    payout_id = task.kwargs["payout_id"]
    attempt = attempt_number(task)
    reason = f"Its outcome could not be recorded: {type(exc).__name__}: {exc}"
    try:
        next_attempt = services.payout_after_unanswered_attempt(
            payout_id, attempt, may_have_paid=True, reason=reason
        )
        if next_attempt is not None and not task.retries:
            enqueue_processing(
                payout_id,
                attempt=next_attempt.number,
                max_attempts=next_attempt.max_attempts,
                delay=retry_delay(attempt, None),
            )
    except Exception:
        logger.exception("Could not settle attempt %s of payout %s", attempt, payout_id)


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
    # Huey also sends this from the consumer's main thread, outside the task's log context.
    with structlog.contextvars.bound_contextvars(**task_context(task)):
        _release(task)


def _release(task: Task) -> None:
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


@on_startup()
def start_consumer_reporting() -> None:
    """In each consumer process: its heartbeat and, with WORKER_METRICS_PORT, its metrics."""
    metrics.consumer_worker_started()


@on_shutdown()
def stop_consumer_reporting() -> None:
    metrics.consumer_worker_stopped()


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
