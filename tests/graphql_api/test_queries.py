"""node(id:), payout(id:) and paging through the payouts connection, over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from payouts import services
from tests.conftest import payout_queries
from tests.graphql_api.conftest import GraphQL, global_id

PAYOUT_FIELDS = """
    id payoutId amount currency status recipientDetails description failureCode failureReason
    providerReference createdAt updatedAt
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Payout { payoutId amount } } }"
PAYOUT = f"query($id: ID!) {{ payout(id: $id) {{ {PAYOUT_FIELDS} }} }}"
PAGE = """
query($first: Int, $after: String, $last: Int, $before: String) {
  payouts(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { payoutId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def test_node_resolves_a_payout_by_global_id(graphql, pending_payout):
    body = graphql(NODE, {"id": global_id(pending_payout)})

    assert body == {
        "data": {
            "node": {
                "id": global_id(pending_payout),
                "payoutId": str(pending_payout.id),
                "amount": "100.00",
            }
        }
    }


def test_node_of_a_missing_payout_is_null(graphql, db):
    body = graphql(NODE, {"id": relay.to_base64("Payout", uuid.uuid4())})

    assert body == {"data": {"node": None}}


def test_payout_exposes_the_rest_fields_in_camel_case(graphql, make_payout):
    payout = make_payout(status="FAILED", amount="1234.5")

    body = graphql(PAYOUT, {"id": global_id(payout)})

    assert body["data"]["payout"] == {
        "id": global_id(payout),
        "payoutId": str(payout.id),
        "amount": "1234.50",
        "currency": "EUR",
        "status": "FAILED",
        "recipientDetails": {"account_number": "DE89370400440532013000", "bank_name": "DB"},
        "description": "Contractor payment - March",
        "failureCode": "provider_unavailable",
        "failureReason": "Failed after 1 attempt(s): declined",
        "providerReference": "",
        "createdAt": payout.created_at.isoformat().replace("+00:00", "Z"),
        "updatedAt": payout.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_payout_that_does_not_exist_is_null(graphql, db):
    body = graphql(PAYOUT, {"id": relay.to_base64("Payout", uuid.uuid4())})

    assert body == {"data": {"payout": None}}


def _page(graphql: GraphQL, **arguments: Any) -> dict[str, Any]:
    body = graphql(PAGE, arguments)
    assert "errors" not in body
    page: dict[str, Any] = body["data"]["payouts"]
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["payoutId"] for edge in page["edges"]]


def test_payouts_page_forward_with_first_and_after(graphql, make_payout):
    newest_first = [str(make_payout().id) for _ in range(5)][::-1]

    first = _page(graphql, first=2)
    second = _page(graphql, first=2, after=first["pageInfo"]["endCursor"])
    last = _page(graphql, first=2, after=second["pageInfo"]["endCursor"])

    assert (_ids(first), _ids(second), _ids(last)) == (
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    )
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert last["pageInfo"]["hasNextPage"] is False


def test_payouts_page_backward_with_last_and_before(graphql, make_payout):
    newest_first = [str(make_payout().id) for _ in range(5)][::-1]

    last = _page(graphql, last=2)
    previous = _page(graphql, last=2, before=last["pageInfo"]["startCursor"])
    first = _page(graphql, last=2, before=previous["pageInfo"]["startCursor"])

    assert (_ids(first), _ids(previous), _ids(last)) == (
        newest_first[:1],
        newest_first[1:3],
        newest_first[3:],
    )
    assert last["pageInfo"]["hasPreviousPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False


def test_payouts_without_paging_arguments_lists_every_payout_newest_first(graphql, make_payout):
    newest_first = [str(make_payout().id) for _ in range(3)][::-1]

    page = _page(graphql)

    assert _ids(page) == newest_first
    assert page["totalCount"] == 3


def test_a_payout_created_between_two_pages_never_repeats_a_row(graphql, make_payout):
    newest_first = [str(make_payout().id) for _ in range(4)][::-1]
    first = _page(graphql, first=2)

    make_payout()  # lands at the head of the list, before the page already read
    second = _page(graphql, first=2, after=first["pageInfo"]["endCursor"])

    assert _ids(first) + _ids(second) == newest_first


def test_last_reads_one_bounded_page_without_counting(graphql, make_payout):
    for _ in range(5):
        make_payout()

    with CaptureQueriesContext(connection) as queries:
        body = graphql("{ payouts(last: 2) { edges { node { payoutId } } } }")

    assert len(body["data"]["payouts"]["edges"]) == 2
    [page_query] = payout_queries(queries)
    assert "LIMIT 3" in page_query
    assert "COUNT(" not in page_query.upper()
    assert "OFFSET" not in page_query


def test_a_page_after_a_cursor_is_bounded_by_the_cursors_sort_key(graphql, make_payout):
    for _ in range(3):
        make_payout()
    first = _page(graphql, first=1)

    with CaptureQueriesContext(connection) as queries:
        _page(graphql, first=1, after=first["pageInfo"]["endCursor"])

    # The plain `created_at <= X` bound is what lets PostgreSQL start its index scan at the
    # cursor; the row comparison alone (`a < X OR (a = X AND id < Y)`) cannot.
    assert '"payouts_payout"."created_at" <= ' in payout_queries(queries)[0]


def test_total_count_is_bounded_like_the_rest_count(graphql, make_payout, settings):
    settings.PAYOUT_LIST_EXACT_COUNT_LIMIT = 3
    for _ in range(2):
        make_payout()

    with CaptureQueriesContext(connection) as queries:
        body = graphql("{ payouts(first: 1) { totalCount } }")

    assert body == {"data": {"payouts": {"totalCount": 2}}}
    assert any("LIMIT 4" in query["sql"] for query in queries)


def test_total_count_counts_the_whole_list_on_every_page(graphql, make_payout):
    for _ in range(3):
        make_payout()
    first = _page(graphql, first=1)

    second = _page(graphql, first=1, after=first["pageInfo"]["endCursor"])

    assert second["totalCount"] == 3


def test_deleted_payouts_are_not_listed(owner, graphql, make_payout):
    kept = make_payout()
    services.payout_delete(owner.caller, make_payout().id)

    page = _page(graphql)

    assert (_ids(page), page["totalCount"]) == ([str(kept.id)], 1)
