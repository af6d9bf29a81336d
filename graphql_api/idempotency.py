"""Which mutation an Idempotency-Key governs: the root fields of the operation a request runs."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    parse,
)
from strawberry.utils.operation import get_first_operation

from graphql_api.limits import MAX_DOCUMENT_NESTING, document_shape


def mutation_fields(body: object) -> tuple[str, ...] | None:
    """The names of the root fields of the mutation a GraphQL request runs (an aliased field
    counts each time), or None when it runs no mutation or its document cannot be read: the
    request then fails or reads on its own, with nothing to make idempotent."""
    if not isinstance(body, dict) or not isinstance(query := body.get("query"), str):
        return None
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    return _mutation_fields(query, operation_name, settings.GRAPHQL_MAX_TOKENS)


@lru_cache(maxsize=256)
def _mutation_fields(query: str, operation_name: str | None, budget: int) -> tuple[str, ...] | None:
    # The abuse guards read the document before the parser does; a document they refuse
    # is refused again when the request runs.
    tokens, nesting, _ = document_shape(query, budget)
    if tokens > budget or nesting > MAX_DOCUMENT_NESTING:
        return None
    try:
        document = parse(query, max_tokens=budget)
    except GraphQLError:
        return None
    # The operation Strawberry runs: the one named, or else the first of the document.
    if operation_name is None:
        operation = get_first_operation(document)
    else:
        operation = next(
            (
                definition
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode)
                and definition.name is not None
                and definition.name.value == operation_name
            ),
            None,
        )
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    fields: list[str] = []
    spread: set[str] = set()
    pending: list[SelectionNode] = list(operation.selection_set.selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            if not selection.name.value.startswith("__"):
                fields.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in spread:
                spread.add(name)
                pending.extend(fragments[name].selection_set.selections)
    return tuple(fields)
