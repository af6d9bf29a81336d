"""Creates racing for one reference on PostgreSQL: one payout, the others told which it is."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction
from rest_framework.test import APIClient

from payouts import services
from payouts.models import Payout
from tests.conftest import KeyHolder, payout_payload
from tests.integration.conftest import wait_until
from tests.integration.test_concurrency import in_own_connection

URL = "/api/payouts/"


def create_with_reference(owner: KeyHolder, reference: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=owner.authorization)
    return client.post(URL, payout_payload(reference=reference), format="json")


def test_concurrent_creates_with_one_reference_make_one_payout_and_name_it_to_the_rest(
    owner, transactional_db, queue
):
    creators = 10
    start = threading.Barrier(creators)

    @in_own_connection
    def create() -> Any:
        start.wait()
        return create_with_reference(owner, "INV-RACE")

    with ThreadPoolExecutor(max_workers=creators) as pool:
        responses = [f.result(timeout=60) for f in [pool.submit(create) for _ in range(creators)]]

    [payout] = Payout.objects.filter(reference="INV-RACE")
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (creators - 1)
    refused = [response.json() for response in responses if response.status_code == 409]
    assert {body["existing_payout_id"] for body in refused} == {str(payout.id)}
    assert {body["code"] for body in refused} == {"reference_in_use"}
    assert queue.pending_count() == 1


def _waiting_on_another_transaction() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event = 'transactionid'"
        )
        (waiting,) = cursor.fetchone()
    return bool(waiting)


def test_a_create_blocked_by_an_uncommitted_holder_of_its_reference_is_409_once_it_commits(
    owner, transactional_db, queue
):
    """The holder's row is invisible to the check before the insert, so it is the unique
    index that stops the insert: it waits for the holder's commit, fails, and the create
    looks the holder up instead of answering a 500."""
    holding = threading.Event()
    commit = threading.Event()

    @in_own_connection
    def hold() -> Payout:
        with transaction.atomic():
            payout = services.payout_create(owner.caller, payout_payload(reference="INV-HELD"))
            holding.set()
            commit.wait(timeout=30)
        return payout

    @in_own_connection
    def create() -> Any:
        holding.wait(timeout=30)
        return create_with_reference(owner, "INV-HELD")

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(hold)
        racing = pool.submit(create)
        blocked = wait_until(_waiting_on_another_transaction, timeout=20)
        commit.set()
        holder, response = held.result(timeout=60), racing.result(timeout=60)

    assert blocked
    assert response.status_code == 409
    assert response.json()["existing_payout_id"] == str(holder.id)
    assert list(Payout.objects.values_list("id", flat=True)) == [holder.id]
    assert queue.pending_count() == 1
