"""The GraphQL schema: queries, mutations, the abuse guards and the SDL clients see."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, cast

import strawberry
from graphql import (
    DirectiveLocation,
    GraphQLDeprecatedDirective,
    GraphQLDirective,
    GraphQLError,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    get_introspection_query,
    is_specified_directive,
    print_directive,
    print_schema,
)
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from graphql_api.context import LiveContext
from graphql_api.errors import ErrorsForClients, log_client_errors
from graphql_api.execution import SharedEventExecutor
from graphql_api.limits import AbuseGuards
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.subscriptions import Subscription
from graphql_api.types import AMOUNT, UTC_DATETIME

# graphql-core 3.3 lets @deprecated mark directive definitions, an experimental graphql-js feature
# the GraphQL spec does not have. Introspection then lists DIRECTIVE_DEFINITION among its
# locations, and graphql-core 3.2 clients (gql 3.5) refuse the whole schema for that one word.
SPEC_DEPRECATED_DIRECTIVE = GraphQLDirective(
    name=GraphQLDeprecatedDirective.name,
    locations=[
        location
        for location in GraphQLDeprecatedDirective.locations
        if location is not DirectiveLocation.DIRECTIVE_DEFINITION
    ],
    args=GraphQLDeprecatedDirective.args,
    description=GraphQLDeprecatedDirective.description,
)


class PayoutSchema(strawberry.Schema):
    def _collect_graphql_directives(
        self, schema_directive_types: Iterable[type]
    ) -> tuple[GraphQLDirective, ...]:
        # Strawberry seeds the schema with graphql-core's built-in directives and offers no
        # option to replace one; this is where it gathers them for the GraphQLSchema it builds.
        return tuple(
            SPEC_DEPRECATED_DIRECTIVE
            if directive.name == SPEC_DEPRECATED_DIRECTIVE.name
            else directive
            for directive in super()._collect_graphql_directives(schema_directive_types)
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with its traceback at ERROR; a refused argument or a
        # malformed query is the client's mistake and gets one line, like a REST 400.
        super().process_errors(log_client_errors(errors), execution_context)

    async def stream(  # Strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        # A WebSocket runs subscriptions only: queries and mutations go over HTTP, where rate
        # limits, Idempotency-Key and CSRF checks apply.
        if isinstance(context_value, LiveContext):
            allowed_operation_types = (OperationType.SUBSCRIPTION,)
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )


schema = PayoutSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # A live event is executed once for all the subscriptions that asked for it alike.
    execution_context_class=SharedEventExecutor,
    scalar_overrides={datetime: UTC_DATETIME, Decimal: AMOUNT},
    # No DjangoOptimizerExtension: a Payout has no relations to join or prefetch, so it had
    # nothing to save and cost 2-3 ms of a 20-payout page (make bench: GraphQL first page at
    # 1.5x REST's time with it, 1.1x without). A page stays two queries, as a test checks;
    # add the optimizer back with the first relation the schema exposes.
    extensions=[
        ErrorsForClients,
        AbuseGuards,
        # Clients send the same few documents again and again: parse and validate each once.
        # The caches are bounded LRUs keyed by the document text, so abuse cannot grow them.
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
    ],
)

# What a current client asks for when it introspects, every optional part included.
CLIENT_INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
)


def print_schema_with_built_in_directives(client_schema: GraphQLSchema) -> str:
    """print_schema, preceded by the built-in directives it leaves out.

    A client loads the built-ins from introspection like any other directive, so they belong in
    the file that says what clients get: a change to them (a new location) shows up as a diff.
    """
    built_ins = (
        print_directive(directive)
        for directive in client_schema.directives
        if is_specified_directive(directive)
    )
    return "\n\n".join((*built_ins, print_schema(client_schema))) + "\n"


# What `make schema` writes and clients can read without introspecting.
GRAPHQL_SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


def schema_sdl() -> str:
    """The SDL a client builds from introspecting this schema: what `make schema` commits."""
    result = schema.execute_sync(CLIENT_INTROSPECTION_QUERY)
    if result.errors or result.data is None:
        raise ValueError(f"Introspection failed: {result.errors}")
    client_schema = build_client_schema(cast(IntrospectionQuery, result.data))
    return print_schema_with_built_in_directives(client_schema)
