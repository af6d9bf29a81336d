"""Every payout write: create, update, delete and each step of processing, one transaction each."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from clients.models import Client
from events.services import event_record, event_type_of
from payouts.callers import WORKER, Caller
from payouts.errors import (
    ClientRequired,
    PayoutNotDeletable,
    PayoutNotEditable,
    PayoutNotFound,
    PayoutTransitionNotAllowed,
    ReferenceInUse,
)
from payouts.history import edit_changes
from payouts.logs import payout_changed, payout_finished, payout_recovered
from payouts.models import FailureCode, Payout, PayoutEvent, PayoutEventKind, PayoutStatus
from payouts.providers import Declined, Rejected
from payouts.selectors import parse_payout_id, payout_list_stalled
from payouts.states import (
    ATTEMPT_STATUS,
    EDITABLE_STATUSES,
    FINAL_STATUSES,
    can_start_attempt,
    can_transition,
    sources_of,
)
from payouts.validation import payout_clean

logger = logging.getLogger(__name__)

MSG_REQUEUED_LOST = "No message for it in the queue: enqueued again."
MSG_REQUEUED_ABANDONED = "Processing lease expired with no message for it in the queue: retrying."
MSG_ABANDONED = (
    "Processing lease expired with no message for it in the queue: the consumer stopped "
    "mid-attempt, perhaps after the provider was asked."
)
MSG_UNAVAILABLE = "The provider did not take it in {attempts} attempt(s). Last: {reason}"
MSG_EXTENDED = (
    "The provider may have paid an earlier attempt: {extra} more attempt(s) under the same "
    "idempotency key to learn its answer."
)
MSG_UNKNOWN_OUTCOME = (
    "No answer from the provider in {attempts} attempt(s), and it may have paid: check with the "
    "provider before paying again. Last: {reason}"
)


def _enqueue_processing(payout: Payout, *, attempt: int) -> None:
    # Imported here because the task module imports these services.
    from payouts.tasks import enqueue_processing

    try:
        enqueue_processing(payout.id, attempt=attempt, max_attempts=payout.max_attempts)
    except Exception:
        # The payout is committed; the recovery sweep enqueues it once the queue is back.
        logger.exception(
            "Could not enqueue payout %s; the recovery sweep will pick it up",
            payout.id,
            extra={"payout_id": str(payout.id)},
        )


def _accept(payout: Payout) -> None:
    payout_changed(payout.id, "created")
    _enqueue_processing(payout, attempt=1)


def _lock(payout_id: object, caller: Caller) -> Payout:
    """Lock a payout the caller may change; another client's payout is not found, as if it
    did not exist."""
    payouts = Payout.objects.live().filter(caller.scope()).select_for_update()
    try:
        return payouts.get(pk=parse_payout_id(payout_id))
    except Payout.DoesNotExist:
        raise PayoutNotFound() from None


def _lock_or_none(payout_id: object) -> Payout | None:
    """Lock a payout for the worker, which sees every client's."""
    try:
        return _lock(payout_id, WORKER)
    except PayoutNotFound:
        return None


def _record(
    payout_id: uuid.UUID,
    kind: str,
    *,
    from_status: str,
    to_status: str,
    attempt: int,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    caller: Caller = WORKER,
) -> None:
    """Append one event to a payout's history, in the transaction of the change it records."""
    PayoutEvent.objects.create(
        payout_id=payout_id,
        actor_kind=caller.actor_kind,
        actor=caller.actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        attempt=attempt,
        reason=reason,
        changes=changes or {},
    )


def _record_on(payout: Payout, kind: str, *, from_status: str, **details: Any) -> None:
    """Record a change of `payout`, which now holds its new status and attempt count, and the
    event its client sees of it, if any."""
    details.setdefault("attempt", payout.attempts)
    _record(payout.id, kind, from_status=from_status, to_status=payout.status, **details)
    _publish(payout, kind, from_status)


def _publish(payout: Payout, kind: str, from_status: str) -> None:
    event_type = event_type_of(kind, from_status)
    if event_type is not None:
        event_record(payout, event_type)


