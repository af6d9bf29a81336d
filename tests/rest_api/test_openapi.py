"""The OpenAPI document: served, complete, and in step with the committed openapi.yaml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from payouts.models import Currency, PayoutStatus
from payouts.selectors import PAYOUT_PAGE_MAX
from payouts.validation import AMOUNT_PATTERN, payable_amount_pattern

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(COMMITTED.read_text())


@pytest.fixture
def served(client, db) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def list_parameters(schema: dict) -> dict[str, dict]:
    return {p["name"]: p for p in schema["paths"]["/api/payouts/"]["get"]["parameters"]}


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


# Swagger UI's page loads the script that names the schema from its own URL (?script=).
@pytest.mark.parametrize(
    ("path", "naming_the_schema"),
    [("/api/docs/", "/api/docs/?script="), ("/api/redoc/", "/api/redoc/")],
)
def test_documentation_pages_are_served(client, db, path, naming_the_schema):
    assert client.get(path).status_code == 200
    response = client.get(naming_the_schema)

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
        "reference",
        "ordering",
        "page",
        "page_size",
    }


def test_enums_list_every_status_and_currency(schema):
    components = schema["components"]["schemas"]

    assert components["PayoutStatusEnum"]["enum"] == PayoutStatus.values
    assert components["CurrencyEnum"]["enum"] == Currency.values


# Any operation may answer these: no valid key, a method or Accept it lacks, the client's rate
# limit, a failure, a database down.
ALWAYS = ("401", "405", "406", "429", "500", "503")


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/payouts/", "get", {"200", "400", "404", *ALWAYS}),
        ("/api/payouts/", "post", {"201", "400", "403", "409", "413", "415", "422", *ALWAYS}),
        ("/api/payouts/{id}/", "get", {"200", "404", *ALWAYS}),
        ("/api/payouts/{id}/", "patch", {"200", "400", "403", "404", "413", "415", *ALWAYS}),
        ("/api/payouts/{id}/", "delete", {"204", "403", "404", *ALWAYS}),
    ],
)
def test_error_responses_are_documented(schema, path, method, codes):
    responses = schema["paths"][path][method]["responses"]

    assert set(responses) == codes
    for code in codes - {"200", "201", "204", "409"}:
        envelope = responses[code]["content"]["application/json"]["schema"]
        assert envelope == {"$ref": "#/components/schemas/Error"}


def test_a_creates_409_is_the_envelope_with_the_existing_payout_id_for_a_reference(schema):
    conflict = schema["paths"]["/api/payouts/"]["post"]["responses"]["409"]
    envelope = conflict["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"]["ConflictError"]
    examples = conflict["content"]["application/json"]["examples"]

    assert envelope == {"$ref": "#/components/schemas/ConflictError"}
    assert component["properties"] == {
        **schema["components"]["schemas"]["Error"]["properties"],
        "existing_payout_id": {
            "type": "string",
            "format": "uuid",
            "description": "With `reference_in_use` only: your payout that already holds the "
            "reference.",
        },
    }
    assert "existing_payout_id" not in component["required"]
    assert {example["value"]["code"] for example in examples.values()} == {
        "reference_in_use",
        "idempotency_key_in_use",
    }


def test_put_is_not_documented(schema):
    assert "put" not in schema["paths"]["/api/payouts/{id}/"]


def test_page_parameters_document_the_bounds_the_server_enforces(served):
    parameters = list_parameters(served)

    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": PAYOUT_PAGE_MAX,
    }


def test_every_list_parameter_documents_that_it_may_be_empty(served):
    allowing_empty = {
        name for name, parameter in list_parameters(served).items() if parameter["allowEmptyValue"]
    }

    assert allowing_empty == set(list_parameters(served))


def test_status_currency_and_ordering_are_documented_as_repeated_lists(served):
    repeated = {
        name: parameter["schema"]["items"]["enum"]
        for name, parameter in list_parameters(served).items()
        if parameter["schema"]["type"] == "array"
        and parameter["style"] == "form"
        and parameter["explode"] is True
    }

    assert repeated == {
        "status": sorted(PayoutStatus.values),
        "currency": sorted(Currency.values),
        "ordering": ["-amount", "-created_at", "amount", "created_at"],
    }


@pytest.mark.parametrize("name", ["min_amount", "max_amount"])
def test_amount_bounds_are_strings_with_the_canonical_pattern(served, name):
    schema = list_parameters(served)[name]["schema"]

    assert schema["type"] == "string"
    assert schema["pattern"] == r"^0*[0-9]{1,10}(\.[0-9]{1,2})?$" == AMOUNT_PATTERN


def test_a_payout_amount_is_documented_with_the_whole_rule(served):
    for component in ("PayoutCreateRequest", "PatchedPayoutUpdateRequest"):
        amount = served["components"]["schemas"][component]["properties"]["amount"]

        assert amount["type"] == "string"
        assert amount["pattern"] == payable_amount_pattern(Decimal("1000000.00"))


def test_metadata_is_documented_as_an_object_of_bounded_strings(served):
    for component in ("PayoutCreateRequest", "PatchedPayoutUpdateRequest", "Payout"):
        metadata = served["components"]["schemas"][component]["properties"]["metadata"]

        assert metadata["type"] == "object"
        assert metadata["additionalProperties"] == {"type": "string", "maxLength": 500}
        assert metadata["maxProperties"] == 20


def test_a_reference_is_documented_on_create_and_never_on_update(served):
    schemas = served["components"]["schemas"]
    sent = schemas["PayoutCreateRequest"]["properties"]["reference"]

    assert (sent["type"], sent["minLength"], sent["maxLength"]) == ("string", 1, 64)
    assert "reference" not in schemas["PatchedPayoutUpdateRequest"]["properties"]
    assert schemas["Payout"]["properties"]["reference"]["nullable"] is True


def test_sort_keys_have_names_for_generated_clients(served):
    items = list_parameters(served)["ordering"]["schema"]["items"]

    assert dict(zip(items["enum"], items["x-enum-varnames"], strict=True)) == {
        "-amount": "AMOUNT_DESC",
        "-created_at": "CREATED_AT_DESC",
        "amount": "AMOUNT",
        "created_at": "CREATED_AT",
    }


@pytest.mark.parametrize(
    ("component", "values"),
    [("PayoutStatusEnum", PayoutStatus.values), ("CurrencyEnum", Currency.values)],
)
def test_enum_components_name_each_value(served, component, values):
    assert served["components"]["schemas"][component]["x-enum-varnames"] == values


def test_a_page_always_holds_count_next_previous_and_results(served):
    page = served["components"]["schemas"]["PaginatedPayoutList"]

    assert page["required"] == ["count", "next", "previous", "results"]
    assert page["properties"]["next"]["nullable"] is True
    assert page["properties"]["previous"]["nullable"] is True


def test_list_400_examples_are_what_the_server_answers(served, api_client, db):
    examples = served["paths"]["/api/payouts/"]["get"]["responses"]["400"]["content"][
        "application/json"
    ]["examples"]

    answers = {name: api_client.get(example["summary"]) for name, example in examples.items()}

    assert len(examples) == 4
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(
        examples, 400
    )
    assert {name: answer.json() for name, answer in answers.items()} == {
        name: example["value"] for name, example in examples.items()
    }
