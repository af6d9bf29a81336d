"""The reference pattern of the OpenAPI document says exactly what the domain accepts."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.errors import InputRefused
from payouts.models import REFERENCE_MAX_LENGTH
from payouts.validation import REFERENCE_PATTERN, parse_reference

# Printable text and its near misses: whitespace of every kind, C0 and C1 controls.
reference_texts = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from(" \t\n\r\x0b\x0c\x1f\x7f\x85\x9f\xa0\u2003\u2028\u3000\ufeff"),
    max_size=REFERENCE_MAX_LENGTH + 2,
)


@settings(max_examples=1000, deadline=None)
@given(text=reference_texts)
def test_reference_pattern_matches_exactly_the_references_a_payout_takes(text):
    try:
        parse_reference(text)
        accepted = True
    except InputRefused:
        accepted = False

    documented = re.fullmatch(REFERENCE_PATTERN.strip("^$"), text) is not None
    assert (documented and len(text) <= REFERENCE_MAX_LENGTH) == accepted, repr(text)
