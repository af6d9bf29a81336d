"""A page of payouts with totalCount costs a constant number of SQL queries: the page and a
bounded count, whatever the page size (no N+1, no COUNT(*) OVER () window over every row)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payouts.models import Payout
from tests.conftest import payout_queries
from tests.graphql_api.conftest import GraphQL

QUERY = """
{
  payouts(first: 100) {
    totalCount
    edges { cursor node { id payoutId amount currency status recipientDetails createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _queries_to_list(graphql: GraphQL, make_payout: Callable[..., Payout], count: int) -> int:
    for _ in range(count):
        make_payout()
    with CaptureQueriesContext(connection) as captured:
        body = graphql(QUERY)
    assert len(body["data"]["payouts"]["edges"]) == count
    assert body["data"]["payouts"]["totalCount"] == count
    return len(payout_queries(captured))


@pytest.mark.parametrize("count", [5, 50])
def test_listing_payouts_with_total_count_takes_two_queries(graphql, make_payout, count):
    assert _queries_to_list(graphql, make_payout, count) == 2
