"""Domain errors and the one table of error codes both APIs answer with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every machine-readable error code of the service, REST (`code`) and GraphQL (enum) alike.

    Each name is its value in upper case, so GraphQL's `MIN_VALUE` is REST's `"min_value"`. The
    field rules use Django's own validator codes.
    """

    # A field's value
    REQUIRED = "required"
    NULL = "null"
    BLANK = "blank"
    INVALID = "invalid"
    MIN_VALUE = "min_value"
    MAX_VALUE = "max_value"
    MAX_DIGITS = "max_digits"
    MAX_DECIMAL_PLACES = "max_decimal_places"
    MAX_WHOLE_DIGITS = "max_whole_digits"
    MAX_LENGTH = "max_length"
    MAX_SIZE = "max_size"
    MAX_DEPTH = "max_depth"
    NOT_FINITE = "not_finite"
    INVALID_TEXT = "invalid_text"
    INVALID_CHOICE = "invalid_choice"
    NOT_AN_OBJECT = "not_an_object"
    ACCOUNT_NUMBER_REQUIRED = "account_number_required"
    UNKNOWN_FIELD = "unknown_field"
    READ_ONLY_FIELD = "read_only_field"
    # A payout's state
    NOT_FOUND = "not_found"
    NOT_EDITABLE = "not_editable"
    NOT_DELETABLE = "not_deletable"
    INVALID_TRANSITION = "invalid_transition"
    REFERENCE_IN_USE = "reference_in_use"
    # Who is asking
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    API_KEY_REVOKED = "api_key_revoked"
    API_KEY_EXPIRED = "api_key_expired"
    CLIENT_INACTIVE = "client_inactive"
    PERMISSION_DENIED = "permission_denied"
    CLIENT_REQUIRED = "client_required"
    RATE_LIMITED = "rate_limited"
    # An Idempotency-Key
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_MISMATCH = "idempotency_key_mismatch"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_MULTIPLE_MUTATIONS = "idempotency_key_multiple_mutations"
    # A webhook endpoint
    WEBHOOK_URL_INVALID = "webhook_url_invalid"
    WEBHOOK_URL_NOT_HTTPS = "webhook_url_not_https"
    WEBHOOK_URL_CREDENTIALS = "webhook_url_credentials"
    WEBHOOK_URL_UNRESOLVABLE = "webhook_url_unresolvable"
    WEBHOOK_URL_PRIVATE_ADDRESS = "webhook_url_private_address"
    WEBHOOK_ENDPOINT_LIMIT = "webhook_endpoint_limit"
    # A webhook delivery
    DELIVERY_ALREADY_SCHEDULED = "delivery_already_scheduled"
    # The request as a whole
    PARSE_ERROR = "parse_error"
    DUPLICATE_KEY = "duplicate_key"
    REPEATED_PARAMETER = "repeated_parameter"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    # The server
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVER_ERROR = "server_error"