def _reference_holder(client: Client, reference: str) -> uuid.UUID | None:
    """The live payout of the client that holds the reference, if any."""
    return (
        Payout.objects.live()
        .filter(client=client, reference=reference)
        .values_list("id", flat=True)
        .first()
    )


def _refuse_reference_in_use(client: Client, reference: str) -> None:
    """Raise ReferenceInUse if a live payout of the client holds the reference."""
    holder = _reference_holder(client, reference)
    if holder is not None:
        raise ReferenceInUse(reference, holder)


def _insert_payout(client: Client, cleaned: dict[str, Any]) -> Payout | uuid.UUID:
    """The new payout, or the id of the payout that took its reference first: a concurrent
    create, committed between the check and this insert, which the unique constraint saw."""
    fields = {**cleaned, "client": client, "max_attempts": settings.PAYOUT_MAX_RETRIES + 1}
    reference = cleaned.get("reference")
    if reference is None:
        return Payout.objects.create(**fields)
    try:
        # A savepoint, so that a lost race leaves the transaction usable for the lookup.
        with transaction.atomic():
            return Payout.objects.create(**fields)
    except IntegrityError:
        # On PostgreSQL the insert waited for the winner's commit, so it is visible now.
        holder = _reference_holder(client, reference)
        if holder is None:
            raise
        return holder


def payout_create(caller: Caller, data: object) -> Payout:
    """Validate and store a PENDING payout of the caller's client; its processing is enqueued
    once the commit lands.

    A reference the client's live payouts already hold is refused with ReferenceInUse naming
    that payout, also when a concurrent create takes it between the check and the insert: the
    database's unique constraint decides, and the loser looks the winner up.

    The retry budget is fixed here, from this process's settings, and stored with the payout:
    every attempt, release and recovery reads it from the row.
    """
    client = caller.client
    if client is None:
        raise ClientRequired()
    cleaned = payout_clean(data)
    reference = cleaned.get("reference")
    if reference is not None:
        _refuse_reference_in_use(client, reference)
    # Every refusal above comes before the first write, so the writes need no savepoint of
    # their own inside a caller's transaction (an Idempotency-Key's, which then stores the
    # answer): an error from here on fails that whole transaction, as it should. Two round
    # trips fewer for every keyed create.
    with transaction.atomic(savepoint=False):
        created = _insert_payout(client, cleaned)
        if isinstance(created, Payout):
            payout = created
            _record_on(payout, PayoutEventKind.CREATED, from_status="", caller=caller)
            transaction.on_commit(lambda: _accept(payout))
    if not isinstance(created, Payout):
        raise ReferenceInUse(str(reference), created)
    return created


@transaction.atomic
def payout_update(caller: Caller, payout_id: object, data: object) -> Payout:
    """Apply a partial edit; refused unless the payout is still PENDING when its row is locked."""
    payout = _lock(payout_id, caller)
    if payout.status not in EDITABLE_STATUSES:
        raise PayoutNotEditable()
    cleaned = payout_clean(data, instance=payout)
    changed = {field: value for field, value in cleaned.items() if getattr(payout, field) != value}
    if not changed:
        return payout
    changes = edit_changes(payout, changed)
    for field, value in changed.items():
        setattr(payout, field, value)
    payout.save(update_fields=[*changed, "updated_at"])
    _record_on(
        payout, PayoutEventKind.UPDATED, from_status=payout.status, changes=changes, caller=caller
    )
    payout_changed(payout.id, f"updated ({', '.join(changed)})")
    return payout


@transaction.atomic
def payout_delete(caller: Caller, payout_id: object) -> None:
    """Delete a payout no worker has started: it stays as a tombstone, with its history."""
    payout = _lock(payout_id, caller)
    if payout.status not in EDITABLE_STATUSES:
        raise PayoutNotDeletable()
    payout.deleted_at = timezone.now()
    payout.save(update_fields=["deleted_at", "updated_at"])
    _record_on(payout, PayoutEventKind.DELETED, from_status=payout.status, caller=caller)
    payout_changed(payout.id, "deleted")


