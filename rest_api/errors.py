"""The one place that turns payouts domain errors into REST responses."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from payouts.errors import (
    PayoutError,
    PayoutInvalid,
    PayoutNotDeletable,
    PayoutNotEditable,
    PayoutNotFound,
)


def to_api_exception(error: PayoutError) -> exceptions.APIException:
    if isinstance(error, PayoutInvalid):
        detail: dict[str, list[exceptions.ErrorDetail]] = {}
        for field_error in error.errors:
            detail.setdefault(field_error.field, []).append(
                exceptions.ErrorDetail(field_error.message, code=field_error.code.value)
            )
        return exceptions.ValidationError(as_serializer_error(exceptions.ValidationError(detail)))
    if isinstance(error, PayoutNotFound):
        return exceptions.NotFound(error.message, code=error.code.value)
    if isinstance(error, PayoutNotEditable | PayoutNotDeletable):
        return exceptions.PermissionDenied(error.message, code=error.code.value)
    return exceptions.ValidationError({"detail": error.message}, code=error.code.value)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PayoutError):
        exc = to_api_exception(exc)
    return drf_exception_handler(exc, context)
