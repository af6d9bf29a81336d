"""REST and GraphQL refuse the same input with the same code and words, from payouts' table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from payouts import errors
from payouts.errors import ErrorCode
from payouts.models import Payout, PayoutStatus
from tests.conftest import payout_payload
from tests.graphql_api.conftest import global_id

GRAPHQL_CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) { ... on PayoutErrors { errors { field code message } } }
}
"""
GRAPHQL_UPDATE = """
mutation($id: ID!, $data: PayoutUpdateInput!) {
  updatePayout(id: $id, data: $data) { ... on PayoutErrors { errors { field code message } } }
}
"""
GRAPHQL_DELETE = """
mutation($id: ID!) {
  deletePayout(id: $id) { ... on PayoutErrors { errors { field code message } } }
}
"""
# (code, message) pairs, REST's codes upper-cased to compare with GraphQL's enum.
Refusals = list[tuple[str, str]]


def _rest(response: Any) -> Refusals:
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["code"] in ErrorCode.__members__.values()
    return [(error["code"].upper(), error["message"]) for error in body["errors"]]


def rest_create(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    body = {**payout_payload(), **fields}
    return _rest(client.post("/api/payouts/", body, content_type="application/json"))


def rest_update(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    assert payout is not None
    url = f"/api/payouts/{payout.pk}/"
    return _rest(client.patch(url, fields, content_type="application/json"))


def rest_delete(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    assert payout is not None
    return _rest(client.delete(f"/api/payouts/{payout.pk}/"))


def _graphql(client: Client, query: str, variables: dict[str, Any]) -> Refusals:
    response = client.post(
        "/graphql/", {"query": query, "variables": variables}, content_type="application/json"
    )
    assert response.status_code == 200
    [result] = response.json()["data"].values()
    return [(error["code"], error["message"]) for error in result["errors"]]


def _graphql_fields(fields: dict[str, Any]) -> dict[str, Any]:
    names = {"recipient_details": "recipientDetails"}
    return {names.get(name, name): value for name, value in fields.items()}


def graphql_create(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    data = _graphql_fields({**payout_payload(), **fields})
    return _graphql(client, GRAPHQL_CREATE, {"data": data})


def graphql_update(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    assert payout is not None
    variables = {"id": global_id(payout), "data": _graphql_fields(fields)}
    return _graphql(client, GRAPHQL_UPDATE, variables)


def graphql_delete(client: Client, payout: Payout | None, fields: dict[str, Any]) -> Refusals:
    assert payout is not None
    return _graphql(client, GRAPHQL_DELETE, {"id": global_id(payout)})


Surface = Callable[[Client, Payout | None, dict[str, Any]], Refusals]
SURFACES: dict[str, dict[str, Surface]] = {
    "rest": {"create": rest_create, "update": rest_update, "delete": rest_delete},
    "graphql": {"create": graphql_create, "update": graphql_update, "delete": graphql_delete},
}
CASES = [
    ("create", None, {"amount": "0"}, "MIN_VALUE", errors.MSG_AMOUNT_NOT_POSITIVE),
    ("create", None, {"amount": "-5"}, "MIN_VALUE", errors.MSG_AMOUNT_NOT_POSITIVE),
    (
        "create",
        None,
        {"amount": "1000000.01"},
        "MAX_VALUE",
        errors.MSG_AMOUNT_ABOVE_MAXIMUM % {"limit_value": "1000000.00"},
    ),
    (
        "create",
        None,
        {"amount": "1.001"},
        "MAX_DECIMAL_PLACES",
        errors.MSG_AMOUNT_TOO_MANY_DECIMALS,
    ),
    ("create", None, {"amount": "1" * 13}, "MAX_DIGITS", errors.MSG_AMOUNT_TOO_MANY_DIGITS),
    ("create", None, {"amount": "NaN"}, "NOT_FINITE", errors.MSG_AMOUNT_NOT_FINITE),
    ("create", None, {"amount": "1e3"}, "INVALID", errors.MSG_AMOUNT_INVALID),
    ("create", None, {"amount": "10_000"}, "INVALID", errors.MSG_AMOUNT_INVALID),
    ("create", None, {"amount": "\uff11\uff10"}, "INVALID", errors.MSG_AMOUNT_INVALID),
    ("create", None, {"description": None}, "NULL", errors.MSG_NULL),
    ("create", None, {"description": "a\x00b"}, "INVALID_TEXT", errors.MSG_INVALID_TEXT),
    (
        "create",
        None,
        {"recipient_details": {"bank": "DB"}},
        "ACCOUNT_NUMBER_REQUIRED",
        errors.MSG_ACCOUNT_NUMBER_MISSING,
    ),
    (
        "create",
        None,
        {
            "recipient_details": {
                "account_number": "1",
                "a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}},
            }
        },
        "MAX_DEPTH",
        errors.MSG_RECIPIENT_TOO_DEEP % {"limit": 8},
    ),
    (
        "create",
        None,
        {"reference": "R" * 65},
        "MAX_LENGTH",
        "Reference must be at most 64 characters.",
    ),
    ("create", None, {"reference": " "}, "BLANK", errors.MSG_BLANK),
    ("create", None, {"reference": None}, "NULL", errors.MSG_NULL),
    (
        "create",
        None,
        {"reference": "INV\n1"},
        "INVALID_TEXT",
        errors.MSG_REFERENCE_CONTROL_CHARACTER,
    ),
    ("create", None, {"metadata": ["A-1042"]}, "NOT_AN_OBJECT", errors.MSG_METADATA_NOT_OBJECT),
    (
        "create",
        None,
        {"metadata": {f"k{index}": "v" for index in range(21)}},
        "MAX_SIZE",
        errors.MSG_METADATA_TOO_MANY_KEYS % {"limit": 20},
    ),
    ("create", None, {"metadata": {"": "v"}}, "BLANK", errors.MSG_METADATA_KEY_BLANK),
    (
        "create",
        None,
        {"metadata": {"k" * 41: "v"}},
        "MAX_LENGTH",
        errors.MSG_METADATA_KEY_TOO_LONG % {"key": "k" * 40 + "…", "limit": 40},
    ),
    (
        "create",
        None,
        {"metadata": {"note": "v" * 501}},
        "MAX_LENGTH",
        errors.MSG_METADATA_VALUE_TOO_LONG % {"key": "note", "limit": 500},
    ),
    (
        "create",
        None,
        {"metadata": {"order": {"id": "A-1042"}}},
        "INVALID",
        errors.MSG_METADATA_VALUE_NOT_TEXT % {"key": "order", "kind": "an object"},
    ),
    (
        "create",
        None,
        {"metadata": {"count": 3}},
        "INVALID",
        errors.MSG_METADATA_VALUE_NOT_TEXT % {"key": "count", "kind": "a number"},
    ),
    ("update", PayoutStatus.PENDING, {"description": None}, "NULL", errors.MSG_NULL),
    ("update", PayoutStatus.PENDING, {"metadata": None}, "NULL", errors.MSG_NULL),
    (
        "update",
        PayoutStatus.PENDING,
        {"metadata": {"vip": True}},
        "INVALID",
        errors.MSG_METADATA_VALUE_NOT_TEXT % {"key": "vip", "kind": "a boolean"},
    ),
    (
        "update",
        PayoutStatus.PROCESSING,
        {"amount": "5.00"},
        "NOT_EDITABLE",
        errors.MSG_NOT_EDITABLE,
    ),
    ("delete", PayoutStatus.COMPLETED, {}, "NOT_DELETABLE", errors.MSG_NOT_DELETABLE),
]


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize(("action", "status", "fields", "code", "message"), CASES)
def test_both_surfaces_refuse_with_the_domain_code_and_message(
    make_payout, keyed_client, surface, action, status, fields, code, message
):
    payout = make_payout(status, amount="100.00") if status else None

    refusals = SURFACES[surface][action](keyed_client, payout, fields)

    assert refusals == [(code, message)]
    assert Payout.objects.count() == (1 if payout else 0)
    if payout:
        payout.refresh_from_db()
        assert (str(payout.amount), payout.deleted_at) == ("100.00", None)


GRAPHQL_CREATE_HELD = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) {
    ... on PayoutErrors { errors { field code message } existingPayout { payoutId } }
  }
}
"""


def test_both_surfaces_answer_a_reference_in_use_with_the_payout_holding_it(
    make_payout, keyed_client
):
    holder = make_payout(reference="INV-1")
    body = payout_payload(reference="INV-1")

    rest = keyed_client.post("/api/payouts/", body, content_type="application/json")
    graphql = keyed_client.post(
        "/graphql/",
        {"query": GRAPHQL_CREATE_HELD, "variables": {"data": _graphql_fields(body)}},
        content_type="application/json",
    )

    message = errors.MSG_REFERENCE_IN_USE.format(reference="INV-1", payout_id=holder.id)
    refused = graphql.json()["data"]["createPayout"]
    assert rest.status_code == 409
    assert [(e["field"], e["code"].upper(), e["message"]) for e in rest.json()["errors"]] == [
        (e["field"], e["code"], e["message"]) for e in refused["errors"]
    ]
    assert refused["errors"] == [
        {"field": "reference", "code": "REFERENCE_IN_USE", "message": message}
    ]
    assert rest.json()["existing_payout_id"] == refused["existingPayout"]["payoutId"]
    assert refused["existingPayout"]["payoutId"] == str(holder.id)
    assert Payout.objects.count() == 1


def test_graphql_error_codes_are_payouts_table(keyed_client):
    query = '{ __type(name: "PayoutErrorCode") { enumValues { name } } }'

    response = keyed_client.post("/graphql/", {"query": query}, content_type="application/json")

    names = [value["name"] for value in response.json()["data"]["__type"]["enumValues"]]
    assert names == [code.name for code in ErrorCode]


def test_every_code_is_its_rest_value_upper_cased():
    assert all(code.name == code.value.upper() for code in ErrorCode)
