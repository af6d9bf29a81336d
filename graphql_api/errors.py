"""The one place that turns payouts domain errors into the errors OperationInfo reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError

from payouts.errors import PayoutError, PayoutInvalid


def to_validation_error(error: PayoutError) -> ValidationError:
    """Keep the domain's code, field and message; strawberry-django camelCases the field."""
    if isinstance(error, PayoutInvalid):
        by_field: dict[str, list[ValidationError]] = {}
        for field_error in error.errors:
            by_field.setdefault(field_error.field, []).append(
                ValidationError(field_error.message, code=field_error.code.value)
            )
        return ValidationError(by_field)
    return ValidationError(error.message, code=error.code.value)


@contextmanager
def domain_errors_as_validation_errors() -> Iterator[None]:
    try:
        yield
    except PayoutError as error:
        raise to_validation_error(error) from error
