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
# PostgreSQL's jsonb and text cannot hold NUL; unpaired surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def validate_storable_text(value: str) -> None:
    if _UNSTORABLE.search(value):
        raise ValidationError(errors.MSG_INVALID_TEXT, code=ErrorCode.INVALID_TEXT.value)


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
    if not isinstance(account_number, str) or not account_number.strip():
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
