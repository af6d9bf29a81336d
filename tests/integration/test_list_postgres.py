"""Listing on PostgreSQL: the planner estimate past the exact limit, and index use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from payouts.callers import Caller
from payouts.models import Payout, PayoutStatus
from payouts.selectors import payout_count, payout_list
from rest_api.filters import PayoutFilter
from tests.conftest import payout_payload

URL = "/api/payouts/"
FILTERED = {"status": "COMPLETED", "currency": "EUR", "min_amount": "1", "max_amount": "500"}


@pytest.fixture
def analysed_payouts(make_payout, stranger):
    """48 payouts spread over every status and currency, ten times as many of another
    client's, and fresh planner statistics. With the client's payouts a small part of the
    table, as in production, the planner must pick the client's index; alone in it, the staff
    index filtering nothing out ties with it (and won once earlier tests had bloated both)."""
    currencies = ["USD", "EUR", "GBP", "RUB"]
    for index in range(48):
        make_payout(
            status=PayoutStatus.values[index % 4],
            currency=currencies[(index // 4) % 4],
            amount=f"{index + 1}.00",
        )
    Payout.objects.bulk_create(
        Payout(client=stranger.client, max_attempts=1, **payout_payload()) for _ in range(480)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE payouts_payout")


def plan_for(queryset: QuerySet) -> str:
    """The plan PostgreSQL would use if the table were large enough to prefer an index."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A 12-row table is cheapest to scan whole; ask whether an index can serve the page
        # in order, as it must at a million rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_past_the_exact_limit_the_count_is_the_planner_estimate(owner, analysed_payouts, settings):
    settings.PAYOUT_LIST_EXACT_COUNT_LIMIT = 5

    count = payout_count(payout_list(owner.caller))

    # At least the limit + 1 it counted; PostgreSQL's statistics put the rest close to 48.
    assert 6 <= count <= 200


def test_filtered_list_is_answered_from_an_index_in_order(owner, api_client, analysed_payouts):
    window = (timezone.now() - timedelta(days=1)).isoformat()
    params = {**FILTERED, "created_after": window, "page_size": 20}

    plan = plan_for(PayoutFilter(params, queryset=payout_list(owner.caller)).qs[:20])

    assert "Index Scan using payout_status_currency_idx" in plan
    assert "Sort" not in plan
    assert api_client.get(URL, params).status_code == 200


def test_a_clients_default_list_is_an_index_scan_in_order(owner, analysed_payouts):
    plan = plan_for(payout_list(owner.caller)[:20])

    assert "Index Scan using payout_client_created_idx" in plan
    assert "Sort" not in plan


def test_the_staff_list_of_every_client_is_an_index_scan_in_order(analysed_payouts):
    plan = plan_for(payout_list(Caller.for_staff("operator"))[:20])

    assert "Index Scan using payout_created_idx" in plan
    assert "Sort" not in plan
