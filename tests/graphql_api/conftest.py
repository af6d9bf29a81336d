"""Helpers for GraphQL tests: POST a document to /graphql/ and read the JSON answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from strawberry import relay

from graphql_api.types import PAYOUT_TYPE_NAME
from payouts.models import Payout

GraphQL = Callable[..., dict[str, Any]]


def global_id(payout: Payout) -> str:
    return relay.to_base64(PAYOUT_TYPE_NAME, payout.pk)


@pytest.fixture
def graphql(db: None) -> GraphQL:
    """POST a query as a client would; every answer, refusals included, is HTTP 200 JSON."""
    client = Client(enforce_csrf_checks=True)

    def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = client.post(
            "/graphql/",
            {"query": query, "variables": variables or {}},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    return post
