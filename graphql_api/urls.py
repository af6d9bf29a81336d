"""Route of the GraphQL API."""

from __future__ import annotations

from django.urls import path

from graphql_api.views import PayoutGraphQLView

urlpatterns = [path("", PayoutGraphQLView.as_view(), name="graphql")]
