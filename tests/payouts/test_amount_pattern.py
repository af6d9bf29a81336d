"""The amount patterns of the OpenAPI document say exactly what the domain accepts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.errors import InputRefused, PayoutInvalid
from payouts.validation import AMOUNT_PATTERN, parse_amount, payable_amount_pattern, payout_clean
from tests.conftest import payout_payload

# Canonical-looking text and its near misses: leading zeros, long runs, one to three decimals.
amount_texts = st.from_regex(r"\A0{0,3}[0-9]{1,13}(\.[0-9]{0,3})?\Z") | st.sampled_from(
    ["0", "0.0", "0.00", "0.01", "0.1", "00.10", "1000000", "1000000.0", "1000000.01"]
)


def _payable(text: str) -> bool:
    try:
        payout_clean(payout_payload(amount=text))
    except PayoutInvalid:
        return False
    return True


@pytest.mark.parametrize("maximum", ["1000000.00", "2573.45", "9.99", "9999999999.99", "0.50"])
@settings(max_examples=300, deadline=None)
@given(text=amount_texts)
def test_payable_pattern_matches_exactly_the_amounts_a_payout_takes(text, maximum):
    pattern = payable_amount_pattern(Decimal(maximum))

    with override_settings(PAYOUT_MAX_AMOUNT=Decimal(maximum)):
        payable = _payable(text)

    assert bool(re.fullmatch(pattern.strip("^$"), text)) == payable, (text, pattern)


@settings(max_examples=500, deadline=None)
@given(text=amount_texts)
def test_bound_pattern_matches_exactly_the_amounts_a_filter_takes(text):
    try:
        parse_amount(text)
        accepted = True
    except InputRefused:
        accepted = False

    assert bool(re.fullmatch(AMOUNT_PATTERN.strip("^$"), text)) == accepted, text
