"""Every payout write: create, update, delete and each status transition, one transaction each."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payouts.errors import (
    PayoutNotDeletable,
    PayoutNotEditable,
    PayoutNotFound,
    PayoutTransitionNotAllowed,
)
from payouts.models import Payout, PayoutStatus
from payouts.selectors import parse_payout_id
from payouts.statements import payout_compare_and_set, payout_event_insert
from payouts.states import EDITABLE_STATUSES, FINAL_STATUSES, sources_of
from payouts.validation import payout_clean

logger = logging.getLogger(__name__)


def _enqueue_processing(payout_id: uuid.UUID, *, next_attempt: int = 1) -> None:
    # Imported here because the task module imports these services.
    from payouts.tasks import enqueue_processing

    try:
        enqueue_processing(payout_id, next_attempt=next_attempt)
    except Exception:
        # The payout is committed; the recovery sweep enqueues it once the queue is back.
        logger.exception(
            "Could not enqueue payout %s; the recovery sweep will pick it up", payout_id
        )


def _lock(payout_id: object) -> Payout:
    try:
        return Payout.objects.select_for_update().get(pk=parse_payout_id(payout_id))
    except Payout.DoesNotExist:
        raise PayoutNotFound() from None


def _record_event(
    payout: Payout, from_status: str, reason: str = "", attempt: int | None = None
) -> None:
    payout_event_insert(
        payout.id,
        from_status,
        payout.status,
        payout.attempts if attempt is None else attempt,
        reason,
    )


def _move(
    payout_id: uuid.UUID,
    to_status: str,
    *,
    from_statuses: Iterable[str],
    reason: str = "",
    attempt: int | None = None,
) -> Payout | None:
    """Move the payout to to_status from the first of from_statuses it is found in, with its event.

    With `attempt`, the payout must have had attempt - 1 attempts and now records `attempt`.
    Each candidate status is one conditional UPDATE; None when none matched.
    """
    changes: dict[str, Any] = {
        "status": to_status,
        "failure_reason": reason if to_status == PayoutStatus.FAILED else "",
    }
    expected: dict[str, Any] = {}
    if attempt is not None:
        changes["attempts"] = attempt
        expected["attempts"] = attempt - 1
    for from_status in from_statuses:
        payout = payout_compare_and_set(
            payout_id, expected={"status": from_status, **expected}, changes=changes
        )
        if payout is not None:
            if from_status != to_status:
                _record_event(payout, from_status, reason)
            return payout
    return None


@transaction.atomic
def payout_create(data: Mapping[str, Any]) -> Payout:
    """Validate and store a PENDING payout; its processing is enqueued once the commit lands."""
    payout = Payout.objects.create(**payout_clean(data, partial=False))
    _record_event(payout, from_status="")
    transaction.on_commit(lambda: _enqueue_processing(payout.id))
    return payout


@transaction.atomic
def payout_update(payout_id: object, data: Mapping[str, Any]) -> Payout:
    """Apply a partial edit; refused unless the payout is still PENDING when its row is locked."""
    payout = _lock(payout_id)
    if payout.status not in EDITABLE_STATUSES:
        raise PayoutNotEditable()
    changes = payout_clean(data, partial=True)
    for field, value in changes.items():
        setattr(payout, field, value)
    payout.save(update_fields=[*changes, "updated_at"])
    return payout


@transaction.atomic
def payout_delete(payout_id: object) -> None:
    """Delete a payout that no worker has started; money in flight keeps its record."""
    payout = _lock(payout_id)
    if payout.status not in EDITABLE_STATUSES:
        raise PayoutNotDeletable()
    payout.delete()


@transaction.atomic
def payout_start_attempt(payout_id: object, attempt: int) -> Payout | None:
    """Claim attempt number `attempt` of a payout, or return None when it is not ours to run.

    The first attempt moves PENDING to PROCESSING; a retry carries on with a PROCESSING payout
    whose previous attempt is the one before. Anything else (a finished or deleted payout, an
    attempt already claimed by a duplicate delivery) is left alone.
    """
    try:
        pk = parse_payout_id(payout_id)
    except PayoutNotFound:
        return None
    payout = _move(
        pk,
        PayoutStatus.PROCESSING,
        from_statuses=(*sorted(sources_of(PayoutStatus.PROCESSING)), PayoutStatus.PROCESSING),
        attempt=attempt,
    )
    if payout is None:
        found = Payout.objects.filter(pk=pk).values_list("status", "attempts").first()
        logger.info(
            "Payout %s is %s; attempt %s skipped",
            payout_id,
            "gone" if found is None else f"{found[0]} after {found[1]} attempt(s)",
            attempt,
        )
    return payout


@transaction.atomic
def payout_record_attempt_failure(payout_id: object, attempt: int, reason: str) -> None:
    """Record a failed provider call that will be retried; the payout stays PROCESSING."""
    try:
        payout = _lock(payout_id)
    except PayoutNotFound:
        return
    _record_event(payout, payout.status, reason, attempt=attempt)


def _finish(payout_id: object, to_status: str, reason: str = "") -> Payout | None:
    try:
        pk = parse_payout_id(payout_id)
    except PayoutNotFound:
        return None
    payout = _move(pk, to_status, from_statuses=sorted(sources_of(to_status)), reason=reason)
    if payout is not None:
        return payout
    status = Payout.objects.filter(pk=pk).values_list("status", flat=True).first()
    if status is None:
        logger.info("Payout %s was deleted before it became %s", payout_id, to_status)
        return None
    if status in FINAL_STATUSES:
        # A duplicate or released attempt finishing late: the first final state stands.
        logger.warning("Payout %s is already %s; not moving it to %s", payout_id, status, to_status)
        return None
    raise PayoutTransitionNotAllowed(status, to_status)


@transaction.atomic
def payout_complete(payout_id: object) -> Payout | None:
    return _finish(payout_id, PayoutStatus.COMPLETED)


@transaction.atomic
def payout_fail(payout_id: object, reason: str) -> Payout | None:
    return _finish(payout_id, PayoutStatus.FAILED, reason)


@transaction.atomic
def payout_release_attempt(payout_id: object, attempt: int, reason: str) -> bool:
    """Give back an attempt a stopping worker could not finish, so it can run again elsewhere.

    Returns True when the attempt was released and should be enqueued again.
    """
    try:
        payout = _lock(payout_id)
    except PayoutNotFound:
        return False
    if payout.status != PayoutStatus.PROCESSING or payout.attempts != attempt:
        return False
    payout.attempts = attempt - 1
    payout.save(update_fields=["attempts", "updated_at"])
    _record_event(payout, payout.status, reason, attempt=attempt)
    transaction.on_commit(lambda: _enqueue_processing(payout.id, next_attempt=attempt))
    return True


@dataclass(frozen=True)
class RecoveryReport:
    requeued_pending: int = 0
    retried_processing: int = 0
    failed_processing: int = 0


def payouts_recover_stalled(*, batch_size: int = 500) -> RecoveryReport:
    """Take back payouts that no live task will finish: the periodic sweep's work.

    PENDING past PAYOUT_RECOVERY_PENDING_AFTER_SECONDS (its enqueue was lost) is enqueued
    again. PROCESSING past PAYOUT_PROCESSING_LEASE_SECONDS (its consumer died mid-call) is
    retried while the retry budget lasts, otherwise FAILED. Each payout is handled in its own
    transaction under a row lock taken with SKIP LOCKED, so sweeps running at once, and live
    workers, never handle the same payout twice.
    """
    now = timezone.now()
    pending_cutoff = now - timedelta(seconds=settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS)
    lease_cutoff = now - timedelta(seconds=settings.PAYOUT_PROCESSING_LEASE_SECONDS)
    stalled = Q(status=PayoutStatus.PENDING, updated_at__lt=pending_cutoff) | Q(
        status=PayoutStatus.PROCESSING, updated_at__lt=lease_cutoff
    )
    candidates = list(
        Payout.objects.filter(stalled)
        .order_by("updated_at")
        .values_list("id", flat=True)[:batch_size]
    )
    counts = {"requeued_pending": 0, "retried_processing": 0, "failed_processing": 0}
    for payout_id in candidates:
        outcome = _recover_one(payout_id, stalled)
        if outcome:
            counts[outcome] += 1
    return RecoveryReport(**counts)


@transaction.atomic
def _recover_one(payout_id: uuid.UUID, stalled: Q) -> str | None:
    payout = (
        Payout.objects.select_for_update(skip_locked=True).filter(stalled, pk=payout_id).first()
    )
    if payout is None:
        return None
    # The budget is this process's PAYOUT_MAX_RETRIES: the message that carried the original
    # one is lost with the consumer that died.
    last_attempt = settings.PAYOUT_MAX_RETRIES + 1
    if payout.status == PayoutStatus.PROCESSING and payout.attempts >= last_attempt:
        _move(
            payout.id,
            PayoutStatus.FAILED,
            from_statuses=sorted(sources_of(PayoutStatus.FAILED)),
            reason=(
                f"Failed after {payout.attempts} attempt(s): processing was interrupted "
                "and the retry budget is spent."
            ),
        )
        return "failed_processing"
    next_attempt = payout.attempts + 1
    payout.save(update_fields=["updated_at"])
    if payout.status == PayoutStatus.PROCESSING:
        _record_event(payout, payout.status, "Processing lease expired; retrying.")
    transaction.on_commit(lambda: _enqueue_processing(payout.id, next_attempt=next_attempt))
    return "requeued_pending" if payout.status == PayoutStatus.PENDING else "retried_processing"
