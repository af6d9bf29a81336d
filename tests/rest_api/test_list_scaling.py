"""What keeps listing fast at a million rows: bounded counts, deferred joins, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payouts import selectors
from payouts.selectors import payout_count, payout_list
from tests.conftest import api_error, payout_queries

URL = "/api/payouts/"


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("rows", [3, 30])
def test_a_page_costs_the_same_two_queries_whatever_its_size(api_client, make_payout, rows):
    """Besides the key check's."""
    for _ in range(rows):
        make_payout()

    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"page_size": 100})

    assert len(response.json()["results"]) == rows
    assert len(payout_queries(queries)) == 2


def test_the_count_stops_reading_rows_past_the_exact_limit(owner, make_payout, settings):
    settings.PAYOUT_LIST_EXACT_COUNT_LIMIT = 3
    for _ in range(2):
        make_payout()

    with CaptureQueriesContext(connection) as queries:
        assert payout_count(payout_list(owner.caller)) == 2

    assert "LIMIT 4" in queries[0]["sql"]


def test_past_the_limit_without_planner_statistics_the_count_is_exact(
    owner, make_payout, settings, monkeypatch
):
    settings.PAYOUT_LIST_EXACT_COUNT_LIMIT = 3
    monkeypatch.setattr(selectors, "_planner_estimate", lambda queryset: None)
    for _ in range(5):
        make_payout()

    assert payout_count(payout_list(owner.caller)) == 5


def test_next_links_do_not_depend_on_the_count(api_client, make_payout, settings):
    settings.PAYOUT_LIST_EXACT_COUNT_LIMIT = 1
    for _ in range(5):
        make_payout()

    first = api_client.get(URL, {"page_size": 2}).json()
    third = api_client.get(URL, {"page_size": 2, "page": 3}).json()

    assert first["next"] is not None
    assert len(third["results"]) == 1
    assert third["next"] is None
    assert api_client.get(URL, {"page_size": 2, "page": 4}).status_code == 404


def test_an_absurd_page_number_is_404_not_an_sql_overflow(api_client, make_payout):
    make_payout()

    response = api_client.get(URL, {"page": "99999999999999999999"})

    assert response.status_code == 404
    assert response.json() == api_error("not_found", "Invalid page.")


def test_pages_read_their_ids_first_and_return_the_rows_in_order(owner, api_client, make_payout):
    for _ in range(7):
        make_payout()
    expected = [str(pk) for pk in payout_list(owner.caller).values_list("pk", flat=True)][4:6]

    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"page_size": 2, "page": 3})

    assert ids(response) == expected
    page_sql = payout_queries(queries)[0]
    assert '"payouts_payout"."id" IN (SELECT' in page_sql
    assert "OFFSET 4" in page_sql
