"""One execution of a live event for all the subscriptions that asked for it in the same words.

A thousand subscribers of payoutEvents with the same document hear each event: graphql-core
would execute the selection set for each of them, a millisecond apiece, so the last subscriber
heard the event a second after the first. The event's payload is one object for every
subscriber of a process (graphql_api.subscriptions), and its result depends only on that
object, the operation and the variables: computed once, it is handed to each.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SharedResults:
    """A payload's results, by operation and variables; the payload owns it."""

    def __init__(self) -> None:
        self.results: dict[tuple[int, str], tuple[object, ExecutionResult]] = {}


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor (a graphql-core Executor), reusing a subscription event's result
    where it can."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, "shared_results", None)
        if not isinstance(shared, SharedResults) or (
            self.operation.operation is not OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        # The operation node itself is kept with its result: an id is only unique while the
        # object lives.
        key = (id(self.operation), repr(sorted(self.variable_values.coerced.items())))
        known = shared.results.get(key)
        if known is not None and known[0] is self.operation:
            return known[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            shared.results[key] = (self.operation, result)
        return result
