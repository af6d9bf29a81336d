""" "Blank" means the same to the server, to Python's regular expressions (schemathesis, Python
clients) and to ECMA-262's (the OpenAPI document's patterns, JavaScript clients)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.validation import REFERENCE_PATTERN
from payouts.validators import NOT_BLANK_PATTERN, is_blank, validate_recipient_details

# ECMA-262's \s: WhiteSpace and LineTerminator, written out for Python's engine.
ECMA_WHITESPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Every character either engine calls whitespace, and a few that neither does.
texts = st.text(
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2002\u2028\u202f\u3000\ufeff")
    | st.sampled_from("a9-.\x00\x7f\u200b"),
    max_size=6,
)


def as_ecma(pattern: str) -> str:
    return pattern.replace(r"\s", ECMA_WHITESPACE)


def account_number_accepted(value: str) -> bool:
    try:
        validate_recipient_details({"account_number": value})
    except ValidationError:
        return False
    return True


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_not_blank_means_the_same_to_python_ecma_and_the_server(text):
    python = re.search(NOT_BLANK_PATTERN, text) is not None
    ecma = re.search(as_ecma(NOT_BLANK_PATTERN), text) is not None

    assert python == ecma == (not is_blank(text)), repr(text)


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_the_reference_pattern_reads_the_same_in_python_and_ecma(text):
    python = re.fullmatch(REFERENCE_PATTERN.strip("^$"), text) is not None
    ecma = re.fullmatch(as_ecma(REFERENCE_PATTERN.strip("^$")), text) is not None

    assert python == ecma, repr(text)


@pytest.mark.parametrize("value", ["\x1e", "\x1c\x1f", "\x85", "\ufeff", " \u3000 "])
def test_an_account_number_of_whitespace_any_engine_counts_is_refused(value):
    assert not account_number_accepted(value)
    assert re.search(as_ecma(NOT_BLANK_PATTERN), value) is None


def test_an_account_number_with_one_visible_character_is_taken():
    assert account_number_accepted("\ufeff7\x1e")
