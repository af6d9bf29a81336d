"""The list cases the benchmark sends are the requests a real client would send."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.listing import (
    SEED_COLUMNS,
    keyset_cursor,
    pending_row,
    per_request_sql,
    seed_lines,
)
from clients.authentication import caller_for_authorization
from payouts.models import Payout

PAGE = '{"query": "{ payouts(first: 2) { edges { cursor node { payoutId } } } }"}'


def test_the_deep_page_cursor_is_the_one_the_server_issues(client, make_payout):
    make_payout()
    second = make_payout()
    make_payout()

    page = client.post("/graphql/", PAGE, content_type="application/json").json()

    edge = page["data"]["payouts"]["edges"][1]
    assert edge["node"]["payoutId"] == str(second.id)
    assert keyset_cursor(second.created_at, str(second.id)) == edge["cursor"]


def test_seeded_rows_fill_every_not_null_column_of_a_payout():
    # The database has no column defaults: Django fills them, COPY must name them all.
    columns = {field.column for field in Payout._meta.concrete_fields}
    required = {field.column for field in Payout._meta.concrete_fields if not field.null}

    assert required <= set(SEED_COLUMNS) <= columns


def test_each_seeded_row_has_a_value_for_each_column_and_the_given_client():
    rows = list(seed_lines(3, 42, datetime(2026, 1, 1, tzinfo=UTC), seed=5))

    assert len(rows) == 3
    for row in rows:
        values = dict(zip(SEED_COLUMNS, row.rstrip("\n").split("\t"), strict=True))
        assert values["client_id"] == "42"


def test_the_key_checks_occasional_read_and_write_are_not_a_requests_queries(owner):
    with CaptureQueriesContext(connection) as queries:
        caller_for_authorization(owner.authorization)
    lookup, write = (str(query["sql"]) for query in queries.captured_queries)

    assert per_request_sql([lookup, "SELECT 1", write]) == ["SELECT 1"]


def test_the_processing_benchmarks_pending_rows_have_a_value_for_each_seeded_column():
    row = pending_row("9b1c0d7e-0000-4000-8000-000000000000", 42, datetime(2026, 1, 1, tzinfo=UTC))

    values = dict(zip(SEED_COLUMNS, row, strict=True))

    assert (values["client_id"], values["status"], values["metadata"]) == (42, "PENDING", "{}")
