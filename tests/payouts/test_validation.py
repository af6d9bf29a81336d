"""payouts.validation read directly: amounts of every type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payouts import errors
from payouts.errors import ErrorCode, InputRefused
from payouts.validation import parse_amount


@pytest.mark.parametrize(
    "amount",
    ["-5", -5, Decimal("-5"), -5.0, Decimal("-0.001"), -1e20, Decimal("-1234567890123"), -0.0],
    ids=repr,
)
def test_a_negative_amount_is_refused_as_not_positive_whatever_its_type(amount):
    with pytest.raises(InputRefused) as refused:
        parse_amount(amount)

    assert (refused.value.code, refused.value.message) == (
        ErrorCode.MIN_VALUE,
        errors.MSG_AMOUNT_NOT_POSITIVE,
    )


@pytest.mark.parametrize("amount", ["-Infinity", Decimal("-Infinity"), float("-inf")], ids=repr)
def test_a_negative_infinity_is_refused_as_not_finite_whatever_its_type(amount):
    with pytest.raises(InputRefused) as refused:
        parse_amount(amount)

    assert (refused.value.code, refused.value.message) == (
        ErrorCode.NOT_FINITE,
        errors.MSG_AMOUNT_NOT_FINITE,
    )
