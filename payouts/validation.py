"""Payout input rules, written once: both APIs, the admin and every service validate here.

Input is read in two steps. First each raw value is parsed for its type and form (an amount in
the canonical decimal form, text that is a string, recipient_details bounded in depth);
then the Payout model's own field rules run through full_clean() (digits, bounds, choices,
lengths and the validators in payouts.validators).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator

from payouts import errors
from payouts.errors import ErrorCode, FieldError, InputRefused, PayoutInvalid
from payouts.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Payout
from payouts.validators import WHITESPACE, is_blank, validate_recipient_details

EDITABLE_FIELDS: tuple[str, ...] = (
    "amount",
    "currency",
    "recipient_details",
    "description",
    "metadata",
)
# Given when a payout is created, never changed afterwards.
CREATE_ONLY_FIELDS: tuple[str, ...] = ("reference",)
CREATE_FIELDS: tuple[str, ...] = (*EDITABLE_FIELDS, *CREATE_ONLY_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = ("amount", "currency", "recipient_details")
READ_ONLY_FIELDS: tuple[str, ...] = ("id", "status", "failure_reason", "created_at", "updated_at")
# recipient_details is a flat object in practice; a few levels leave room for an address.
RECIPIENT_DETAILS_MAX_DEPTH = 8

# The one written form of an amount, on input and in filters: ASCII digits, then optionally a
# point and one or two digits. Decimal() itself also takes "1_000", "+1", " 1", "1e3" and
# non-ASCII digits, which a gateway in front of us may read differently or not at all.
# As a JSON Schema pattern, with the column's bound on whole digits: what parse_amount takes.
AMOUNT_PATTERN = rf"^0*[0-9]{{1,{AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES}}}(\.[0-9]{{1,2}})?$"
# A minus sign is read too, so that "-5" is refused as not positive rather than as no number.
_AMOUNT_SYNTAX = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_CENTS = Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES)
_AMOUNT_FIELD = Payout._meta.get_field("amount")
# The column's own digits-and-places check, with the column's messages.
_AMOUNT_DIGITS = DecimalValidator(AMOUNT_MAX_DIGITS, AMOUNT_DECIMAL_PLACES)

_REFERENCE_FIELD = Payout._meta.get_field("reference")
# What parse_reference takes, as a JSON Schema pattern (its length is the column's): no control
# characters, and one character at least that is not whitespace (validators.is_blank's).
_PRINTABLE = r"[^\u0000-\u001f\u007f-\u009f]"
REFERENCE_PATTERN = rf"^{_PRINTABLE}*[^{WHITESPACE}\u0000-\u001f\u007f-\u009f]{_PRINTABLE}*$"

MSG_TIMESTAMP_OUT_OF_RANGE = "Date and time must fall between the years 1 and 9999 in UTC."


def payable_amount_pattern(maximum: Decimal) -> str:
    """The pattern of the amounts a payout may have: canonical text, > 0 and <= `maximum`.

    So the OpenAPI document states the whole rule, and a client generated from it (or a fuzzer)
    knows which amounts are accepted. Built digit by digit: below `maximum`'s whole part with
    fewer digits, or as many digits and smaller at the first that differs, or equal with cents
    up to its cents, or a positive fraction of one.
    """
    whole, cents = f"{maximum:.2f}".split(".")
    allowed_cents = [f"{value:02d}" for value in range(int(cents) + 1)]
    allowed_cents += [text[0] for text in allowed_cents if text.endswith("0")]
    if whole == "0":
        fractions = [text for text in allowed_cents if int(text.ljust(2, "0")) > 0]
        return rf"^0+\.({'|'.join(fractions)})$"
    fraction = r"(\.[0-9]{1,2})?"
    options = [r"0+\.(0[1-9]|[1-9][0-9]?)"]
    if len(whole) > 1:
        options.append(rf"[1-9][0-9]{{0,{len(whole) - 2}}}{fraction}")
    for index, digit in enumerate(whole):
        lowest = 1 if index == 0 else 0
        if int(digit) > lowest:
            rest = len(whole) - index - 1
            options.append(rf"{whole[:index]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}{fraction}")
    options.append(rf"{whole}(\.({'|'.join(allowed_cents)}))?")
    return "^0*(" + "|".join(options) + ")$"


def parse_amount(value: object) -> Decimal:
    """Read an amount as both APIs take it, in bodies and in filters alike.

    Canonical decimal text, an int, or an exact finite Decimal (a JSON number), within the
    amount column's digits and places. Raises InputRefused. Whether it may be paid (> 0, at most
    PAYOUT_MAX_AMOUNT) is for the model's validators.
    """
    if isinstance(value, bool):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        value = _amount_from_text(value)
    if not isinstance(value, Decimal):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID)
    if not value.is_finite():
        raise InputRefused(ErrorCode.NOT_FINITE, errors.MSG_AMOUNT_NOT_FINITE)
    if value.is_signed():
        # Before the digits are counted: "-5" and -5 are not positive, whatever their size.
        raise InputRefused(ErrorCode.MIN_VALUE, errors.MSG_AMOUNT_NOT_POSITIVE)
    try:
        _AMOUNT_DIGITS(value)
    except ValidationError as invalid:
        code = ErrorCode(str(invalid.code))
        raise InputRefused(code, str(_AMOUNT_FIELD.error_messages[code.value])) from None
    return value


def _amount_from_text(text: str) -> Decimal:
    if _AMOUNT_SYNTAX.fullmatch(text):
        return Decimal(text)
    if text.lower() in ("nan", "snan", "inf", "infinity", "-inf", "-infinity", "+inf", "+infinity"):
        raise InputRefused(ErrorCode.NOT_FINITE, errors.MSG_AMOUNT_NOT_FINITE)
    raise InputRefused(ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID)


def _parse_text(message: str) -> Callable[[object], object]:
    def parse(value: object) -> object:
        if not isinstance(value, str):
            raise InputRefused(ErrorCode.INVALID, message)
        return value

    return parse


def parse_reference(value: object) -> str:
    """Read a reference as both APIs take it, in bodies and in filters alike.

    A string with something besides whitespace in it, within the reference column's rules
    (its length, validate_reference). Raises InputRefused with the first rule it breaks.
    """
    if not isinstance(value, str):
        raise InputRefused(ErrorCode.INVALID, errors.MSG_REFERENCE_NOT_TEXT)
    # Here, not in a validator: the column may be blank (no reference), so full_clean() and the
    # column's validators skip an empty value.
    if is_blank(value):
        raise InputRefused(ErrorCode.BLANK, errors.MSG_BLANK)
    try:
        _REFERENCE_FIELD.run_validators(value)
    except ValidationError as invalid:
        [first, *_] = invalid.error_list
        raise InputRefused(ErrorCode(str(first.code)), first.messages[0]) from None
    return value


def parse_metadata(value: object) -> object:
    """Only an object is metadata. Checked here because full_clean() skips a field that may be
    blank when it holds an empty value ([] or ""); validate_metadata judges its entries."""
    if not isinstance(value, dict):
        raise InputRefused(ErrorCode.NOT_AN_OBJECT, errors.MSG_METADATA_NOT_OBJECT)
    return value


def parse_recipient_details(value: object) -> object:
    """Bound the nesting of any container without recursion (else InputRefused), and make JSON
    numbers floats, as json.loads would. Whether it is an object is validate_recipient_details'
    to say."""
    # The value is walked as the one item of a list, so a bare number is made a float too.
    holder: list[object] = [value]
    pending: list[tuple[Any, int]] = [(holder, 0)]
    while pending:
        container, depth = pending.pop()
        if depth > RECIPIENT_DETAILS_MAX_DEPTH:
            raise InputRefused(
                ErrorCode.MAX_DEPTH,
                errors.MSG_RECIPIENT_TOO_DEEP % {"limit": RECIPIENT_DETAILS_MAX_DEPTH},
            )
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in list(items):
            if isinstance(item, Decimal):
                container[key] = float(item)
            elif isinstance(item, dict | list):
                pending.append((item, depth + 1))
    return holder[0]


_PARSERS: dict[str, Callable[[object], object]] = {
    "amount": parse_amount,
    "currency": _parse_text(errors.MSG_CURRENCY_NOT_TEXT),
    "recipient_details": parse_recipient_details,
    "description": _parse_text(errors.MSG_DESCRIPTION_INVALID),
    "metadata": parse_metadata,
    "reference": parse_reference,
}


def _field_errors(error: ValidationError, candidate: Payout) -> list[FieldError]:
    found = []
    for field, field_errors in error.error_dict.items():
        for field_error in field_errors:
            if (field, field_error.code) == ("recipient_details", ErrorCode.BLANK):
                # Django refuses {}, [] and "" as blank before the field's validator runs: the
                # validator says which rule the empty value breaks (no account number, no object).
                try:
                    validate_recipient_details(candidate.recipient_details)
                except ValidationError as refused:
                    field_error = refused
            code = str(field_error.code)
            known = ErrorCode(code) if code in ErrorCode.__members__.values() else ErrorCode.INVALID
            found.append(FieldError(field, known, field_error.messages[0]))
    return found


def payout_clean(data: object, *, instance: Payout | None = None) -> dict[str, Any]:
    """Validate payout fields for a new payout, or for an edit of `instance`.

    Returns the cleaned values of the fields sent, or raises PayoutInvalid listing every error.
    """
    if not isinstance(data, Mapping):
        raise PayoutInvalid(
            [FieldError("", ErrorCode.NOT_AN_OBJECT, errors.MSG_NOT_AN_OBJECT_BODY)]
        )
    writable = CREATE_FIELDS if instance is None else EDITABLE_FIELDS
    field_errors: list[FieldError] = []
    for name in data:
        if name in READ_ONLY_FIELDS:
            field_errors.append(
                FieldError(name, ErrorCode.READ_ONLY_FIELD, errors.MSG_READ_ONLY_FIELD)
            )
        elif name in CREATE_ONLY_FIELDS and instance is not None:
            field_errors.append(
                FieldError(name, ErrorCode.READ_ONLY_FIELD, errors.MSG_CREATE_ONLY_FIELD)
            )
        elif name not in writable:
            field_errors.append(
                FieldError(str(name), ErrorCode.UNKNOWN_FIELD, errors.MSG_UNKNOWN_FIELD)
            )
    parsed: dict[str, Any] = {}
    for field in writable:
        if field not in data:
            if instance is None and field in REQUIRED_FIELDS:
                field_errors.append(FieldError(field, ErrorCode.REQUIRED, errors.MSG_REQUIRED))
            continue
        if data[field] is None:
            # No payout field takes null, not even reference, which is null when there is none
            # (omit it). Checked here because full_clean() skips a field that may be blank
            # (description, reference, metadata) when it holds None.
            field_errors.append(FieldError(field, ErrorCode.NULL, errors.MSG_NULL))
            continue
        try:
            parsed[field] = _PARSERS[field](data[field])
        except InputRefused as refused:
            field_errors.append(FieldError(field, refused.code, refused.message))
    candidate = Payout(**parsed) if instance is None else copy.copy(instance)
    for field, value in parsed.items():
        setattr(candidate, field, value)
    try:
        candidate.full_clean(
            exclude=[field.name for field in Payout._meta.fields if field.name not in parsed],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as invalid:
        field_errors.extend(_field_errors(invalid, candidate))
    if field_errors:
        order = {name: index for index, name in enumerate(CREATE_FIELDS)}
        field_errors.sort(key=lambda error: order.get(error.field, -1))
        raise PayoutInvalid(field_errors)
    if "amount" in parsed:
        parsed["amount"] = parsed["amount"].quantize(_CENTS)
    return parsed


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
