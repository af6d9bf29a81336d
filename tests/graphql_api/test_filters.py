"""Every filter of the payouts connection, alone and combined with AND/OR/NOT."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from payouts.models import Payout
from tests.graphql_api.conftest import GraphQL

QUERY = """
query($filters: PayoutFilter) {
  payouts(filters: $filters) { totalCount edges { node { payoutId } } }
}
"""


@pytest.fixture
def payouts(make_payout):
    """Four payouts that differ in status, currency, amount and creation day."""
    made = {
        "pending_eur_100": make_payout(amount="100.00", currency="EUR"),
        "processing_usd_250": make_payout("PROCESSING", amount="250.00", currency="USD"),
        "completed_gbp_500": make_payout("COMPLETED", amount="500.00", currency="GBP"),
        "failed_eur_1000": make_payout("FAILED", amount="1000.00", currency="EUR"),
    }
    for days_ago, payout in enumerate(reversed(made.values())):
        Payout.objects.filter(pk=payout.pk).update(
            created_at=datetime.fromisoformat("2025-03-10T12:00:00+00:00")
            - timedelta(days=days_ago)
        )
    return made


def _names(graphql: GraphQL, payouts: dict[str, Payout], filters: dict[str, Any]) -> set[str]:
    body = graphql(QUERY, {"filters": filters})
    assert "errors" not in body, body
    by_id = {str(payout.id): name for name, payout in payouts.items()}
    connection = body["data"]["payouts"]
    names = {by_id[edge["node"]["payoutId"]] for edge in connection["edges"]}
    assert connection["totalCount"] == len(names)
    return names


def test_filter_by_one_status(graphql, payouts):
    assert _names(graphql, payouts, {"status": {"exact": "PROCESSING"}}) == {"processing_usd_250"}


def test_filter_by_a_list_of_statuses(graphql, payouts):
    names = _names(graphql, payouts, {"status": {"inList": ["PENDING", "FAILED"]}})

    assert names == {"pending_eur_100", "failed_eur_1000"}


def test_filter_by_one_currency(graphql, payouts):
    assert _names(graphql, payouts, {"currency": {"exact": "GBP"}}) == {"completed_gbp_500"}


def test_filter_by_a_list_of_currencies(graphql, payouts):
    names = _names(graphql, payouts, {"currency": {"inList": ["USD", "GBP"]}})

    assert names == {"processing_usd_250", "completed_gbp_500"}


def test_filter_by_amount_bounds_includes_both_ends(graphql, payouts):
    names = _names(graphql, payouts, {"amount": {"gte": "250.00", "lte": "500.00"}})

    assert names == {"processing_usd_250", "completed_gbp_500"}


def test_filter_by_amount_range(graphql, payouts):
    names = _names(graphql, payouts, {"amount": {"range": {"start": "100", "end": "250"}}})

    assert names == {"pending_eur_100", "processing_usd_250"}


def test_filter_by_created_at_range(graphql, payouts):
    names = _names(
        graphql,
        payouts,
        {
            "createdAt": {
                "gte": "2025-03-08T00:00:00+00:00",
                "lt": "2025-03-10T00:00:00+00:00",
            }
        },
    )

    assert names == {"processing_usd_250", "completed_gbp_500"}


def test_filters_combine_with_and(graphql, payouts):
    names = _names(
        graphql,
        payouts,
        {"currency": {"exact": "EUR"}, "AND": {"amount": {"gt": "100.00"}}},
    )

    assert names == {"failed_eur_1000"}


def test_filters_combine_with_or(graphql, payouts):
    names = _names(
        graphql,
        payouts,
        {"status": {"exact": "PENDING"}, "OR": {"currency": {"exact": "GBP"}}},
    )

    assert names == {"pending_eur_100", "completed_gbp_500"}


def test_filters_combine_with_not(graphql, payouts):
    names = _names(graphql, payouts, {"NOT": {"currency": {"exact": "EUR"}}})

    assert names == {"processing_usd_250", "completed_gbp_500"}


def test_filter_by_unknown_status_is_a_graphql_error(graphql, payouts):
    body = graphql(QUERY, {"filters": {"status": {"exact": "LOST"}}})

    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "Value 'LOST' does not exist in 'PayoutStatus' enum." in body["errors"][0]["message"]
