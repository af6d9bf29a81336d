"""Domain errors: a machine-readable code, a human message and, where it applies, a field."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    NOT_POSITIVE = "min_value"
    ABOVE_MAXIMUM = "max_value"
    TOO_MANY_DECIMALS = "max_decimal_places"
    TOO_MANY_DIGITS = "max_digits"
    NOT_FINITE = "not_finite"
    UNSUPPORTED_CURRENCY = "invalid_choice"
    NOT_AN_OBJECT = "not_an_object"
    ACCOUNT_NUMBER_MISSING = "account_number_required"
    NOT_EDITABLE = "not_editable"
    NOT_DELETABLE = "not_deletable"
    INVALID_TRANSITION = "invalid_transition"
    NOT_FOUND = "not_found"


MSG_REQUIRED = "This field is required."
MSG_AMOUNT_INVALID = 'Enter a valid decimal number, e.g. "100.00".'
MSG_AMOUNT_NOT_FINITE = "Amount must be a finite number."
MSG_AMOUNT_NOT_POSITIVE = "Amount must be greater than 0."
MSG_AMOUNT_ABOVE_MAXIMUM = "Amount must be less than or equal to {maximum}."
MSG_AMOUNT_TOO_MANY_DECIMALS = "Amount must have no more than 2 decimal places."
MSG_AMOUNT_TOO_MANY_DIGITS = "Amount must have no more than 12 digits in total."
MSG_CURRENCY_UNSUPPORTED = "Unsupported currency {value}. Use one of: {choices}."
MSG_RECIPIENT_NOT_OBJECT = "recipient_details must be a JSON object."
MSG_ACCOUNT_NUMBER_MISSING = "recipient_details.account_number must be a non-empty string."
MSG_DESCRIPTION_INVALID = "Description must be a string."
MSG_NOT_EDITABLE = "Only PENDING payouts can be updated."
MSG_NOT_DELETABLE = "Only PENDING payouts can be deleted."
MSG_NOT_FOUND = "Payout not found."
MSG_INVALID_TRANSITION = "A {from_status} payout cannot move to {to_status}."


@dataclass(frozen=True)
class FieldError:
    field: str
    code: ErrorCode
    message: str


class PayoutError(Exception):
    """Base of every error the payouts domain raises on purpose."""

    code: ErrorCode = ErrorCode.INVALID
    message: str = ""

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class PayoutInvalid(PayoutError):
    """Input broke one or more payout rules; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        self.code = errors[0].code
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))


class PayoutNotFound(PayoutError):
    code = ErrorCode.NOT_FOUND
    message = MSG_NOT_FOUND


class PayoutNotEditable(PayoutError):
    code = ErrorCode.NOT_EDITABLE
    message = MSG_NOT_EDITABLE


class PayoutNotDeletable(PayoutError):
    code = ErrorCode.NOT_DELETABLE
    message = MSG_NOT_DELETABLE


class PayoutTransitionNotAllowed(PayoutError):
    code = ErrorCode.INVALID_TRANSITION

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            MSG_INVALID_TRANSITION.format(from_status=from_status, to_status=to_status)
        )
