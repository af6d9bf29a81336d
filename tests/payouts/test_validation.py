"""payouts.validation read directly: amounts of every type and recipient_details of any shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from payouts import errors
from payouts.errors import ErrorCode, FieldError, InputRefused, PayoutInvalid
from payouts.validation import RECIPIENT_DETAILS_MAX_DEPTH, parse_amount, payout_clean
from tests.conftest import payout_payload

NOT_POSITIVE = (ErrorCode.MIN_VALUE, errors.MSG_AMOUNT_NOT_POSITIVE)
NOT_FINITE = (ErrorCode.NOT_FINITE, errors.MSG_AMOUNT_NOT_FINITE)


@pytest.mark.parametrize(
    ("amount", "refusal"),
    [
        ("-5", NOT_POSITIVE),
        (-5, NOT_POSITIVE),
        (Decimal("-5"), NOT_POSITIVE),
        (-5.0, NOT_POSITIVE),
        (-0.0, NOT_POSITIVE),
        (Decimal("-0.001"), NOT_POSITIVE),  # refused for its sign, not its places
        (Decimal("-1234567890123"), NOT_POSITIVE),  # nor its digits
        (-1e20, NOT_POSITIVE),
        ("-Infinity", NOT_FINITE),
        (Decimal("-Infinity"), NOT_FINITE),
        (float("-inf"), NOT_FINITE),
    ],
    ids=repr,
)
def test_a_negative_amount_is_refused_as_its_text_is_whatever_its_type(amount, refusal):
    with pytest.raises(InputRefused) as refused:
        parse_amount(amount)

    assert (refused.value.code, refused.value.message) == refusal


def nested_lists(levels: int) -> list[Any]:
    """A list `levels` deep, built without recursion."""
    outermost: list[Any] = []
    innermost = outermost
    for _ in range(levels - 1):
        innermost.append([])
        innermost = innermost[0]
    return outermost


def refusal(recipient_details: object) -> list[FieldError]:
    with pytest.raises(PayoutInvalid) as invalid:
        payout_clean(payout_payload(recipient_details=recipient_details))
    return invalid.value.errors


TOO_DEEP = [
    FieldError(
        "recipient_details",
        ErrorCode.MAX_DEPTH,
        errors.MSG_RECIPIENT_TOO_DEEP % {"limit": RECIPIENT_DETAILS_MAX_DEPTH},
    )
]


@pytest.mark.parametrize("levels", [RECIPIENT_DETAILS_MAX_DEPTH + 1, 5_000])
def test_recipient_details_that_is_a_deep_list_is_refused_by_its_depth(levels):
    assert refusal(nested_lists(levels)) == TOO_DEEP


def test_a_deep_list_inside_recipient_details_is_refused_by_its_depth():
    details = {"account_number": "X1", "lines": nested_lists(5_000)}

    assert refusal(details) == TOO_DEEP


@pytest.mark.parametrize(
    "recipient_details",
    ["DE89", "", ["DE89"], [], nested_lists(RECIPIENT_DETAILS_MAX_DEPTH), Decimal("1.5"), 0, True],
    ids=repr,
)
def test_recipient_details_that_is_not_an_object_is_refused_as_not_an_object(recipient_details):
    assert refusal(recipient_details) == [
        FieldError("recipient_details", ErrorCode.NOT_AN_OBJECT, errors.MSG_RECIPIENT_NOT_OBJECT)
    ]


def test_an_empty_object_is_refused_for_its_missing_account_number():
    assert refusal({}) == [
        FieldError(
            "recipient_details",
            ErrorCode.ACCOUNT_NUMBER_REQUIRED,
            errors.MSG_ACCOUNT_NUMBER_MISSING,
        )
    ]


def test_json_numbers_in_recipient_details_are_read_as_floats():
    details = {"account_number": "X1", "fee": Decimal("1.5"), "split": [Decimal("0.25")]}

    cleaned = payout_clean(payout_payload(recipient_details=details))

    assert cleaned["recipient_details"] == {"account_number": "X1", "fee": 1.5, "split": [0.25]}
    assert type(cleaned["recipient_details"]["fee"]) is float
