"""Inputs the schemathesis fuzzer found mishandled, each pinned to the answer it now gets."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest
from strawberry import relay

from graphql_api.errors import BAD_USER_INPUT
from payouts.errors import MSG_AMOUNT_NOT_FINITE
from payouts.validation import MSG_TIMESTAMP_OUT_OF_RANGE

PAGE = """query($after: String, $before: String) {
  payouts(after: $after, before: $before) { totalCount }
}"""
MALFORMED_CURSORS = [
    "dispatch",  # base64 of bytes that are not UTF-8
    "invalid",  # not base64 at all
    relay.to_base64("arrayconnection", "-10"),
    relay.to_base64("arrayconnection", "abc"),
    relay.to_base64("arrayconnection", "99999999999999999999999"),  # past 64-bit OFFSET
    relay.to_base64("Payout", "1"),
    relay.to_base64("orderedcursor", "not json"),
    relay.to_base64("orderedcursor", '{"not": "a list"}'),
    relay.to_base64("orderedcursor", "[]"),
    relay.to_base64("orderedcursor", "[" * 1200),  # deeper than the JSON parser recurses
]


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None
    [error] = body["errors"]
    return {"message": error["message"], "code": error.get("extensions", {}).get("code")}


@pytest.mark.parametrize("argument", ["after", "before"])
@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_malformed_cursor_is_bad_user_input(graphql, pending_payout, argument, cursor):
    body = graphql(PAGE, {argument: cursor})

    assert _only_error(body) == {
        "message": f"Argument '{argument}' is not a valid cursor.",
        "code": BAD_USER_INPUT,
    }


@pytest.mark.parametrize(
    "values",
    [
        '["2025-01-01T00:00:00+00:00"]',  # one value where the order has two
        '["not a time", "5c6d7b1e-4a4e-4d8e-9a43-6f1e2f3a4b5c"]',
        "[1, 2]",
        "[null, null]",
        # Before year 1 in UTC:
        '["0001-01-01T00:00:00+01:00", "5c6d7b1e-4a4e-4d8e-9a43-6f1e2f3a4b5c"]',
    ],
)
def test_a_cursor_that_does_not_fit_the_order_is_bad_user_input(graphql, pending_payout, values):
    body = graphql(PAGE, {"after": relay.to_base64("orderedcursor", values)})

    assert _only_error(body) == {
        "message": "The cursor does not belong to a list in this order.",
        "code": BAD_USER_INPUT,
    }


def test_a_cursor_time_with_an_offset_postgresql_refuses_is_taken_in_utc(graphql, make_payout):
    older, newer = make_payout(), make_payout()
    at = newer.created_at.astimezone(timezone(timedelta(hours=23)))  # PostgreSQL stops at 15:59
    values = json.dumps([at.isoformat(), str(newer.id)])

    body = graphql(
        "query($after: String) { payouts(after: $after) { edges { node { payoutId } } } }",
        {"after": relay.to_base64("orderedcursor", values)},
    )

    assert body == {"data": {"payouts": {"edges": [{"node": {"payoutId": str(older.id)}}]}}}


def test_first_and_last_together_are_refused(graphql, pending_payout):
    body = graphql("{ payouts(first: 2, last: 1) { totalCount } }")

    assert _only_error(body) == {
        "message": "Pass either 'first' or 'last', not both.",
        "code": BAD_USER_INPUT,
    }


def test_cursor_the_server_issued_still_pages(graphql, make_payout):
    older, newer = make_payout(), make_payout()
    first_page = graphql("{ payouts(first: 1) { edges { cursor node { payoutId } } } }")
    [edge] = first_page["data"]["payouts"]["edges"]

    body = graphql(
        "query($after: String) { payouts(after: $after) { edges { node { payoutId } } } }",
        {"after": edge["cursor"]},
    )

    assert edge["node"]["payoutId"] == str(newer.id)
    assert body == {"data": {"payouts": {"edges": [{"node": {"payoutId": str(older.id)}}]}}}


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amount_filter_is_bad_user_input(graphql, pending_payout, amount):
    body = graphql(
        "query($amount: Decimal!) { payouts(filters: {amount: {gt: $amount}}) { totalCount } }",
        {"amount": amount},
    )

    assert _only_error(body) == {"message": MSG_AMOUNT_NOT_FINITE, "code": BAD_USER_INPUT}


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("first: 101", "Argument 'first' cannot be higher than 100."),
        ("last: 101", "Argument 'last' cannot be higher than 100."),
        ("first: -1", "Argument 'first' must be a non-negative integer."),
    ],
)
def test_page_size_refusals_are_bad_user_input(graphql, pending_payout, page, message):
    body = graphql(f"{{ payouts({page}) {{ totalCount }} }}")

    assert _only_error(body) == {"message": message, "code": BAD_USER_INPUT}


CREATED_BEFORE = """query($bound: DateTime!) {
  payouts(filters: {createdAt: {lte: $bound}}) { edges { node { payoutId } } }
}"""


def test_created_bound_with_an_offset_postgresql_refuses_is_taken_in_utc(graphql, make_payout):
    payout = make_payout()
    bound = payout.created_at.astimezone(timezone(timedelta(hours=21, minutes=35)))

    body = graphql(CREATED_BEFORE, {"bound": bound.isoformat()})

    assert body == {"data": {"payouts": {"edges": [{"node": {"payoutId": str(payout.id)}}]}}}


def test_created_bound_outside_utc_years_is_refused(graphql, db):
    bound = "0001-01-01T00:00:00+21:00"

    body = graphql(CREATED_BEFORE, {"bound": bound})

    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == [
        "Variable '$bound' has invalid value: Expected value of type 'DateTime', but encountered "
        f"error '{MSG_TIMESTAMP_OUT_OF_RANGE}'; found: '{bound}'."
    ]
