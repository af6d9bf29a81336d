"""payouts.strict_json.loads: what it reads exactly, and each reason it refuses a body."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from payouts import errors, strict_json
from payouts.errors import ErrorCode, InputRefused

# PYTHONINTMAXSTRDIGITS=0 lifts int()'s digit limit, and with it the refusal.
needs_int_digit_limit = pytest.mark.skipif(
    sys.get_int_max_str_digits() == 0, reason="int() has no digit limit here"
)


def refusal(body: str | bytes) -> tuple[ErrorCode, str]:
    with pytest.raises(InputRefused) as refused:
        strict_json.loads(body)
    return refused.value.code, refused.value.message


def test_numbers_with_a_fraction_or_exponent_are_exact_decimals():
    assert strict_json.loads("[10, 10.005, 1e2, -0.1]") == [
        10,
        Decimal("10.005"),
        Decimal("1E+2"),
        Decimal("-0.1"),
    ]
    assert type(strict_json.loads("10")) is int


def test_bytes_are_read_as_utf8():
    assert strict_json.loads('{"name": "Zoë"}'.encode()) == {"name": "Zoë"}


def test_an_escaped_surrogate_pair_is_one_character():
    assert strict_json.loads('"\\ud83d\\ude00"') == "\N{GRINNING FACE}"


def test_nesting_at_the_limit_is_read():
    depth = strict_json.MAX_DEPTH

    assert strict_json.loads("[" * depth + "]" * depth) is not None


def test_nesting_one_past_the_limit_is_refused():
    depth = strict_json.MAX_DEPTH + 1

    assert refusal("[" * depth + "]" * depth) == (
        ErrorCode.MAX_DEPTH,
        errors.MSG_JSON_TOO_DEEP.format(limit=strict_json.MAX_DEPTH),
    )


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_unclosed_nesting_far_past_the_limit_is_refused_without_recursion(depth):
    assert refusal("[" * depth)[0] == ErrorCode.MAX_DEPTH


@pytest.mark.parametrize("prefix", ["", '\\"'], ids=["plain", "after-an-escaped-quote"])
def test_brackets_inside_a_string_are_not_nesting(prefix):
    brackets = "[{" * strict_json.MAX_DEPTH

    assert strict_json.loads(f'"{prefix}{brackets}"').endswith(brackets)


def test_a_backslash_before_the_closing_quote_does_not_hide_later_nesting():
    depth = strict_json.MAX_DEPTH + 1
    text = '["\\\\", ' + "[" * depth + "]" * depth + "]"

    assert refusal(text)[0] == ErrorCode.MAX_DEPTH


def test_the_most_values_allowed_are_read():
    # The list itself is one value.
    assert len(strict_json.loads(str([0] * (strict_json.MAX_VALUES - 1)))) == 9_999


def test_one_value_more_than_allowed_is_refused():
    assert refusal(str([0] * strict_json.MAX_VALUES)) == (
        ErrorCode.MAX_SIZE,
        errors.MSG_JSON_TOO_MANY_VALUES.format(limit=strict_json.MAX_VALUES),
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [('{"a": 1, "a": 2}', "a"), ('{"outer": {"b": 1, "b": 1}}', "b")],
    ids=["top-level", "nested"],
)
def test_a_duplicate_key_is_refused_by_name(text, key):
    assert refusal(text) == (
        ErrorCode.DUPLICATE_KEY,
        errors.MSG_JSON_DUPLICATE_KEY.format(key=key),
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_refused(constant):
    assert refusal(f'{{"amount": {constant}}}') == (
        ErrorCode.PARSE_ERROR,
        errors.MSG_JSON_CONSTANT.format(constant=constant),
    )


@pytest.mark.parametrize(
    "text",
    ['"\\ud800"', '"\\udfff"', '["ok", {"key": "\\ud83d"}]', '{"\\ude00": 1}'],
    ids=["high", "low", "nested-value", "key"],
)
def test_a_lone_surrogate_is_refused(text):
    assert refusal(text) == (ErrorCode.INVALID_TEXT, errors.MSG_JSON_INVALID_TEXT)


@pytest.mark.parametrize(
    "body",
    [b'{"description": "caf\xe9"}', b"\xff\xfe{}", b'"\xed\xa0\x80"'],
    ids=["latin-1", "utf-16-bom", "encoded-surrogate"],
)
def test_bytes_that_are_not_utf8_are_refused(body):
    assert refusal(body) == (ErrorCode.PARSE_ERROR, errors.MSG_JSON_NOT_UTF8)


def test_malformed_json_is_refused_with_where_it_broke():
    assert refusal('{"amount": ') == (
        ErrorCode.PARSE_ERROR,
        errors.MSG_JSON_INVALID.format(reason="Expecting value at line 1 column 12"),
    )


@needs_int_digit_limit
def test_an_integer_longer_than_int_reads_is_refused_not_raised_as_value_error():
    limit = sys.get_int_max_str_digits()

    assert refusal("[" + "1" * (limit + 1) + "]") == (
        ErrorCode.PARSE_ERROR,
        errors.MSG_JSON_INTEGER_TOO_LONG.format(limit=limit),
    )


@needs_int_digit_limit
def test_an_integer_as_long_as_int_reads_is_read():
    limit = sys.get_int_max_str_digits()

    assert strict_json.loads("9" * limit) == int("9" * limit)