# What a request error that carries no code of its own is, by its HTTP status.
CODES_BY_STATUS = {
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def code_for_status(status: int) -> ErrorCode:
    fallback = ErrorCode.INVALID if status < 500 else ErrorCode.SERVER_ERROR
    return CODES_BY_STATUS.get(status, fallback)


MSG_REQUIRED = "This field is required."
MSG_NULL = "This field may not be null."
MSG_BLANK = "This field may not be blank."
MSG_UNKNOWN_FIELD = "Unknown field."
MSG_READ_ONLY_FIELD = "This field is read-only."
MSG_CREATE_ONLY_FIELD = "This field is set when the payout is created and cannot be changed."
MSG_NOT_AN_OBJECT_BODY = "Expected a JSON object of payout fields."
MSG_AMOUNT_INVALID = 'Enter a valid decimal number, e.g. "100.00".'
MSG_AMOUNT_NOT_FINITE = "Amount must be a finite number."
MSG_AMOUNT_NOT_POSITIVE = "Amount must be greater than 0."
MSG_AMOUNT_ABOVE_MAXIMUM = "Amount must be less than or equal to %(limit_value)s."
MSG_AMOUNT_TOO_MANY_DECIMALS = "Amount must have no more than 2 decimal places."
MSG_AMOUNT_TOO_MANY_DIGITS = "Amount must have no more than 12 digits in total."
MSG_AMOUNT_TOO_MANY_WHOLE_DIGITS = "Amount must have no more than 10 digits before the point."
MSG_CURRENCY_UNSUPPORTED = 'Unsupported currency "%(value)s". Use one of: %(choices)s.'
MSG_CURRENCY_NOT_TEXT = 'Currency must be a string such as "EUR".'
MSG_RECIPIENT_NOT_OBJECT = "recipient_details must be a JSON object."
MSG_ACCOUNT_NUMBER_MISSING = "recipient_details.account_number must be a non-empty string."
MSG_RECIPIENT_TOO_LARGE = "recipient_details must be at most %(limit)s bytes."
MSG_RECIPIENT_TOO_DEEP = "recipient_details must be nested at most %(limit)s levels deep."
MSG_RECIPIENT_NOT_FINITE = "recipient_details must contain only finite numbers."
MSG_DESCRIPTION_INVALID = "Description must be a string."
MSG_DESCRIPTION_TOO_LONG = "Description must be at most %(limit_value)s characters."
MSG_REFERENCE_NOT_TEXT = 'Reference must be a string, e.g. "INV-2025-0042".'
MSG_REFERENCE_TOO_LONG = "Reference must be at most %(limit_value)s characters."
MSG_REFERENCE_CONTROL_CHARACTER = (
    "Reference must not contain control characters (\\u0000-\\u001f, \\u007f-\\u009f)."
)
MSG_REFERENCE_IN_USE = 'Reference "{reference}" is already used by payout {payout_id}.'
MSG_METADATA_NOT_OBJECT = "Metadata must be a JSON object of string keys and string values."
MSG_METADATA_TOO_MANY_KEYS = "Metadata must have at most %(limit)s keys."
MSG_METADATA_KEY_BLANK = "Metadata keys must not be empty."
MSG_METADATA_KEY_TOO_LONG = 'Metadata key "%(key)s" must be at most %(limit)s characters.'
MSG_METADATA_KEY_INVALID_TEXT = (
    "Metadata keys must not contain NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) "
    "characters."
)
MSG_METADATA_VALUE_NOT_TEXT = 'Metadata value of "%(key)s" must be a string, not %(kind)s.'
MSG_METADATA_VALUE_TOO_LONG = 'Metadata value of "%(key)s" must be at most %(limit)s characters.'
MSG_METADATA_VALUE_INVALID_TEXT = (
    'Metadata value of "%(key)s" must not contain NUL (\\u0000) or unpaired surrogate '
    "(\\ud800-\\udfff) characters."
)
MSG_INVALID_TEXT = (
    "Text must not contain NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters."
)
MSG_NOT_EDITABLE = "Only PENDING payouts can be updated."
MSG_NOT_DELETABLE = "Only PENDING payouts can be deleted."
MSG_NOT_FOUND = "Payout not found."
MSG_INVALID_TRANSITION = "A {from_status} payout cannot move to {to_status}."
MSG_CLIENT_REQUIRED = (
    "Payouts are created with a client's API key; a staff session can read, edit and delete them."
)
MSG_SERVER_ERROR = "The server failed to handle this request; it has been logged."
MSG_UNAVAILABLE = "The service cannot reach its database; try again shortly."
MSG_TOO_LARGE = "The request body is larger than the server accepts."
MSG_JSON_INVALID = "Malformed JSON: {reason}."
MSG_JSON_NOT_UTF8 = "The body must be UTF-8 encoded JSON."
MSG_JSON_DUPLICATE_KEY = 'Duplicate key "{key}" in a JSON object.'
MSG_JSON_CONSTANT = "{constant} is not JSON: numbers must be finite."
MSG_JSON_INTEGER_TOO_LONG = "JSON integers must have at most {limit} digits."
MSG_JSON_TOO_DEEP = "JSON must be nested at most {limit} levels deep."
MSG_JSON_TOO_MANY_VALUES = "JSON must hold at most {limit} values."
MSG_JSON_INVALID_TEXT = (
    "JSON strings must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)."
)


@dataclass(frozen=True)
class FieldError:
    field: str
    code: ErrorCode
    message: str


class PayoutError(Exception):
    """Base of every error the payouts domain raises on purpose."""

    code: ErrorCode = ErrorCode.INVALID
    message: str = ""
    # The input field the refusal is about, or None when it is about the whole request.
    field: str | None = None

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


class ReferenceInUse(PayoutError):
    """The client already has a live payout with this reference: nothing was created, and the
    payout that holds it is named, so a retried create finds what its first attempt made."""

    code = ErrorCode.REFERENCE_IN_USE
    field = "reference"

    def __init__(self, reference: str, payout_id: uuid.UUID) -> None:
        self.reference = reference
        self.payout_id = payout_id
        super().__init__(MSG_REFERENCE_IN_USE.format(reference=reference, payout_id=payout_id))


class ClientRequired(PayoutError):
    """A write that needs a client to own the payout came from a caller acting for none."""

    code = ErrorCode.CLIENT_REQUIRED
    message = MSG_CLIENT_REQUIRED


class PayoutTransitionNotAllowed(PayoutError):
    code = ErrorCode.INVALID_TRANSITION

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            MSG_INVALID_TRANSITION.format(from_status=from_status, to_status=to_status)
        )


class InputRefused(PayoutError):
    """A request body or argument that is not acceptable input at all (malformed, too deep)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code = code
        super().__init__(message)
