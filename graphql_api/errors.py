"""The one place that turns errors into GraphQL answers.

A refused write is data: the mutation answers `PayoutErrors`, each error with the field, a code
from payouts' table (the `PayoutErrorCode` enum, REST's codes upper-cased) and the message.
Anything else is an entry in `errors`: the client's mistakes with `BAD_USER_INPUT`, a failure
of the server masked to a fixed message, never with a library's or the database's text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from graphql import GraphQLError, Node
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import StreamExecutionResult
from strawberry.utils.str_converters import to_camel_case

from graphql_api.context import caller_of
from payouts import selectors
from payouts.errors import (
    MSG_SERVER_ERROR,
    MSG_UNAVAILABLE,
    ErrorCode,
    PayoutError,
    PayoutInvalid,
    ReferenceInUse,
)

if TYPE_CHECKING:
    from graphql_api.types import PayoutType

# The code GraphQL servers (Apollo's convention) give an error caused by the client's arguments,
# so that clients and tools can tell it from a failure of the server.
BAD_USER_INPUT = "BAD_USER_INPUT"
# Strawberry's refusals of an operation (none given, or a kind the transport does not run).
OPERATION_REFUSALS = (CannotGetOperationTypeError, InvalidOperationTypeError)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    PayoutErrorCode = ErrorCode
else:
    PayoutErrorCode = strawberry.enum(
        ErrorCode,
        name="PayoutErrorCode",
        description="Why a request was refused; REST's `code` is the same value in lower case.",
    )


@strawberry.type(name="PayoutError", description="One reason a payout write was refused.")
class PayoutErrorType:
    field: str | None = strawberry.field(
        description="The input field in camelCase, or null when the whole payout is refused."
    )
    code: PayoutErrorCode
    message: str


@strawberry.type(description="A refused write: nothing was changed or queued.")
class PayoutErrors:
    errors: list[PayoutErrorType]
    existing_payout_id: strawberry.Private[uuid.UUID | None] = None

    @strawberry.field(
        description=(
            "Your payout that already holds the reference, when createPayout is refused with "
            "REFERENCE_IN_USE; null for every other refusal."
        )
    )
    def existing_payout(
        self, info: strawberry.Info
    ) -> Annotated[PayoutType, strawberry.lazy("graphql_api.types")] | None:
        if self.existing_payout_id is None:
            return None
        payout = selectors.payout_get_or_none(caller_of(info), self.existing_payout_id)
        return cast("PayoutType | None", payout)


def _field_name(field: str | None) -> str | None:
    return to_camel_case(field) if field else None


def payout_errors(error: PayoutError) -> PayoutErrors:
    if isinstance(error, PayoutInvalid):
        return PayoutErrors(
            errors=[
                PayoutErrorType(
                    field=_field_name(field_error.field),
                    code=field_error.code,
                    message=field_error.message,
                )
                for field_error in error.errors
            ]
        )
    refusal = PayoutErrorType(
        field=_field_name(error.field), code=error.code, message=error.message
    )
    existing = error.payout_id if isinstance(error, ReferenceInUse) else None
    return PayoutErrors(errors=[refusal], existing_payout_id=existing)


def bad_user_input(message: str, node: Node | None = None) -> GraphQLError:
    """An error for input the server refuses (a malformed cursor, a list too long)."""
    return GraphQLError(message, node, extensions={"code": BAD_USER_INPUT})


def is_client_error(error: GraphQLError) -> bool:
    """Whether the request, not the server, is at fault.

    An error with no path is about the document or its variables (syntax, validation, a value
    its type refuses, the abuse limits). In a field, the client's errors are the arguments a
    resolver refused and the domain's or Django's refusals of converting them; anything else
    there (a crash, a null in a non-null field, a database that is down) is the server's.
    """
    original = error.original_error
    if error.path is None:
        # Strawberry hands on an exception a subscription raised past its first result as an
        # error of no path and no place in the document: the server's unless a refusal.
        return (
            original is None
            or bool(error.nodes)
            or isinstance(original, (ValidationError, PayoutError, *OPERATION_REFUSALS))
        )
    if (error.extensions or {}).get("code") == BAD_USER_INPUT:
        return True
    return isinstance(original, ValidationError | PayoutError)


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
    if not isinstance(original, ValidationError | PayoutError):
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


# The codes ErrorsForClients gives a failure of the server.
SERVER_FAILURE_CODES = frozenset({ErrorCode.SERVER_ERROR.name, ErrorCode.SERVICE_UNAVAILABLE.name})


def server_failed(result: object) -> bool:
    """Whether an answer's errors include a failure of the server, as masked below."""
    errors = result.get("errors") if isinstance(result, dict) else None
    return any(
        (error.get("extensions") or {}).get("code") in SERVER_FAILURE_CODES
        for error in errors or ()
        if isinstance(error, dict)
    )


class ErrorsForClients(MaskErrors):
    """What a client reads of errors: a server failure answered with a fixed message and a
    code (the log keeps the original: Strawberry hands errors to process_errors before
    extensions see them), and a refusal raised while a query runs (converting an argument)
    reported as bad user input.

    One extension for both: a subscription keeps each extension's operation hook for its whole
    life and runs each stream hook for every result it sends (make bench: live updates)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_client_error(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        unavailable = isinstance(error.original_error, OperationalError | InterfaceError)
        code = ErrorCode.SERVICE_UNAVAILABLE if unavailable else ErrorCode.SERVER_ERROR
        return GraphQLError(
            MSG_UNAVAILABLE if unavailable else MSG_SERVER_ERROR,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code.name},
        )

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_labelled(error) for error in result.errors]

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result of a subscription, as it is sent."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [_labelled(error) for error in errors]  # type: ignore[union-attr]
        yield from super().on_stream_result(result)
