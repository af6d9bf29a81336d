"""One execution of a live event for all the subscriptions that asked for it in the same words.

A thousand subscribers of payoutEvents with the same document hear each event: graphql-core
would execute the selection set for each of them, a millisecond apiece, so the last subscriber
heard the event a second after the first. The event's payload is one object for every
subscriber of a process (graphql_api.subscriptions), and its result depends only on that
object, the operation and the variables: computed once, it is handed to each (without the
copy of the subscription's executor graphql-core makes for each event).
"""

from __future__ import annotations

from typing import Any, cast

from graphql import ExecutionResult
from graphql.execution import Executor
from graphql.language import OperationDefinitionNode, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SharedResults:
    """A payload's results, by operation and variables; the payload owns it."""

    def __init__(self) -> None:
        # The operation node itself is kept with its result: an id is only unique while the
        # object lives.
        self.results: dict[tuple[int, str], tuple[OperationDefinitionNode, ExecutionResult]] = {}


class _Executed:
    """What graphql-core asks of an event's executor, when the event's result is known: it
    keeps nothing of the subscriber (the executor would keep its connection alive with the
    event)."""

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor (a graphql-core Executor), reusing a subscription event's result
    where it can."""

    _shared_key: tuple[int, str] | None = None

    def shared_key(self) -> tuple[int, str]:
        """The operation and its variables: what a payload's result depends on besides it."""
        if self._shared_key is None:
            variables = repr(sorted(self.variable_values.coerced.items()))
            self._shared_key = (id(self.operation), variables)
        return self._shared_key

    def _shared(self, payload: Any) -> SharedResults | None:
        shared = getattr(payload, "shared_results", None)
        if not isinstance(shared, SharedResults):
            return None
        if self.operation.operation is not OperationType.SUBSCRIPTION:
            return None
        return shared

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        shared = self._shared(payload)
        known = None if shared is None else shared.results.get(self.shared_key())
        if known is not None and known[0] is self.operation:
            # graphql-core calls only execute_operation on an event's executor.
            return cast("Executor[Any]", _Executed(known[1]))
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = self._shared(self.root_value)
        if shared is None:
            return super().execute_operation(serially)
        key = self.shared_key()
        known = shared.results.get(key)
        if known is not None and known[0] is self.operation:
            return known[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            shared.results[key] = (self.operation, result)
        return result
