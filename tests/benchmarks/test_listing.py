"""The list cases the benchmark sends are the requests a real client would send."""

from __future__ import annotations

from benchmarks.listing import keyset_cursor

PAGE = '{"query": "{ payouts(first: 2) { edges { cursor node { payoutId } } } }"}'


def test_the_deep_page_cursor_is_the_one_the_server_issues(client, make_payout):
    make_payout()
    second = make_payout()
    make_payout()

    page = client.post("/graphql/", PAGE, content_type="application/json").json()

    edge = page["data"]["payouts"]["edges"][1]
    assert edge["node"]["payoutId"] == str(second.id)
    assert keyset_cursor(second.created_at, str(second.id)) == edge["cursor"]
