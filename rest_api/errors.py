"""The one place that turns errors into REST responses: one JSON envelope for every /api/ error.

    {"detail": "<what went wrong>", "code": "<payouts.errors.ErrorCode>",
     "errors": [{"field": "<field or parameter, or null>", "code": "...", "message": "..."}]}

`detail` and `code` summarise; `errors` lists each problem, one per field for invalid input.
A 409 adds the id of the payout the request collides with: `"existing_payout_id": "<uuid>"`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clients import ratelimit
from clients.authentication import MSG_NO_CREDENTIALS
from idempotency.errors import (
    IdempotencyKeyInUse,
    IdempotencyRefused,
)
from payouts.errors import (
    MSG_UNAVAILABLE,
    ClientRequired,
    ErrorCode,
    PayoutError,
    PayoutInvalid,
    PayoutNotDeletable,
    PayoutNotEditable,
    PayoutNotFound,
    ReferenceInUse,
    code_for_status,
)
from rest_api.parsers import PayloadTooLarge
from webhooks.errors import DeliveryAlreadyScheduled

MSG_INVALID_INPUT = "Invalid input."
MSG_NOT_FOUND = "Not found."
MSG_BAD_REQUEST = "Bad request."

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = MSG_UNAVAILABLE
    default_code = ErrorCode.SERVICE_UNAVAILABLE.value


class Refused(exceptions.APIException):
    """A refusal whose status the domain names (409, 422). `field` is the input it is about,
    `extra` the keys the body adds to the envelope (a conflicting payout's id), `wait` becomes
    Retry-After."""

    def __init__(
        self,
        status_code: int,
        error: PayoutError,
        *,
        extra: dict[str, str] | None = None,
        wait: int | None = None,
    ) -> None:
        super().__init__(error.message, error.code.value)
        self.status_code = status_code
        self.error_code = error.code
        self.field = error.field
        self.extra = extra or {}
        self.wait = wait


def error_body(
    code: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    if errors is None:
        errors = [{"field": None, "code": code, "message": detail}]
    return {"detail": detail, "code": code, "errors": errors}


def _table_code(code: str | None, fallback: ErrorCode) -> str:
    return str(code) if code in ErrorCode.__members__.values() else fallback.value


def _field_errors(detail: Any, field: str | None = None) -> Iterator[dict[str, Any]]:
    """Flatten DRF's nested error detail into one entry per message, fields dotted."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("", "non_field_errors", "detail") else str(key)
            yield from _field_errors(value, f"{field}.{name}" if field and name else name or field)
    elif isinstance(detail, list):
        for item in detail:
            yield from _field_errors(item, field)
    else:
        code = _table_code(getattr(detail, "code", None), ErrorCode.INVALID)
        yield {"field": field, "code": code, "message": str(detail)}


def to_api_exception(error: PayoutError) -> exceptions.APIException:
    if isinstance(error, IdempotencyRefused):
        wait = error.retry_after if isinstance(error, IdempotencyKeyInUse) else None
        return Refused(error.http_status, error, wait=wait)
    if isinstance(error, PayoutInvalid):
        by_field: dict[str, list[exceptions.ErrorDetail]] = {}
        for field_error in error.errors:
            by_field.setdefault(field_error.field, []).append(
                exceptions.ErrorDetail(field_error.message, code=field_error.code.value)
            )
        return exceptions.ValidationError(by_field)
    if isinstance(error, PayoutNotFound):
        return exceptions.NotFound(error.message, code=error.code.value)
    if isinstance(error, DeliveryAlreadyScheduled):
        return Refused(status.HTTP_409_CONFLICT, error)
    if isinstance(error, ReferenceInUse):
        extra = {"existing_payout_id": str(error.payout_id)}
        return Refused(status.HTTP_409_CONFLICT, error, extra=extra)
    if isinstance(error, PayoutNotEditable | PayoutNotDeletable | ClientRequired):
        return exceptions.PermissionDenied(error.message, code=error.code.value)
    return exceptions.ValidationError(error.message, code=error.code.value)


def payout_error_response(error: PayoutError) -> Response:
    """The response a refused payout write gets, as the exception handler would give it."""
    response = exception_handler(error, {})
    assert response is not None
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PayoutError):
        exc = to_api_exception(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable", exc_info=exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, Http404):
        # DRF would answer these itself, but with its bare {"detail"} and the exception's text,
        # which Django writes for its debug page (a model's name), not for clients.
        exc = exceptions.NotFound(MSG_NOT_FOUND)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.NotAuthenticated):
        # DRF's text does not say which credentials; keep the exception, it carries the
        # WWW-Authenticate header.
        exc.detail = exceptions.ErrorDetail(MSG_NO_CREDENTIALS, ErrorCode.NOT_AUTHENTICATED.value)
    elif isinstance(exc, exceptions.Throttled) and (wait := getattr(exc, "wait", None)):
        message = ratelimit.refusal_message(int(wait))
        exc.detail = exceptions.ErrorDetail(message, ErrorCode.RATE_LIMITED.value)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_field_errors(exc.detail))
        response.data = error_body(ErrorCode.INVALID.value, MSG_INVALID_INPUT, errors)
    elif isinstance(exc, Refused):
        detail = str(exc.detail)
        errors = [{"field": exc.field, "code": exc.error_code.value, "message": detail}]
        response.data = {**error_body(exc.error_code.value, detail, errors), **exc.extra}
    else:
        fallback = code_for_status(response.status_code)
        code = _table_code(getattr(exc.detail, "code", None), fallback)
        response.data = error_body(code, str(exc.detail))
    return response
