"""The GraphQL schema: queries, mutations, the query optimizer and the abuse guards."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import strawberry
from django.conf import settings
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_api.errors import ValidationErrorsAsBadUserInput
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.types import UTC_DATETIME

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    scalar_overrides={datetime: UTC_DATETIME},
    extensions=[
        DjangoOptimizerExtension,
        ValidationErrorsAsBadUserInput,
        partial(QueryDepthLimiter, max_depth=settings.GRAPHQL_MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=settings.GRAPHQL_MAX_TOKENS),
        # Clients send the same few documents again and again: parse and validate each once.
        # The caches are bounded LRUs keyed by the document text, so abuse cannot grow them.
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
    ],
)