@transaction.atomic
def payout_start_attempt(payout_id: object, attempt: int) -> Payout | None:
    """Claim attempt number `attempt` of a payout, or return None when it is not ours to run.

    The row lock orders the claim against edits and duplicate deliveries: the payout must still
    be startable, its previous attempt must be the one before, and its budget must allow this
    one. Anything else (finished, deleted, an attempt already claimed) is left alone.
    """
    payout = _lock_or_none(payout_id)
    startable = (
        payout is not None
        and can_start_attempt(payout.status)
        and payout.attempts == attempt - 1
        and attempt <= payout.max_attempts
    )
    if payout is None or not startable:
        logger.info(
            "Payout %s is %s; attempt %s skipped",
            payout_id,
            "gone" if payout is None else f"{payout.status} after {payout.attempts} attempt(s)",
            attempt,
        )
        return None
    from_status = payout.status
    payout.status = ATTEMPT_STATUS
    payout.attempts = attempt
    payout.save(update_fields=["status", "attempts", "updated_at"])
    _record_on(payout, PayoutEventKind.PROCESSING, from_status=from_status)
    return payout


@dataclass(frozen=True)
class NextAttempt:
    """The attempt to run next, and the payout's budget (grown when its retries were extended)."""

    number: int
    max_attempts: int


@transaction.atomic
def payout_after_unanswered_attempt(
    payout_id: object, attempt: int, *, may_have_paid: bool, reason: str
) -> NextAttempt | None:
    """Record an attempt the provider did not answer, and decide what comes next.

    With budget left: the next attempt. With the budget spent: FAILED `provider_unavailable` if
    no attempt can have paid. If one may have (its answer was lost), failing could mark a paid
    payout FAILED, so it gets PAYOUT_UNKNOWN_OUTCOME_RETRIES more attempts under the same key,
    once, to learn the answer; if none of those gets an answer either, it is FAILED
    `provider_unknown_outcome`, for an operator to settle with the provider.
    None when the payout FAILED, or has moved past this attempt (a stale message).
    """
    payout = _lock_or_none(payout_id)
    if payout is None or payout.status != ATTEMPT_STATUS or payout.attempts != attempt:
        return None
    kind = PayoutEventKind.ATTEMPT_UNKNOWN if may_have_paid else PayoutEventKind.ATTEMPT_FAILED
    _record_outcome(payout, kind, reason)
    return _next_attempt_or_fail(payout, reason)


@transaction.atomic
def payout_after_rejection(
    payout_id: object, attempt: int, rejected: Rejected
) -> NextAttempt | None:
    """Record the provider's refusal of a request (a 4xx that is no decline) and decide.

    It is final (FAILED `provider_rejected`) when no attempt can have paid. When an earlier one
    may have, a refusal of this request says nothing of that one, so the payout is asked again
    as after any unanswered attempt.
    """
    payout = _lock_or_none(payout_id)
    if payout is None or payout.status != ATTEMPT_STATUS or payout.attempts != attempt:
        return None
    _record_outcome(payout, PayoutEventKind.ATTEMPT_FAILED, rejected.message)
    if not _may_have_paid(payout):
        _fail_locked(payout, FailureCode.PROVIDER_REJECTED, rejected.message)
        return None
    return _next_attempt_or_fail(payout, rejected.message)


def _record_outcome(payout: Payout, kind: str, reason: str, *, caller: Caller = WORKER) -> None:
    """Record how the payout's current attempt ended, once: a second settle of the same
    attempt (its message retried after an error) adds nothing."""
    settled = payout.events.filter(
        attempt=payout.attempts,
        kind__in=[PayoutEventKind.ATTEMPT_FAILED, PayoutEventKind.ATTEMPT_UNKNOWN],
    )
    if not settled.exists():
        _record_on(payout, kind, from_status=payout.status, reason=reason, caller=caller)


