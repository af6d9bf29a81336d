"""The error responses of /api/payouts/ as the OpenAPI document describes them: one envelope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from clients.authentication import MSG_NO_CREDENTIALS, MSG_REVOKED
from clients.ratelimit import MSG_RATE_LIMITED
from events.errors import MSG_AFTER_NOT_FOUND, MSG_EVENT_NOT_FOUND
from idempotency.errors import MSG_KEY_IN_USE, MSG_KEY_INVALID, MSG_KEY_MISMATCH
from payouts import errors
from payouts.errors import MSG_SERVER_ERROR, MSG_TOO_LARGE, MSG_UNAVAILABLE, ErrorCode
from payouts.selectors import PAYOUT_PAGE_MAX
from rest_api.errors import MSG_INVALID_INPUT, error_body
from rest_api.filters import MSG_REPEATED_PARAMETER
from rest_api.pagination import MSG_INVALID_PAGE, MSG_PAGE_SIZE_TOO_LARGE

ERROR_CODES = [(code.value, code.name) for code in ErrorCode]


class ErrorItemSerializer(serializers.Serializer[Any]):
    """One problem: the field it is about, its code and its message."""

    field = serializers.CharField(
        allow_null=True, help_text="The field or query parameter, or null for the whole request."
    )
    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField()


def _envelope_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    """A summary, its code, and each problem found."""
    return {
        "detail": serializers.CharField(),
        "code": serializers.ChoiceField(choices=ERROR_CODES),
        "errors": ErrorItemSerializer(many=True),
    }


# Every error of the API. Built inline: a field named `errors` on a Serializer class would
# shadow its own `errors` property.
ErrorSerializer = inline_serializer("Error", fields=_envelope_fields())
# A create's 409: the envelope and, for a reference in use, the payout that holds it.
ConflictErrorSerializer = inline_serializer(
    "ConflictError",
    fields={
        **_envelope_fields(),
        "existing_payout_id": serializers.UUIDField(
            required=False,
            help_text="With `reference_in_use` only: your payout that already holds the reference.",
        ),
    },
)


def _response(description: str, *examples: tuple[str, dict[str, Any]]) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description,
        examples=[OpenApiExample(name, value=value) for name, value in examples],
    )


def _invalid(*field_errors: tuple[str | None, ErrorCode, str]) -> dict[str, Any]:
    return error_body(
        ErrorCode.INVALID.value,
        MSG_INVALID_INPUT,
        [
            {"field": field, "code": code.value, "message": message}
            for field, code, message in field_errors
        ],
    )


def _one(code: ErrorCode, message: str) -> dict[str, Any]:
    return error_body(code.value, message)


_BODY_INVALID_EXAMPLES = (
    (
        "Bad amount and currency",
        _invalid(
            ("amount", ErrorCode.MIN_VALUE, errors.MSG_AMOUNT_NOT_POSITIVE),
            (
                "currency",
                ErrorCode.INVALID_CHOICE,
                'Unsupported currency "usd". Use one of: USD, EUR, GBP, RUB.',
            ),
        ),
    ),
    (
        "Duplicate key",
        _one(ErrorCode.DUPLICATE_KEY, errors.MSG_JSON_DUPLICATE_KEY.format(key="amount")),
    ),
)
BODY_INVALID = _response(
    "Invalid input: every bad field at once, or a body that is not acceptable JSON.",
    *_BODY_INVALID_EXAMPLES,
)
CREATE_INVALID = _response(
    "Invalid input: every bad field at once, a body that is not acceptable JSON, or a malformed "
    "Idempotency-Key. Under a key, a refused payout is kept like a created one: the same "
    "request with the same key gets the same 400 again, with `Idempotent-Replayed: true`.",
    *_BODY_INVALID_EXAMPLES,
    ("Malformed Idempotency-Key", _one(ErrorCode.IDEMPOTENCY_KEY_INVALID, MSG_KEY_INVALID)),
)
IDEMPOTENCY_KEY_MISMATCH = _response(
    "This Idempotency-Key was first used with a different request (method, path or body). "
    "Nothing was done; use a new key for a new payout.",
    (
        "Another body",
        _one(
            ErrorCode.IDEMPOTENCY_KEY_MISMATCH,
            MSG_KEY_MISMATCH.format(method="POST", path="/api/payouts/"),
        ),
    ),
)
# Each example's summary is the request that gets exactly its value (a test replays them).
PARAMETERS_INVALID = OpenApiResponse(
    response=ErrorSerializer,
    description=(
        "A query parameter is malformed, out of range, or given more than once although it "
        "takes one value."
    ),
    examples=[
        OpenApiExample(
            "UnknownStatus",
            summary="/api/payouts/?status=PENDING,DONE",
            value=_invalid(
                (
                    "status",
                    ErrorCode.INVALID_CHOICE,
                    "Select a valid choice. DONE is not one of the available choices.",
                )
            ),
        ),
        OpenApiExample(
            "MalformedAmount",
            summary="/api/payouts/?min_amount=10_000",
            value=_invalid(("min_amount", ErrorCode.INVALID, errors.MSG_AMOUNT_INVALID)),
        ),
        OpenApiExample(
            "RepeatedParameter",
            summary="/api/payouts/?max_amount=10&max_amount=20",
            value=_invalid(
                (
                    "max_amount",
                    ErrorCode.REPEATED_PARAMETER,
                    MSG_REPEATED_PARAMETER.format(name="max_amount", count=2),
                )
            ),
        ),
        OpenApiExample(
            "PageTooLarge",
            summary=f"/api/payouts/?page_size={PAYOUT_PAGE_MAX + 1}",
            value=_invalid(("page_size", ErrorCode.INVALID, MSG_PAGE_SIZE_TOO_LARGE)),
        ),
    ],
)
EVENT_PARAMETERS_INVALID = OpenApiResponse(
    response=ErrorSerializer,
    description="A filter or page parameter is malformed, or `after` names no event of yours.",
    examples=[
        OpenApiExample(
            "UnknownCursor",
            summary="/api/events/?after=evt_4a2b8c0e5d1f4f7a9b3c6d8e0f1a2b3c",
            value=_invalid(("after", ErrorCode.NOT_FOUND, MSG_AFTER_NOT_FOUND)),
        ),
        OpenApiExample(
            "UnknownType",
            summary="/api/events/?type=payout.paid",
            value=_invalid(
                (
                    "type",
                    ErrorCode.INVALID_CHOICE,
                    "Select a valid choice. payout.paid is not one of the available choices.",
                )
            ),
        ),
    ],
)
NOT_FOUND = _response(
    "No payout has this id.", ("Not found", _one(ErrorCode.NOT_FOUND, errors.MSG_NOT_FOUND))
)
EVENT_NOT_FOUND = _response(
    "No event of yours has this id.",
    ("Not found", _one(ErrorCode.NOT_FOUND, MSG_EVENT_NOT_FOUND)),
)
PAGE_NOT_FOUND = _response(
    "The page number is past the last page.",
    ("Past the last page", _one(ErrorCode.NOT_FOUND, MSG_INVALID_PAGE)),
)
NOT_EDITABLE = _response(
    "The payout has left PENDING and can no longer be changed.",
    ("Not pending", _one(ErrorCode.NOT_EDITABLE, errors.MSG_NOT_EDITABLE)),
)
NOT_DELETABLE = _response(
    "The payout has left PENDING and can no longer be deleted.",
    ("Not pending", _one(ErrorCode.NOT_DELETABLE, errors.MSG_NOT_DELETABLE)),
)
TOO_LARGE = _response(
    "The body is larger than the server accepts (256 KiB).",
    ("Too large", _one(ErrorCode.PAYLOAD_TOO_LARGE, MSG_TOO_LARGE)),
)
UNSUPPORTED_MEDIA_TYPE = _response(
    "The body is not application/json.",
    (
        "Form data",
        _one(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            'Unsupported media type "application/x-www-form-urlencoded" in request.',
        ),
    ),
)
SERVER_ERROR = _response(
    "The server failed; the error is logged, never shown.",
    ("Server error", _one(ErrorCode.SERVER_ERROR, MSG_SERVER_ERROR)),
)
UNAVAILABLE = _response(
    "The database cannot be reached; retry later.",
    ("Database down", _one(ErrorCode.SERVICE_UNAVAILABLE, MSG_UNAVAILABLE)),
)
METHOD_NOT_ALLOWED = _response(
    "The path has no such method.",
    ("PUT", _one(ErrorCode.METHOD_NOT_ALLOWED, 'Method "PUT" not allowed.')),
)
NOT_ACCEPTABLE = _response(
    "No answer fits the Accept header: the API answers application/json.",
    (
        "XML",
        _one(ErrorCode.NOT_ACCEPTABLE, "Could not satisfy the request Accept header."),
    ),
)
NOT_AUTHENTICATED = _response(
    "No valid API key: missing, malformed, unknown, revoked or expired. The response carries "
    "`WWW-Authenticate: Bearer`.",
    ("No key", _one(ErrorCode.NOT_AUTHENTICATED, MSG_NO_CREDENTIALS)),
    ("Revoked key", _one(ErrorCode.API_KEY_REVOKED, MSG_REVOKED.format(prefix="Ab12Cd34"))),
)
RATE_LIMITED = _response(
    "The client is over PAYOUT_RATE_LIMIT; `Retry-After` says how many seconds to wait.",
    (
        "Over the limit",
        _one(
            ErrorCode.RATE_LIMITED,
            MSG_RATE_LIMITED.format(requests=100, unit="second", wait=1),
        ),
    ),
)
_HOLDER = "fb03bfe4-cccd-49fa-ba07-758be9468cb2"
_IN_USE = errors.MSG_REFERENCE_IN_USE.format(reference="INV-2025-0042", payout_id=_HOLDER)
CREATE_CONFLICT = OpenApiResponse(
    response=ConflictErrorSerializer,
    description=(
        "Nothing was created. `reference_in_use`: one of your payouts already holds this "
        "reference, and `existing_payout_id` names it, so a create retried with the same "
        "reference finds the payout its first attempt made (a deleted payout frees its "
        "reference); under an Idempotency-Key this answer is kept and replayed like any other. "
        "`idempotency_key_in_use`: the first request with this Idempotency-Key is still "
        "running; retry after `Retry-After` seconds to get its response."
    ),
    examples=[
        OpenApiExample(
            "Reference in use",
            value={
                **error_body(
                    ErrorCode.REFERENCE_IN_USE.value,
                    _IN_USE,
                    [
                        {
                            "field": "reference",
                            "code": ErrorCode.REFERENCE_IN_USE.value,
                            "message": _IN_USE,
                        }
                    ],
                ),
                "existing_payout_id": _HOLDER,
            },
        ),
        OpenApiExample("Key in use", value=_one(ErrorCode.IDEMPOTENCY_KEY_IN_USE, MSG_KEY_IN_USE)),
    ],
)
CLIENT_REQUIRED = _response(
    "A staff session cannot create payouts: every payout belongs to the client whose key "
    "created it.",
    ("Staff session", _one(ErrorCode.CLIENT_REQUIRED, errors.MSG_CLIENT_REQUIRED)),
)
# What any operation may answer, whatever it does.
ALWAYS = {
    401: NOT_AUTHENTICATED,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    429: RATE_LIMITED,
    500: SERVER_ERROR,
    503: UNAVAILABLE,
}
# And any operation with a body.
WITH_BODY = {**ALWAYS, 413: TOO_LARGE, 415: UNSUPPORTED_MEDIA_TYPE}
