"""Field validators of the Payout model: each rule once, run by full_clean() on every payout a
client or an operator creates or edits (payouts.validation, the admin's form)."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from payouts import errors
from payouts.errors import ErrorCode

RECIPIENT_DETAILS_MAX_BYTES = 4096
METADATA_MAX_KEYS = 20
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
# PostgreSQL's jsonb and text cannot hold NUL; unpaired surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# C0 and C1 controls: a reference is an identifier a client logs and compares, so no tabs,
# newlines or escapes that would show as something else.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Whitespace as Python's str.isspace() and JavaScript's \s both count it: the OpenAPI document's
# patterns are ECMA-262 expressions, and the server must call "blank" what they call blank.
WHITESPACE = r"\s\u001c-\u001f\u0085\ufeff"
# Text with one character at least that is not whitespace, as a pattern to search for.
NOT_BLANK_PATTERN = rf"[^{WHITESPACE}]"
_NOT_BLANK = re.compile(NOT_BLANK_PATTERN)


def is_blank(text: str) -> bool:
    """Empty or whitespace only."""
    return _NOT_BLANK.search(text) is None


def _storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def validate_storable_text(value: str) -> None:
    if not _storable(value):
        raise ValidationError(errors.MSG_INVALID_TEXT, code=ErrorCode.INVALID_TEXT.value)


def validate_reference(value: str) -> None:
    """Printable text; its length is the column's (max_length), blank is payouts.validation's."""
    validate_storable_text(value)
    if _CONTROL.search(value):
        raise ValidationError(
            errors.MSG_REFERENCE_CONTROL_CHARACTER, code=ErrorCode.INVALID_TEXT.value
        )


def validate_amount_positive(value: Decimal) -> None:
    if value <= 0:
        raise ValidationError(errors.MSG_AMOUNT_NOT_POSITIVE, code=ErrorCode.MIN_VALUE.value)


def validate_amount_maximum(value: Decimal) -> None:
    """Read the limit when a payout is validated, so the setting is never frozen in a migration."""
    maximum: Decimal = settings.PAYOUT_MAX_AMOUNT
    if value > maximum:
        raise ValidationError(
            errors.MSG_AMOUNT_ABOVE_MAXIMUM,
            code=ErrorCode.MAX_VALUE.value,
            params={"limit_value": maximum},
        )


def _walk(value: Any) -> None:
    """Check every string and number inside recipient_details, iteratively.

    Nesting is bounded before this runs (payouts.validation; the admin reads its JSON with
    payouts.strict_json), so json.dumps below cannot recurse too deep either.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            validate_storable_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValidationError(errors.MSG_RECIPIENT_NOT_FINITE, code=ErrorCode.NOT_FINITE.value)


def validate_recipient_details(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(errors.MSG_RECIPIENT_NOT_OBJECT, code=ErrorCode.NOT_AN_OBJECT.value)
    account_number = value.get("account_number")
    if not isinstance(account_number, str) or is_blank(account_number):
        raise ValidationError(
            errors.MSG_ACCOUNT_NUMBER_MISSING, code=ErrorCode.ACCOUNT_NUMBER_REQUIRED.value
        )
    _walk(value)
    if len(json.dumps(value).encode()) > RECIPIENT_DETAILS_MAX_BYTES:
        raise ValidationError(
            errors.MSG_RECIPIENT_TOO_LARGE,
            code=ErrorCode.MAX_SIZE.value,
            params={"limit": RECIPIENT_DETAILS_MAX_BYTES},
        )


def _json_kind(value: Any) -> str:
    """What a JSON value is, as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a number"


def _shown_key(key: str) -> str:
    """A key as a message quotes it: cut at the longest a key may be."""
    if len(key) <= METADATA_KEY_MAX_LENGTH:
        return key
    return key[:METADATA_KEY_MAX_LENGTH] + "…"


def _refusal(message: str, code: ErrorCode, **params: object) -> ValidationError:
    return ValidationError(message, code=code.value, params=params or None)


def _metadata_entry_errors(key: str, value: Any) -> list[ValidationError]:
    found = []
    shown = _shown_key(key)
    if not key:
        found.append(_refusal(errors.MSG_METADATA_KEY_BLANK, ErrorCode.BLANK))
    elif len(key) > METADATA_KEY_MAX_LENGTH:
        message = errors.MSG_METADATA_KEY_TOO_LONG
        found.append(
            _refusal(message, ErrorCode.MAX_LENGTH, key=shown, limit=METADATA_KEY_MAX_LENGTH)
        )
    if not _storable(key):
        # Not quoted: the message would carry the very character it refuses.
        found.append(_refusal(errors.MSG_METADATA_KEY_INVALID_TEXT, ErrorCode.INVALID_TEXT))
        return found
    if not isinstance(value, str):
        message = errors.MSG_METADATA_VALUE_NOT_TEXT
        found.append(_refusal(message, ErrorCode.INVALID, key=shown, kind=_json_kind(value)))
    elif len(value) > METADATA_VALUE_MAX_LENGTH:
        message = errors.MSG_METADATA_VALUE_TOO_LONG
        found.append(
            _refusal(message, ErrorCode.MAX_LENGTH, key=shown, limit=METADATA_VALUE_MAX_LENGTH)
        )
    elif not _storable(value):
        message = errors.MSG_METADATA_VALUE_INVALID_TEXT
        found.append(_refusal(message, ErrorCode.INVALID_TEXT, key=shown))
    return found


def validate_metadata(value: Any) -> None:
    """A flat map of strings: every broken key and value is reported at once, each by name."""
    if not isinstance(value, dict):
        raise _refusal(errors.MSG_METADATA_NOT_OBJECT, ErrorCode.NOT_AN_OBJECT)
    if len(value) > METADATA_MAX_KEYS:
        # Alone: the keys of a map this large are not worth a message each.
        raise _refusal(
            errors.MSG_METADATA_TOO_MANY_KEYS, ErrorCode.MAX_SIZE, limit=METADATA_MAX_KEYS
        )
    found = [error for key, item in value.items() for error in _metadata_entry_errors(key, item)]
    if found:
        raise ValidationError(found)
