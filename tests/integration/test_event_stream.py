"""The event stream on PostgreSQL: transactions commit out of the order their events were
numbered in, and a reader reading on from the last event it saw still misses none."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction
from rest_framework.test import APIClient

from payouts import services
from tests.conftest import KeyHolder, payout_payload
from tests.integration.test_concurrency import in_own_connection


def event_ids(client: APIClient, query: str = "") -> list[str]:
    response = client.get(f"/api/events/{query}")
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["results"]]


def test_a_reader_never_skips_an_event_whose_transaction_commits_late(
    owner: KeyHolder, transactional_db: None, queue: Any
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=owner.authorization)
    slow = services.payout_create(owner.caller, payout_payload(description="slow"))
    fast = services.payout_create(owner.caller, payout_payload(description="fast"))
    seen = event_ids(client)
    edited, release = threading.Event(), threading.Event()

    @in_own_connection
    def edit_and_commit_late() -> None:
        with transaction.atomic():
            services.payout_update(owner.caller, slow.id, {"description": "slow, edited"})
            edited.set()
            assert release.wait(timeout=30)

    with ThreadPoolExecutor(max_workers=1) as pool:
        late = pool.submit(edit_and_commit_late)
        assert edited.wait(timeout=30)
        # Numbered after the slow edit's event, committed before it.
        services.payout_update(owner.caller, fast.id, {"description": "fast, edited"})
        while_open = event_ids(client, f"?after={seen[-1]}")
        release.set()
        late.result(timeout=30)

    assert while_open == []
    read_on = event_ids(client, f"?after={seen[-1]}")
    assert len(read_on) == 2
    assert event_ids(client, f"?after={read_on[0]}") == read_on[1:]


def test_a_reader_never_skips_an_event_numbered_before_the_one_it_read_on_from(
    owner: KeyHolder, transactional_db: None, queue: Any
) -> None:
    """The transaction that began writing first numbers its event last: reading on by
    number alone would pass over the other's event once it commits."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=owner.authorization)
    early = services.payout_create(owner.caller, payout_payload(description="early"))
    late = services.payout_create(owner.caller, payout_payload(description="late"))
    seen = event_ids(client)
    edited, release = threading.Event(), threading.Event()

    @in_own_connection
    def edit_and_hold() -> None:
        with transaction.atomic():
            services.payout_update(owner.caller, late.id, {"description": "late, edited"})
            edited.set()
            assert release.wait(timeout=30)

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()")  # this transaction's id comes first
            held = pool.submit(edit_and_hold)
            assert edited.wait(timeout=30)
            # Numbered after the held edit's event, in the older transaction, which commits first.
            services.payout_update(owner.caller, early.id, {"description": "early, edited"})
        first_read = event_ids(client, f"?after={seen[-1]}")
        release.set()
        held.result(timeout=30)
        read_on = event_ids(client, f"?after={first_read[-1]}")
    finally:
        release.set()
        pool.shutdown()

    assert [event_payout(client, event_id) for event_id in first_read] == [str(early.id)]
    assert [event_payout(client, event_id) for event_id in read_on] == [str(late.id)]


def event_payout(client: APIClient, event_id: str) -> str:
    payout_id: str = client.get(f"/api/events/{event_id}/").json()["data"]["id"]
    return payout_id
