"""The one place that turns payouts domain errors and bad query input into GraphQL errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from payouts.errors import PayoutError, PayoutInvalid

# The code GraphQL servers (Apollo's convention) give an error caused by the client's arguments,
# so that clients and tools can tell it from a failure of the server.
BAD_USER_INPUT = "BAD_USER_INPUT"

logger = logging.getLogger(__name__)


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


def bad_user_input(message: str) -> GraphQLError:
    """An error a resolver raises for an argument it refuses (a malformed cursor, say)."""
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


def is_client_error(error: GraphQLError) -> bool:
    """Whether the request, not the server, is at fault.

    An error with no path is about the document (syntax, validation, the abuse limits). In a
    field, the client's errors are the arguments a resolver refused and the Django
    ValidationErrors of converting them; anything else there (a crash, a null in a non-null
    field) is the server's.
    """
    if error.path is None:
        return True
    if (error.extensions or {}).get("code") == BAD_USER_INPUT:
        return True
    return isinstance(error.original_error, ValidationError)


def log_client_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Log the client's errors in a line each, as Django does a 400; return the server's."""
    server_errors = []
    for error in errors:
        if is_client_error(error):
            logger.info("GraphQL request refused: %s", _message(error))
        else:
            server_errors.append(error)
    return server_errors


def _message(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, ValidationError):
        # `messages` fills in the parameters that str(error) would leave as "%(value)s".
        return " ".join(original.messages)
    return error.message


def _labelled(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if not isinstance(original, ValidationError):
        return error
    return GraphQLError(
        _message(error),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={**(error.extensions or {}), "code": BAD_USER_INPUT},
    )


class ValidationErrorsAsBadUserInput(SchemaExtension):
    """Report a Django ValidationError raised while a query runs as the client's bad input.

    Mutations turn theirs into OperationInfo; one that escapes a query comes from converting an
    argument (a filter amount of "NaN", say), so it is the client's error, not the server's.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_labelled(error) for error in result.errors]
