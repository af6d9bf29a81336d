"""A payout's metadata over GraphQL: an object of strings, returned as sent, replaced whole by
updatePayout."""

from __future__ import annotations

from typing import Any

import pytest

from payouts import errors
from payouts.models import Payout
from tests.graphql_api.conftest import global_id

RESULT = """
__typename
... on Payout { payoutId metadata }
... on PayoutErrors { errors { field code message } }
"""
CREATE = f"mutation($data: PayoutCreateInput!) {{ createPayout(data: $data) {{ {RESULT} }} }}"
UPDATE = f"""
mutation($id: ID!, $data: PayoutUpdateInput!) {{
  updatePayout(id: $id, data: $data) {{ {RESULT} }}
}}
"""
QUERY = "query($id: ID!) { payout(id: $id) { metadata } }"
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
}
METADATA = {"order_id": "A-1042", "team": "payroll"}


def refusal(code: str, message: str) -> dict[str, Any]:
    return {
        "__typename": "PayoutErrors",
        "errors": [{"field": "metadata", "code": code, "message": message}],
    }


def test_create_payout_with_metadata_returns_it_as_sent(graphql):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "metadata": METADATA}})

    created = body["data"]["createPayout"]
    assert created["metadata"] == METADATA
    payout = Payout.objects.get(pk=created["payoutId"])
    assert graphql(QUERY, {"id": global_id(payout)})["data"]["payout"]["metadata"] == METADATA


def test_a_payout_created_without_metadata_has_an_empty_object(graphql):
    body = graphql(CREATE, {"data": NEW_PAYOUT})

    assert body["data"]["createPayout"]["metadata"] == {}


# Each rule of metadata is also held to the same code and message on both APIs in
# tests/test_error_parity.py.
@pytest.mark.parametrize(
    ("metadata", "code", "message"),
    [
        ("A-1042", "NOT_AN_OBJECT", errors.MSG_METADATA_NOT_OBJECT),
        (["A-1042"], "NOT_AN_OBJECT", errors.MSG_METADATA_NOT_OBJECT),
        (None, "NULL", errors.MSG_NULL),
        ({"vip": False}, "INVALID", 'Metadata value of "vip" must be a string, not a boolean.'),
    ],
    ids=repr,
)
def test_create_payout_refuses_unacceptable_metadata_and_writes_nothing(
    graphql, django_capture_on_commit_callbacks, metadata, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(CREATE, {"data": {**NEW_PAYOUT, "metadata": metadata}})

    assert body["data"]["createPayout"] == refusal(code, message)
    assert not Payout.objects.exists()
    assert callbacks == []


def test_metadata_written_in_the_document_is_judged_as_in_variables(graphql):
    document = """
    mutation {
      createPayout(data: {
        amount: "1.00", currency: EUR, recipientDetails: {account_number: "X1"}
        metadata: {order: {id: "A"}, rate: 1.5}
      }) { ... on PayoutErrors { errors { field code message } } }
    }
    """

    body = graphql(document)

    assert body["data"]["createPayout"]["errors"] == [
        {
            "field": "metadata",
            "code": "INVALID",
            "message": 'Metadata value of "order" must be a string, not an object.',
        },
        {
            "field": "metadata",
            "code": "INVALID",
            "message": 'Metadata value of "rate" must be a string, not a number.',
        },
    ]
    assert not Payout.objects.exists()


def test_update_payout_replaces_the_whole_map(graphql, make_payout):
    payout = make_payout(metadata=METADATA)

    body = graphql(UPDATE, {"id": global_id(payout), "data": {"metadata": {"team": "treasury"}}})

    assert body["data"]["updatePayout"]["metadata"] == {"team": "treasury"}
    assert Payout.objects.get(pk=payout.id).metadata == {"team": "treasury"}


def test_update_payout_with_an_empty_object_clears_the_metadata(graphql, make_payout):
    payout = make_payout(metadata=METADATA)

    body = graphql(UPDATE, {"id": global_id(payout), "data": {"metadata": {}}})

    assert body["data"]["updatePayout"]["metadata"] == {}


def test_update_payout_with_unacceptable_metadata_keeps_the_old(graphql, make_payout):
    payout = make_payout(metadata=METADATA)

    body = graphql(UPDATE, {"id": global_id(payout), "data": {"metadata": {"count": 3}}})

    assert body["data"]["updatePayout"] == refusal(
        "INVALID", 'Metadata value of "count" must be a string, not a number.'
    )
    assert Payout.objects.get(pk=payout.id).metadata == METADATA
