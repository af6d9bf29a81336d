"""The payout status machine: the one table of allowed transitions, and the names of its parts."""

from __future__ import annotations

from payouts.models import PayoutStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PayoutStatus.PENDING: frozenset({PayoutStatus.PROCESSING}),
    PayoutStatus.PROCESSING: frozenset({PayoutStatus.COMPLETED, PayoutStatus.FAILED}),
    PayoutStatus.COMPLETED: frozenset(),
    PayoutStatus.FAILED: frozenset(),
}

EDITABLE_STATUSES: frozenset[str] = frozenset({PayoutStatus.PENDING})
FINAL_STATUSES: frozenset[str] = frozenset(
    status for status, targets in ALLOWED_TRANSITIONS.items() if not targets
)
# Provider calls happen in this status: every attempt, the first and each retry, runs in it.
ATTEMPT_STATUS: str = PayoutStatus.PROCESSING


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


def sources_of(to_status: str) -> frozenset[str]:
    """Every status the machine allows to move to to_status."""
    return frozenset(source for source in ALLOWED_TRANSITIONS if can_transition(source, to_status))


# Waiting for a first attempt: the statuses an attempt starts from.
NOT_STARTED_STATUSES: frozenset[str] = sources_of(ATTEMPT_STATUS)


def can_start_attempt(status: str) -> bool:
    """A first attempt moves a payout into ATTEMPT_STATUS; a retry continues in it."""
    return status == ATTEMPT_STATUS or can_transition(status, ATTEMPT_STATUS)