def _may_have_paid(payout: Payout) -> bool:
    """Whether any attempt of the payout may have paid: every attempt started must be recorded
    as one that certainly did not (`attempt_failed`) for it to be unpaid. An attempt whose end
    was never recorded (a crash, a database error at the wrong moment) counts as may-have-paid.
    """
    counts = payout.events.aggregate(
        started=Count("id", filter=Q(kind=PayoutEventKind.PROCESSING)),
        unpaid=Count("id", filter=Q(kind=PayoutEventKind.ATTEMPT_FAILED)),
    )
    return bool(counts["started"] > counts["unpaid"])


def _next_attempt_or_fail(
    payout: Payout, last_reason: str, *, caller: Caller = WORKER
) -> NextAttempt | None:
    """For a locked payout in its attempt status whose latest attempt went unanswered."""
    if payout.attempts < payout.max_attempts:
        return NextAttempt(payout.attempts + 1, payout.max_attempts)
    if not _may_have_paid(payout):
        reason = MSG_UNAVAILABLE.format(attempts=payout.attempts, reason=last_reason)
        _fail_locked(payout, FailureCode.PROVIDER_UNAVAILABLE, reason, caller=caller)
        return None
    extra: int = settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES
    extended = payout.events.filter(kind=PayoutEventKind.EXTENDED).exists()
    if extra and not extended:
        payout.max_attempts += extra
        payout.save(update_fields=["max_attempts", "updated_at"])
        _record_on(
            payout,
            PayoutEventKind.EXTENDED,
            from_status=payout.status,
            reason=MSG_EXTENDED.format(extra=extra),
            caller=caller,
        )
        return NextAttempt(payout.attempts + 1, payout.max_attempts)
    reason = MSG_UNKNOWN_OUTCOME.format(attempts=payout.attempts, reason=last_reason)
    _fail_locked(payout, FailureCode.PROVIDER_UNKNOWN_OUTCOME, reason, caller=caller)
    return None


def _fail_locked(payout: Payout, code: str, reason: str, *, caller: Caller = WORKER) -> None:
    from_status = payout.status
    payout.status = PayoutStatus.FAILED
    payout.failure_code = code
    payout.failure_reason = reason
    payout.save(update_fields=["status", "failure_code", "failure_reason", "updated_at"])
    _record_on(
        payout, PayoutEventKind.FAILED, from_status=from_status, reason=reason, caller=caller
    )
    payout_finished(payout.id, PayoutStatus.FAILED, code, reason)


def _finish(
    payout_id: object,
    to_status: str,
    kind: str,
    *,
    attempt: int,
    reason: str = "",
    fields: dict[str, str],
    **match: Any,
) -> bool:
    """Move a payout to a final status with `fields`, as the status machine allows, and
    record it.

    A conditional UPDATE per status the machine lets it come from (and on `match`): its row
    count says whether the payout moved, and a concurrent finish waits for the row and then
    matches nothing. False when the payout is gone, already final (a late duplicate: the first
    state stands) or past what `match` asked for.
    """
    pk = parse_payout_id(payout_id)
    for from_status in sorted(sources_of(to_status)):
        moved = (
            Payout.objects.live()
            .filter(pk=pk, status=from_status, **match)
            .update(status=to_status, updated_at=timezone.now(), **fields)
        )
        if moved:
            _record(
                pk,
                kind,
                from_status=from_status,
                to_status=to_status,
                attempt=attempt,
                reason=reason,
            )
            _publish(Payout.objects.get(pk=pk), kind, from_status)
            payout_finished(pk, to_status, fields.get("failure_code", ""), reason)
            return True
    status = Payout.objects.live().filter(pk=pk).values_list("status", flat=True).first()
    if status is None:
        logger.info("Payout %s is gone; not moving it to %s", payout_id, to_status)
    elif status == PayoutStatus.FAILED and to_status == PayoutStatus.COMPLETED:
        logger.critical(
            "Payout %s was paid by the provider but is already FAILED: reconcile it", payout_id
        )
    elif status in FINAL_STATUSES:
        logger.warning("Payout %s is already %s; not moving it to %s", payout_id, status, to_status)
    elif can_transition(status, to_status):
        logger.warning(
            "Payout %s moved past attempt %s; not moving it to %s", pk, attempt, to_status
        )
    else:
        raise PayoutTransitionNotAllowed(status, to_status)
    return False


