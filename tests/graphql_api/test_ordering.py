"""Ordering of the payouts connection: newest first by default, createdAt and amount both ways."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from payouts.models import Payout
from tests.graphql_api.conftest import GraphQL

QUERY = """
query($ordering: [PayoutOrder!]!, $first: Int, $after: String) {
  payouts(ordering: $ordering, first: $first, after: $after) {
    edges { node { payoutId } }
    pageInfo { endCursor }
  }
}
"""
ORIGIN = datetime.fromisoformat("2025-03-10T12:00:00+00:00")


@pytest.fixture
def payouts(make_payout):
    """b is oldest and largest, a middle, c newest; a and c share an amount."""
    made = {
        "a": make_payout(amount="200.00"),
        "b": make_payout(amount="900.00"),
        "c": make_payout(amount="200.00"),
    }
    for name, hours in (("b", 0), ("a", 1), ("c", 2)):
        Payout.objects.filter(pk=made[name].pk).update(created_at=ORIGIN + timedelta(hours=hours))
    return made


def _order(
    graphql: GraphQL, payouts: dict[str, Payout], ordering: list[dict[str, str]], **paging: Any
) -> list[str]:
    body = graphql(QUERY, {"ordering": ordering, **paging})
    assert "errors" not in body, body
    by_id = {str(payout.id): name for name, payout in payouts.items()}
    return [by_id[edge["node"]["payoutId"]] for edge in body["data"]["payouts"]["edges"]]


def test_default_order_is_newest_first(graphql, payouts):
    assert _order(graphql, payouts, []) == ["c", "a", "b"]


def test_order_by_created_at_ascending(graphql, payouts):
    assert _order(graphql, payouts, [{"createdAt": "ASC"}]) == ["b", "a", "c"]


def test_order_by_created_at_descending(graphql, payouts):
    assert _order(graphql, payouts, [{"createdAt": "DESC"}]) == ["c", "a", "b"]


def test_order_by_amount_ascending_breaks_ties_newest_first(graphql, payouts):
    assert _order(graphql, payouts, [{"amount": "ASC"}]) == ["c", "a", "b"]


def test_order_by_amount_descending_breaks_ties_newest_first(graphql, payouts):
    assert _order(graphql, payouts, [{"amount": "DESC"}]) == ["b", "c", "a"]


def test_order_by_amount_then_created_at_ascending(graphql, payouts):
    ordering = [{"amount": "ASC"}, {"createdAt": "ASC"}]

    assert _order(graphql, payouts, ordering) == ["a", "c", "b"]


def test_equal_timestamps_page_by_id_without_repeats(graphql, make_payout):
    made = [make_payout() for _ in range(4)]
    Payout.objects.update(created_at=ORIGIN)
    ids = [str(payout.id) for payout in made]

    first = graphql(QUERY, {"ordering": [], "first": 2})["data"]["payouts"]
    after = first["pageInfo"]["endCursor"]
    second = graphql(QUERY, {"ordering": [], "first": 2, "after": after})["data"]["payouts"]
    seen = [edge["node"]["payoutId"] for page in (first, second) for edge in page["edges"]]

    assert seen == sorted(ids, reverse=True)
