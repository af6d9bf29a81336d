"""Helpers for GraphQL tests: POST a document to /graphql/ and read the JSON answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from strawberry import relay

from graphql_api.types import PAYOUT_TYPE_NAME
from payouts.models import Payout
from tests.conftest import KeyHolder

if TYPE_CHECKING:
    # What the test client returns: an HttpResponse with .json(), named only in django-stubs.
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

GraphQL = Callable[..., dict[str, Any]]
Send = Callable[..., "TestResponse"]


def global_id(payout: Payout) -> str:
    return relay.to_base64(PAYOUT_TYPE_NAME, payout.pk)


@pytest.fixture
def graphql(owner: KeyHolder) -> GraphQL:
    """POST a query with the owner's key, as a client would; every answer, refusals included,
    is HTTP 200 JSON."""
    client = Client(enforce_csrf_checks=True)

    def post(
        query: str, variables: dict[str, Any] | None = None, *, as_: KeyHolder = owner
    ) -> dict[str, Any]:
        response = client.post(
            "/graphql/",
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            headers=as_.headers,
        )
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    return post


@pytest.fixture
def send(owner: KeyHolder) -> Send:
    """Send a raw request to /graphql/ (any body, method and content type) with the owner's key
    unless `headers` say otherwise, and return the response unchecked: for the requests that
    never reach execution."""
    client = Client(enforce_csrf_checks=True)

    def send(
        body: bytes | str = b"",
        *,
        method: str = "POST",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        headers = {**owner.headers, **(headers or {})}
        return client.generic(method, "/graphql/", body, content_type=content_type, headers=headers)

    return send


def assert_request_error(
    response: TestResponse, status: int, code: str, message: str | None
) -> None:
    """Assert the answer to a request refused before execution: JSON, the status, one error
    with its code. A message of None is worded by Strawberry: only its presence is checked."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    [error] = body["errors"]
    if message is None:
        assert isinstance(error["message"], str)
        assert error["message"]
        message = error["message"]
    assert body == {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.fixture
def client(keyed_client):
    """Here every request is a client's: Django's test client with the owner's key."""
    return keyed_client
