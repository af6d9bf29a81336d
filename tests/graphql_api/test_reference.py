"""A payout's reference over GraphQL: set by createPayout, unique among the client's live
payouts (REFERENCE_IN_USE with the payout holding it as existingPayout), filterable."""

from __future__ import annotations

from typing import Any

import pytest

from payouts import errors, services
from payouts.models import Payout, PayoutStatus
from tests.conftest import payout_payload
from tests.graphql_api.conftest import global_id

CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) {
    __typename
    ... on Payout { payoutId reference }
    ... on PayoutErrors { errors { field code message } existingPayout { id payoutId amount } }
  }
}
"""
UPDATE = """
mutation($id: ID!, $data: PayoutUpdateInput!) {
  updatePayout(id: $id, data: $data) { __typename }
}
"""
LIST = """
query($filters: PayoutFilter) {
  payouts(filters: $filters) { totalCount edges { node { payoutId reference } } }
}
"""
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
}


def create(graphql, reference: Any, **kwargs: Any) -> dict[str, Any]:
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "reference": reference}}, **kwargs)
    result: dict[str, Any] = body["data"]["createPayout"]
    return result


def refusal(code: str, message: str, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "__typename": "PayoutErrors",
        "errors": [{"field": "reference", "code": code, "message": message}],
        "existingPayout": existing,
    }


def test_create_payout_with_a_reference_returns_and_stores_it(graphql):
    created = create(graphql, "INV-2025-0042")

    assert created["reference"] == "INV-2025-0042"
    assert Payout.objects.get(pk=created["payoutId"]).reference == "INV-2025-0042"


def test_a_payout_created_without_a_reference_has_none(graphql):
    body = graphql(CREATE, {"data": NEW_PAYOUT})

    assert body["data"]["createPayout"]["reference"] is None


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        ("R" * 65, "MAX_LENGTH", "Reference must be at most 64 characters."),
        ("", "BLANK", errors.MSG_BLANK),
        ("   ", "BLANK", errors.MSG_BLANK),
        (None, "NULL", errors.MSG_NULL),
        ("INV\n1", "INVALID_TEXT", errors.MSG_REFERENCE_CONTROL_CHARACTER),
        ("INV\x001", "INVALID_TEXT", errors.MSG_INVALID_TEXT),
    ],
    ids=repr,
)
def test_create_payout_refuses_an_unacceptable_reference_and_writes_nothing(
    graphql, django_capture_on_commit_callbacks, reference, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        created = create(graphql, reference)

    assert created == refusal(code, message)
    assert not Payout.objects.exists()
    assert callbacks == []


def test_a_reference_that_is_not_a_string_is_refused_by_the_schema(graphql):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "reference": 42}})

    assert body["data"] is None
    assert body["errors"]
    assert not Payout.objects.exists()


@pytest.mark.parametrize("status", PayoutStatus.values)
def test_create_payout_with_a_reference_the_client_holds_answers_the_payout_holding_it(
    graphql, make_payout, django_capture_on_commit_callbacks, status
):
    holder = make_payout(status=status, reference="INV-1", amount="100.00")

    with django_capture_on_commit_callbacks() as callbacks:
        created = create(graphql, "INV-1")

    message = errors.MSG_REFERENCE_IN_USE.format(reference="INV-1", payout_id=holder.id)
    existing = {"id": global_id(holder), "payoutId": str(holder.id), "amount": "100.00"}
    assert created == refusal("REFERENCE_IN_USE", message, existing)
    assert Payout.objects.count() == 1
    assert callbacks == []


def test_another_client_may_use_the_same_reference(graphql, stranger, db):
    create(graphql, "INV-1")

    created = create(graphql, "INV-1", as_=stranger)

    assert created["__typename"] == "Payout"
    assert Payout.objects.filter(reference="INV-1").count() == 2


def test_a_deleted_payouts_reference_can_be_used_again(graphql, owner, make_payout):
    deleted = make_payout(reference="INV-1")
    services.payout_delete(owner.caller, deleted.id)

    created = create(graphql, "INV-1")

    assert created["__typename"] == "Payout"
    assert created["payoutId"] != str(deleted.id)


def test_existing_payout_is_null_for_every_other_refusal(graphql, make_payout):
    make_payout(reference="INV-1")

    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "amount": "0", "reference": "INV-2"}})

    assert body["data"]["createPayout"]["existingPayout"] is None


def test_update_payout_takes_no_reference(graphql, make_payout):
    payout = make_payout(reference="INV-1")

    body = graphql(UPDATE, {"id": global_id(payout), "data": {"reference": "INV-2"}})

    assert body["data"] is None
    assert "reference" in body["errors"][0]["message"]
    assert Payout.objects.get(pk=payout.id).reference == "INV-1"


def test_payouts_filter_by_reference_exactly(graphql, make_payout):
    wanted = make_payout(reference="INV-1")
    for other in ("INV-10", "inv-1", None):
        make_payout(**({"reference": other} if other else {}))

    body = graphql(LIST, {"filters": {"reference": "INV-1"}})

    assert body["data"]["payouts"] == {
        "totalCount": 1,
        "edges": [{"node": {"payoutId": str(wanted.id), "reference": "INV-1"}}],
    }


def test_the_reference_filter_never_shows_another_clients_payout(graphql, stranger, db):
    services.payout_create(stranger.caller, payout_payload(reference="INV-1"))

    body = graphql(LIST, {"filters": {"reference": "INV-1"}})

    assert body["data"]["payouts"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("R" * 65, "Reference must be at most 64 characters."),
        ("INV\x001", errors.MSG_INVALID_TEXT),
    ],
    ids=["too-long", "nul"],
)
def test_a_reference_filter_no_reference_could_match_is_bad_user_input(
    graphql, db, reference, message
):
    body = graphql(LIST, {"filters": {"reference": reference}})

    assert body["data"] is None
    [error] = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == (message, "BAD_USER_INPUT")
