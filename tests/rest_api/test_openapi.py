"""The OpenAPI document: served, complete, and in step with the committed openapi.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from payouts.models import Currency, PayoutStatus

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(COMMITTED.read_text())


def test_committed_openapi_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), (
        "run `make schema` and commit openapi.yaml"
    )


def test_schema_endpoint_serves_openapi_3(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_are_served(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"/api/schema/" in response.content


def test_list_documents_every_filter(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/payouts/"]["get"]["parameters"]}

    assert parameters == {
        "status",
        "currency",
        "min_amount",
        "max_amount",
        "created_after",
        "created_before",
        "ordering",
        "page",
        "page_size",
    }


def test_enums_list_every_status_and_currency(schema):
    components = schema["components"]["schemas"]

    assert components["PayoutStatusEnum"]["enum"] == PayoutStatus.values
    assert components["CurrencyEnum"]["enum"] == Currency.values


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/payouts/", "get", {"200", "400", "404", "500", "503"}),
        ("/api/payouts/", "post", {"201", "400", "413", "415", "500", "503"}),
        ("/api/payouts/{id}/", "get", {"200", "404", "500", "503"}),
        ("/api/payouts/{id}/", "patch", {"200", "400", "403", "404", "413", "415", "500", "503"}),
        ("/api/payouts/{id}/", "delete", {"204", "403", "404", "500", "503"}),
    ],
)
def test_error_responses_are_documented(schema, path, method, codes):
    responses = schema["paths"][path][method]["responses"]

    assert set(responses) == codes
    for code in codes - {"200", "201", "204"}:
        envelope = responses[code]["content"]["application/json"]["schema"]
        assert envelope == {"$ref": "#/components/schemas/Error"}


def test_put_is_not_documented(schema):
    assert "put" not in schema["paths"]["/api/payouts/{id}/"]