@transaction.atomic
def payout_complete(payout_id: object, attempt: int, provider_reference: str) -> bool:
    """Record that the provider paid attempt `attempt`; False if the payout was already final.

    Whatever attempt the answer came from, it stands: a payment is a fact, and the provider's
    idempotency key makes every attempt the same payment.
    """
    return _finish(
        payout_id,
        PayoutStatus.COMPLETED,
        PayoutEventKind.COMPLETED,
        attempt=attempt,
        fields={"provider_reference": provider_reference},
    )


@transaction.atomic
def payout_decline(payout_id: object, attempt: int, declined: Declined) -> bool:
    """Record the provider's final refusal of attempt `attempt`, its code kept verbatim."""
    return payout_fail(payout_id, attempt, declined.code, declined.message)


@transaction.atomic
def payout_fail(payout_id: object, attempt: int, code: str, reason: str) -> bool:
    """Record that the payout failed for good on attempt `attempt`, if that is still its
    current attempt: a stale message never fails a payout that has moved on."""
    return _finish(
        payout_id,
        PayoutStatus.FAILED,
        PayoutEventKind.FAILED,
        attempt=attempt,
        reason=reason,
        fields={"failure_code": code, "failure_reason": reason},
        attempts=attempt,
    )


@transaction.atomic
def payout_release_attempt(payout_id: object, attempt: int, reason: str) -> bool:
    """Give back an attempt a stopping worker could not finish, so it can run again elsewhere.

    Returns True when the attempt was released; it is enqueued again once this commits.
    """
    payout = _lock_or_none(payout_id)
    if payout is None or payout.status != ATTEMPT_STATUS or payout.attempts != attempt:
        return False
    payout.attempts = attempt - 1
    payout.save(update_fields=["attempts", "updated_at"])
    _record_on(
        payout, PayoutEventKind.RELEASED, from_status=payout.status, attempt=attempt, reason=reason
    )
    transaction.on_commit(lambda: _enqueue_processing(payout, attempt=attempt))
    return True


@dataclass(frozen=True)
class RecoveryReport:
    requeued_pending: int = 0
    retried_processing: int = 0
    failed_processing: int = 0
    # Stalled-looking payouts left alone because a message in the queue will still reach them.
    still_queued: int = 0


def payouts_recover_stalled(*, batch_size: int = 500) -> RecoveryReport:
    """Take back payouts that no task will finish: the periodic sweep's work.

    Age only picks the candidates: a payout waiting past PAYOUT_RECOVERY_PENDING_AFTER_SECONDS
    (not started) or PAYOUT_PROCESSING_LEASE_SECONDS (started, its consumer may have died).
    What decides is a fact: no message for it waits in the queue or the schedule. A backlog
    therefore never produces duplicate messages. Each payout taken back is retried as its next
    attempt, or FAILED when its own retry budget is spent, in a transaction of its own under a
    row lock taken with SKIP LOCKED, so concurrent sweeps and live workers never collide.
    """
    from payouts.tasks import payout_ids_with_queued_work

    stalled = payout_list_stalled()
    if not stalled.exists():
        return RecoveryReport()
    queued = payout_ids_with_queued_work()
    if queued is None:  # too long to read: nothing can be shown lost this round
        return RecoveryReport()
    # The oldest stalled payouts, enough of them that a batch remains once the queued are out.
    oldest = stalled.order_by("updated_at").values_list("id", flat=True)[: batch_size + len(queued)]
    candidates = [payout_id for payout_id in oldest if payout_id not in queued]
    counts = {"requeued_pending": 0, "retried_processing": 0, "failed_processing": 0}
    for payout_id in candidates[:batch_size]:
        outcome = _recover_one(payout_id, stalled)
        if outcome:
            counts[outcome] += 1
            payout_recovered(payout_id, outcome)
    return RecoveryReport(**counts, still_queued=len(oldest) - len(candidates))


