"""The payout status machine: the one table of allowed transitions."""

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


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


def sources_of(to_status: str) -> frozenset[str]:
    """Every status the machine allows to move to to_status."""
    return frozenset(source for source in ALLOWED_TRANSITIONS if can_transition(source, to_status))
