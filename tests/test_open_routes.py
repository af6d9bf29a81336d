"""The routes that stay open: health probes, metrics and the API docs answer without a key and
whatever Authorization header comes; the OpenAPI document tells clients to send a bearer key."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import UNKNOWN_KEY

OPEN_PATHS = ["/healthz", "/readyz", "/metrics", "/api/schema/", "/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-key", f"Bearer {UNKNOWN_KEY}", "Token whatever"],
    ids=["no header", "malformed key", "unknown key", "Token scheme"],
)
@pytest.mark.parametrize("path", OPEN_PATHS)
def test_open_routes_answer_whatever_the_credentials(db, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = Client().get(path, headers=headers)

    assert response.status_code == 200


@pytest.fixture
def served_schema(db) -> dict:
    response = Client().get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    return response.json()


def bearer_schemes(schema: dict) -> set[str]:
    return {
        name
        for name, scheme in schema["components"]["securitySchemes"].items()
        if scheme["type"] == "http" and scheme["scheme"] == "bearer"
    }


def test_openapi_declares_the_bearer_scheme(served_schema):
    assert len(bearer_schemes(served_schema)) == 1


def test_every_payout_operation_requires_the_bearer_key(served_schema):
    [bearer] = bearer_schemes(served_schema)
    operations = {
        (method.upper(), path): operation
        for path, item in served_schema["paths"].items()
        for method, operation in item.items()
    }

    assert operations, "the document lists no operation"
    for where, operation in operations.items():
        # An empty requirement ({}) would let a request with no credentials through.
        assert {bearer: []} in operation["security"], where
        assert {} not in operation["security"], where