@transaction.atomic
def _recover_one(
    payout_id: uuid.UUID, stalled: QuerySet[Payout], *, caller: Caller = WORKER
) -> str | None:
    # Locked and checked again: a worker or another sweep may have moved it since it was read.
    payout = stalled.select_for_update(skip_locked=True).filter(pk=payout_id).first()
    if payout is None:
        return None
    if payout.status != ATTEMPT_STATUS:
        _requeue(payout, attempt=payout.attempts + 1, reason=MSG_REQUEUED_LOST, caller=caller)
        return "requeued_pending"
    # Its consumer died mid-attempt, perhaps with the request already at the provider: an
    # attempt with an unknown outcome, retried, extended or failed as any other.
    _record_outcome(payout, PayoutEventKind.ATTEMPT_UNKNOWN, MSG_ABANDONED, caller=caller)
    next_attempt = _next_attempt_or_fail(payout, MSG_ABANDONED, caller=caller)
    if next_attempt is None:
        return "failed_processing"
    _requeue(payout, attempt=next_attempt.number, reason=MSG_REQUEUED_ABANDONED, caller=caller)
    return "retried_processing"


def _requeue(payout: Payout, *, attempt: int, reason: str, caller: Caller = WORKER) -> None:
    payout.save(update_fields=["updated_at"])
    _record_on(
        payout,
        PayoutEventKind.REQUEUED,
        from_status=payout.status,
        attempt=attempt,
        reason=reason,
        caller=caller,
    )
    transaction.on_commit(lambda: _enqueue_processing(payout, attempt=attempt))


class Requeue(StrEnum):
    """What an operator's re-enqueue did to one payout."""

    # Taken back, as the recovery sweep would have: enqueued again, or FAILED.
    REQUEUED = "requeued"
    RETRIED = "retried"
    FAILED = "failed"
    # Refused: nothing was written or enqueued.
    NOT_FOUND = "not_found"
    FINISHED = "finished"
    TOO_RECENT = "too_recent"
    LEASE_HELD = "lease_held"
    STILL_QUEUED = "still_queued"
    QUEUE_UNREADABLE = "queue_unreadable"
    QUEUE_UNREACHABLE = "queue_unreachable"
    BUSY = "busy"


MSG_REQUEUE_REQUEUED = "Enqueued again as attempt {attempt}: no message for it was in the queue."
MSG_REQUEUE_RETRIED = (
    "Its processing lease expired with no message for it in the queue: the abandoned attempt "
    "counts as an unknown outcome, attempt {attempt} of {max_attempts} is enqueued."
)
MSG_REQUEUE_FAILED = (
    "Its processing lease expired with no attempts left: FAILED ({failure_code}). {reason}"
)
MSG_REQUEUE_NOT_FOUND = "Not found, or deleted: nothing to enqueue."
MSG_REQUEUE_FINISHED = "It is {status}: a finished payout is never enqueued again."
MSG_REQUEUE_TOO_RECENT = (
    "It is PENDING and was touched less than {seconds} s ago: its message may still be on its "
    "way. Try again later."
)
MSG_REQUEUE_LEASE_HELD = (
    "It is PROCESSING and its consumer's lease runs until {until:%Y-%m-%d %H:%M:%S} UTC: an "
    "attempt may be in flight, so nothing is sent again."
)
MSG_REQUEUE_STILL_QUEUED = (
    "A message for it waits in the queue or the schedule: a consumer will run it."
)
MSG_REQUEUE_QUEUE_UNREADABLE = (
    "The queue is too long to check for a message for it: try again once it has shrunk."
)
MSG_REQUEUE_QUEUE_UNREACHABLE = (
    "The queue cannot be read now, so whether a message for it waits there is unknown: "
    "nothing was enqueued. Try again once the queue is back."
)
MSG_REQUEUE_BUSY = "A worker or the recovery sweep took it up meanwhile: nothing done."


@dataclass(frozen=True)
class RequeueResult:
    outcome: Requeue
    message: str

    @property
    def done(self) -> bool:
        return self.outcome in {Requeue.REQUEUED, Requeue.RETRIED, Requeue.FAILED}


# The most payouts one re-enqueue takes: the sweep's batch.
REQUEUE_MAX_PAYOUTS = 500


