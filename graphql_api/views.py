"""The /graphql/ endpoint: POST for clients, GraphiQL for browsers when the setting allows it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from graphql_api.schema import schema


# Clients POST JSON without a CSRF token; like the REST API, there is no session auth to protect.
@method_decorator(csrf_exempt, name="dispatch")
class PayoutGraphQLView(GraphQLView):
    schema = schema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        # Django builds a view per request, so the setting is read per request too.
        self.graphql_ide = "graphiql" if settings.GRAPHQL_GRAPHIQL else None
