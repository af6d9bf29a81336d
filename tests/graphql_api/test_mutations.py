"""createPayout, updatePayout and deletePayout: success, and refusals that write nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from strawberry import relay

from payouts import services
from payouts.errors import MSG_NOT_DELETABLE, MSG_NOT_FOUND
from payouts.models import Payout, PayoutStatus
from tests.graphql_api.conftest import global_id

RESULT = """
__typename
... on Payout { id payoutId amount currency status recipientDetails description }
... on PayoutErrors { errors { field code message } }
"""
CREATE = f"mutation($data: PayoutCreateInput!) {{ createPayout(data: $data) {{ {RESULT} }} }}"
UPDATE = f"""
mutation($id: ID!, $data: PayoutUpdateInput!) {{
  updatePayout(id: $id, data: $data) {{ {RESULT} }}
}}
"""
DELETE = """
mutation($id: ID!) {
  deletePayout(id: $id) {
    __typename
    ... on PayoutDeleted { id payoutId }
    ... on PayoutErrors { errors { field code message } }
  }
}
"""
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
    "description": "Invoice 42",
}


def _refusal(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "__typename": "PayoutErrors",
        "errors": [{"field": field, "code": code, "message": message}],
    }


def test_create_payout_stores_a_pending_payout(graphql, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        body = graphql(CREATE, {"data": NEW_PAYOUT})

    created = body["data"]["createPayout"]
    payout = Payout.objects.get()
    assert created == {
        "__typename": "Payout",
        "id": global_id(payout),
        "payoutId": str(payout.id),
        "amount": "250.00",
        "currency": "EUR",
        "status": "PENDING",
        "recipientDetails": {"account_number": "DE89370400440532013000"},
        "description": "Invoice 42",
    }
    assert (payout.amount, payout.currency, payout.description) == (
        Decimal("250.00"),
        "EUR",
        "Invoice 42",
    )


def test_create_payout_queues_processing_on_commit(graphql, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        graphql(CREATE, {"data": NEW_PAYOUT})
    assert len(callbacks) == 2  # processing enqueued, payout.created announced
    assert Payout.objects.get().status == PayoutStatus.PENDING

    for callback in callbacks:
        callback()

    assert Payout.objects.get().status == PayoutStatus.COMPLETED


def test_create_payout_without_description_stores_an_empty_one(graphql):
    data = {key: value for key, value in NEW_PAYOUT.items() if key != "description"}

    body = graphql(CREATE, {"data": data})

    assert body["data"]["createPayout"]["description"] == ""
    assert Payout.objects.get().description == ""


def test_create_payout_refusal_lists_every_bad_field_and_writes_nothing(
    graphql, django_capture_on_commit_callbacks
):
    data = {**NEW_PAYOUT, "amount": "0", "recipientDetails": {"bank": "DB"}}

    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(CREATE, {"data": data})

    assert body["data"]["createPayout"] == {
        "__typename": "PayoutErrors",
        "errors": [
            {
                "field": "amount",
                "code": "MIN_VALUE",
                "message": "Amount must be greater than 0.",
            },
            {
                "field": "recipientDetails",
                "code": "ACCOUNT_NUMBER_REQUIRED",
                "message": "recipient_details.account_number must be a non-empty string.",
            },
        ],
    }
    assert not Payout.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(
    ("amount", "code", "message"),
    [
        ("-5", "MIN_VALUE", "Amount must be greater than 0."),
        ("1000000.01", "MAX_VALUE", "Amount must be less than or equal to 1000000.00."),
        ("1.001", "MAX_DECIMAL_PLACES", "Amount must have no more than 2 decimal places."),
        ("NaN", "NOT_FINITE", "Amount must be a finite number."),
    ],
)
def test_create_payout_refuses_amounts_the_domain_refuses(graphql, amount, code, message):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "amount": amount}})

    assert body["data"]["createPayout"] == _refusal(code, message, field="amount")
    assert not Payout.objects.exists()


def test_create_payout_refuses_recipient_details_that_are_not_an_object(graphql):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "recipientDetails": ["DE89"]}})

    assert body["data"]["createPayout"] == _refusal(
        "NOT_AN_OBJECT", "recipient_details must be a JSON object.", field="recipientDetails"
    )
    assert not Payout.objects.exists()


def test_update_payout_changes_only_the_fields_sent(graphql, pending_payout):
    body = graphql(UPDATE, {"id": global_id(pending_payout), "data": {"amount": "99.5"}})

    assert body["data"]["updatePayout"]["amount"] == "99.50"
    pending_payout.refresh_from_db()
    assert (pending_payout.amount, pending_payout.currency, pending_payout.description) == (
        Decimal("99.50"),
        "EUR",
        "Contractor payment - March",
    )


def test_update_payout_with_bad_recipient_details_is_refused(graphql, pending_payout):
    body = graphql(
        UPDATE, {"id": global_id(pending_payout), "data": {"recipientDetails": {"x": 1}}}
    )

    assert body["data"]["updatePayout"] == _refusal(
        "ACCOUNT_NUMBER_REQUIRED",
        "recipient_details.account_number must be a non-empty string.",
        field="recipientDetails",
    )
    pending_payout.refresh_from_db()
    assert pending_payout.recipient_details["account_number"] == "DE89370400440532013000"


@pytest.mark.parametrize("status", ["PROCESSING", "COMPLETED", "FAILED"])
def test_update_payout_that_left_pending_is_refused(graphql, make_payout, status):
    payout = make_payout(status, amount="100.00")

    body = graphql(UPDATE, {"id": global_id(payout), "data": {"amount": "5.00"}})

    assert body["data"]["updatePayout"] == _refusal(
        "NOT_EDITABLE", "Only PENDING payouts can be updated."
    )
    payout.refresh_from_db()
    assert payout.amount == Decimal("100.00")


def test_update_payout_that_was_deleted_is_not_found(owner, graphql, pending_payout):
    payout_id = global_id(pending_payout)
    services.payout_delete(owner.caller, pending_payout.id)

    body = graphql(UPDATE, {"id": payout_id, "data": {"amount": "5.00"}})

    assert body["data"]["updatePayout"] == _refusal("NOT_FOUND", MSG_NOT_FOUND)


def test_delete_payout_hides_a_pending_payout_and_keeps_its_history(graphql, pending_payout):
    body = graphql(DELETE, {"id": global_id(pending_payout)})

    assert body["data"]["deletePayout"] == {
        "__typename": "PayoutDeleted",
        "id": global_id(pending_payout),
        "payoutId": str(pending_payout.id),
    }
    assert not Payout.objects.live().exists()
    assert graphql("{ payouts { totalCount } }") == {"data": {"payouts": {"totalCount": 0}}}
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created", "deleted"]


def test_delete_payout_that_left_pending_is_refused(graphql, make_payout):
    payout = make_payout("PROCESSING")

    body = graphql(DELETE, {"id": global_id(payout)})

    assert body["data"]["deletePayout"] == _refusal("NOT_DELETABLE", MSG_NOT_DELETABLE)
    assert Payout.objects.filter(pk=payout.pk).exists()


def test_delete_payout_twice_reports_the_second_as_not_found(graphql, pending_payout):
    graphql(DELETE, {"id": global_id(pending_payout)})

    body = graphql(DELETE, {"id": global_id(pending_payout)})

    assert body["data"]["deletePayout"] == _refusal("NOT_FOUND", MSG_NOT_FOUND)


def test_delete_payout_of_an_unknown_id_is_not_found(graphql, db):
    body = graphql(DELETE, {"id": relay.to_base64("Payout", uuid.uuid4())})

    assert body["data"]["deletePayout"] == _refusal("NOT_FOUND", MSG_NOT_FOUND)
