"""Strict JSON for request bodies of both APIs: one reading of a body, bounded before it is read.

Python's json module lets the last of two equal keys win, reads NaN and Infinity, keeps lone
UTF-16 surrogates from `\\ud800` escapes and recurses once per nesting level, so a body nested
a thousand deep exhausts the stack. Here the nesting is measured first, without recursion, and
every other of those is refused with a code, before any field is looked at.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from typing import Any

from payouts.errors import (
    MSG_JSON_CONSTANT,
    MSG_JSON_DUPLICATE_KEY,
    MSG_JSON_INTEGER_TOO_LONG,
    MSG_JSON_INVALID,
    MSG_JSON_INVALID_TEXT,
    MSG_JSON_NOT_UTF8,
    MSG_JSON_TOO_DEEP,
    MSG_JSON_TOO_MANY_VALUES,
    ErrorCode,
    InputRefused,
)

# A payout body is two levels deep plus its recipient_details; a GraphQL body adds variables
# and an input object. Far below the ~1,000 levels at which json's recursion gives out.
MAX_DEPTH = 32
# Strings, numbers, literals, arrays and objects in one body: a payout holds a few dozen.
MAX_VALUES = 10_000

# One token at a time, left to right: an escape pair, a quote or a bracket. No backtracking, so
# the scan is linear in the body whatever it holds.
_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputRefused(ErrorCode.DUPLICATE_KEY, MSG_JSON_DUPLICATE_KEY.format(key=key))
        result[key] = value
    return result


def _refuse_constant(constant: str) -> Any:
    raise InputRefused(ErrorCode.PARSE_ERROR, MSG_JSON_CONSTANT.format(constant=constant))


def _parse_int(text: str) -> int:
    # int() refuses more digits than sys.get_int_max_str_digits() (4,300 by default) with a
    # ValueError that json.loads lets through as it is: a 500 without this.
    try:
        return int(text)
    except ValueError:
        raise InputRefused(
            ErrorCode.PARSE_ERROR,
            MSG_JSON_INTEGER_TOO_LONG.format(limit=sys.get_int_max_str_digits()),
        ) from None


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, counting brackets outside strings, iteratively."""
    depth = 0
    in_string = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            in_string = not in_string
        elif in_string or len(token) == 2:
            continue
        elif token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputRefused(ErrorCode.MAX_DEPTH, MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH))
        else:
            depth -= 1


def _check_values(document: Any) -> None:
    """Count the values and refuse lone surrogates in any key or string, iteratively."""
    pending = [document]
    seen = 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise InputRefused(
                ErrorCode.MAX_SIZE, MSG_JSON_TOO_MANY_VALUES.format(limit=MAX_VALUES)
            )
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise InputRefused(ErrorCode.INVALID_TEXT, MSG_JSON_INVALID_TEXT)


def loads(body: str | bytes) -> Any:
    """Parse a JSON body; numbers with a fraction or exponent become exact Decimals.

    Raises InputRefused with the reason: malformed, not UTF-8, a duplicate key, NaN or
    Infinity, an integer too long for int(), deeper than MAX_DEPTH, more than MAX_VALUES
    values, or a lone surrogate.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InputRefused(ErrorCode.PARSE_ERROR, MSG_JSON_NOT_UTF8) from None
    _check_depth(body)
    try:
        document = json.loads(
            body,
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_refuse_constant,
            parse_float=Decimal,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as error:
        raise InputRefused(
            ErrorCode.PARSE_ERROR, MSG_JSON_INVALID.format(reason=_reason(error))
        ) from None
    _check_values(document)
    return document


def _reason(error: json.JSONDecodeError) -> str:
    return f"{error.msg} at line {error.lineno} column {error.colno}"