def payouts_requeue(caller: Caller, payout_ids: Iterable[object]) -> dict[str, RequeueResult]:
    """Take back stuck payouts now, on an operator's word, under the recovery sweep's rules;
    what happened to each, by id.

    The sweep's candidates only (PENDING untouched for PAYOUT_RECOVERY_PENDING_AFTER_SECONDS,
    PROCESSING untouched past PAYOUT_PROCESSING_LEASE_SECONDS), only when no message for it
    waits in the queue, each in the sweep's own transaction under a SKIP LOCKED row lock: a
    payout a worker holds, or one with an attempt in flight, is never sent again. Their events
    name the caller. At most REQUEUE_MAX_PAYOUTS at a time (ValueError beyond).
    """
    from payouts.tasks import payout_ids_with_queued_work

    ids = [str(payout_id) for payout_id in payout_ids]
    if len(ids) > REQUEUE_MAX_PAYOUTS:
        raise ValueError(f"At most {REQUEUE_MAX_PAYOUTS} payouts at a time, got {len(ids)}.")
    stalled = payout_list_stalled()
    # Read once for the whole batch, after its candidates were picked, as the sweep does.
    try:
        queued = payout_ids_with_queued_work()
    except Exception as error:  # Redis (or Huey's SQLite file) down: the storage's own errors
        logger.warning("Re-enqueue refused: the queue cannot be read (%s)", error)
        refused = RequeueResult(Requeue.QUEUE_UNREACHABLE, MSG_REQUEUE_QUEUE_UNREACHABLE)
        return dict.fromkeys(ids, refused)
    return {payout_id: _requeue_one(caller, payout_id, stalled, queued) for payout_id in ids}


def _requeue_one(
    caller: Caller, payout_id: str, stalled: QuerySet[Payout], queued: set[uuid.UUID] | None
) -> RequeueResult:
    try:
        pk = parse_payout_id(payout_id)
    except PayoutNotFound:
        return RequeueResult(Requeue.NOT_FOUND, MSG_REQUEUE_NOT_FOUND)
    payout = Payout.objects.live().filter(caller.scope(), pk=pk).first()
    if payout is None:
        return RequeueResult(Requeue.NOT_FOUND, MSG_REQUEUE_NOT_FOUND)
    if payout.status in FINAL_STATUSES:
        return RequeueResult(Requeue.FINISHED, MSG_REQUEUE_FINISHED.format(status=payout.status))
    if not stalled.filter(pk=pk).exists():
        if payout.status == ATTEMPT_STATUS:
            until = payout.updated_at + timedelta(seconds=settings.PAYOUT_PROCESSING_LEASE_SECONDS)
            return RequeueResult(Requeue.LEASE_HELD, MSG_REQUEUE_LEASE_HELD.format(until=until))
        seconds = settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS
        return RequeueResult(Requeue.TOO_RECENT, MSG_REQUEUE_TOO_RECENT.format(seconds=seconds))
    if queued is None:
        return RequeueResult(Requeue.QUEUE_UNREADABLE, MSG_REQUEUE_QUEUE_UNREADABLE)
    if pk in queued:
        return RequeueResult(Requeue.STILL_QUEUED, MSG_REQUEUE_STILL_QUEUED)
    taken = _recover_one(pk, stalled, caller=caller)
    if taken is None:
        return RequeueResult(Requeue.BUSY, MSG_REQUEUE_BUSY)
    payout_recovered(pk, taken, by=f"Re-enqueued by {caller.actor}")
    payout.refresh_from_db()
    if taken == "failed_processing":
        message = MSG_REQUEUE_FAILED.format(
            failure_code=payout.failure_code, reason=payout.failure_reason
        )
        return RequeueResult(Requeue.FAILED, message)
    attempt = payout.attempts + 1
    if taken == "retried_processing":
        message = MSG_REQUEUE_RETRIED.format(attempt=attempt, max_attempts=payout.max_attempts)
        return RequeueResult(Requeue.RETRIED, message)
    return RequeueResult(Requeue.REQUEUED, MSG_REQUEUE_REQUEUED.format(attempt=attempt))
