"""Payout input rules, written once: both APIs and every service validate through here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from payouts import errors
from payouts.errors import ErrorCode, FieldError, PayoutInvalid
from payouts.models import Currency

EDITABLE_FIELDS: tuple[str, ...] = ("amount", "currency", "recipient_details", "description")
REQUIRED_FIELDS: tuple[str, ...] = ("amount", "currency", "recipient_details")
AMOUNT_MAX_DIGITS = 12
AMOUNT_DECIMAL_PLACES = 2
DESCRIPTION_MAX_LENGTH = 1000
RECIPIENT_DETAILS_MAX_BYTES = 4096

MSG_DESCRIPTION_TOO_LONG = f"Description must be at most {DESCRIPTION_MAX_LENGTH} characters."
MSG_RECIPIENT_TOO_LARGE = f"recipient_details must be at most {RECIPIENT_DETAILS_MAX_BYTES} bytes."
MSG_NUL_CHARACTER = "Text must not contain NUL (\\u0000) characters."
MSG_RECIPIENT_NOT_FINITE = "recipient_details must contain only finite numbers."
MSG_TIMESTAMP_OUT_OF_RANGE = "Date and time must fall between the years 1 and 9999 in UTC."


class _Invalid(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code = code
        self.message = message


def _count_digits(value: Decimal) -> tuple[int, int]:
    """Return (total digits, decimal places) the way DecimalField counts them."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite values only reach here
    if exponent >= 0:
        total = len(digits) + exponent if digits != (0,) else 1
        return total, 0
    places = -exponent
    return max(len(digits), places), places


def clean_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _Invalid(ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _Invalid(ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID) from None
    if not amount.is_finite():
        raise _Invalid(ErrorCode.NOT_FINITE, errors.MSG_AMOUNT_NOT_FINITE)
    total, places = _count_digits(amount)
    if places > AMOUNT_DECIMAL_PLACES:
        raise _Invalid(ErrorCode.TOO_MANY_DECIMALS, errors.MSG_AMOUNT_TOO_MANY_DECIMALS)
    if total > AMOUNT_MAX_DIGITS:
        raise _Invalid(ErrorCode.TOO_MANY_DIGITS, errors.MSG_AMOUNT_TOO_MANY_DIGITS)
    if amount <= 0:
        raise _Invalid(ErrorCode.NOT_POSITIVE, errors.MSG_AMOUNT_NOT_POSITIVE)
    maximum: Decimal = settings.PAYOUT_MAX_AMOUNT
    if amount > maximum:
        raise _Invalid(
            ErrorCode.ABOVE_MAXIMUM, errors.MSG_AMOUNT_ABOVE_MAXIMUM.format(maximum=maximum)
        )
    return amount.quantize(Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES))


def clean_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in Currency.values:
        shown = json.dumps(value) if isinstance(value, str | int | float | bool) else "value"
        raise _Invalid(
            ErrorCode.UNSUPPORTED_CURRENCY,
            errors.MSG_CURRENCY_UNSUPPORTED.format(value=shown, choices=", ".join(Currency.values)),
        )
    return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def clean_recipient_details(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(ErrorCode.NOT_AN_OBJECT, errors.MSG_RECIPIENT_NOT_OBJECT)
    account_number = value.get("account_number")
    if not isinstance(account_number, str) or not account_number.strip():
        raise _Invalid(ErrorCode.ACCOUNT_NUMBER_MISSING, errors.MSG_ACCOUNT_NUMBER_MISSING)
    # PostgreSQL's jsonb cannot store NUL; refusing it here keeps both databases equal.
    if _contains_nul(value):
        raise _Invalid(ErrorCode.INVALID, MSG_NUL_CHARACTER)
    try:
        encoded = json.dumps(value, allow_nan=False).encode()
    except ValueError:
        raise _Invalid(ErrorCode.NOT_FINITE, MSG_RECIPIENT_NOT_FINITE) from None
    if len(encoded) > RECIPIENT_DETAILS_MAX_BYTES:
        raise _Invalid(ErrorCode.INVALID, MSG_RECIPIENT_TOO_LARGE)
    return value


def clean_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Invalid(ErrorCode.INVALID, errors.MSG_DESCRIPTION_INVALID)
    if "\x00" in value:
        raise _Invalid(ErrorCode.INVALID, MSG_NUL_CHARACTER)
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise _Invalid(ErrorCode.INVALID, MSG_DESCRIPTION_TOO_LONG)
    return value


_CLEANERS = {
    "amount": clean_amount,
    "currency": clean_currency,
    "recipient_details": clean_recipient_details,
    "description": clean_description,
}


def payout_clean(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate payout fields; return cleaned values or raise PayoutInvalid listing every error."""
    field_errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(f"Not payout fields: {', '.join(unknown)}")
    for field in EDITABLE_FIELDS:
        if field not in data:
            if not partial and field in REQUIRED_FIELDS:
                field_errors.append(FieldError(field, ErrorCode.REQUIRED, errors.MSG_REQUIRED))
            continue
        try:
            cleaned[field] = _CLEANERS[field](data[field])
        except _Invalid as invalid:
            field_errors.append(FieldError(field, invalid.code, invalid.message))
    if field_errors:
        raise PayoutInvalid(field_errors)
    return cleaned


def utc_timestamp(value: datetime) -> datetime:
    """Return a timestamp filter bound in UTC, or raise ValueError when UTC cannot hold it.

    Python takes UTC offsets up to ±23:59 but PostgreSQL only up to ±15:59, so a bound is
    converted before it reaches a query rather than letting the database refuse it.
    """
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(MSG_TIMESTAMP_OUT_OF_RANGE) from None
