"""The status machine table."""

from __future__ import annotations

import pytest

from payouts.models import PayoutStatus
from payouts.states import ALLOWED_TRANSITIONS, FINAL_STATUSES, can_transition

P, R, C, F = (
    PayoutStatus.PENDING,
    PayoutStatus.PROCESSING,
    PayoutStatus.COMPLETED,
    PayoutStatus.FAILED,
)


@pytest.mark.parametrize(("source", "target"), [(P, R), (R, C), (R, F)])
def test_allowed_transitions(source, target):
    assert can_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [(P, C), (P, F), (P, P), (R, P), (C, P), (C, R), (C, F), (F, P), (F, R), (F, C), (R, R)],
)
def test_every_other_transition_is_refused(source, target):
    assert not can_transition(source, target)


def test_every_status_has_a_row_in_the_table():
    assert set(ALLOWED_TRANSITIONS) == set(PayoutStatus.values)


def test_completed_and_failed_are_final():
    assert {C, F} == FINAL_STATUSES
