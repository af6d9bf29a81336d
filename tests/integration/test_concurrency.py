"""Races on PostgreSQL: edits against the start of processing, duplicate deliveries, periodic
tasks that every consumer runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from rest_framework.test import APIClient

from idempotency import services as idempotency_services
from idempotency.models import IdempotencyKey
from payouts import services, tasks
from payouts.models import Payout, PayoutEvent, PayoutStatus
from tests.conftest import payout_payload
from tests.idempotency.conftest import expire_keys
from tests.scripted_provider import ScriptedProvider

T = TypeVar("T")


@pytest.fixture
def unqueued_payout(owner, transactional_db, monkeypatch) -> Payout:
    """A committed PENDING payout whose task is not queued: the test delivers it itself."""
    monkeypatch.setattr(HUEY, "immediate", True)
    monkeypatch.setattr(tasks, "enqueue_processing", lambda *args, **kwargs: None)
    payout = services.payout_create(owner.caller, payout_payload(amount="1.00"))
    monkeypatch.undo()
    monkeypatch.setattr(HUEY, "immediate", True)
    return payout


def in_own_connection(fn: Callable[..., T]) -> Callable[..., T]:
    """Run fn in a worker thread with its own database connection, closed afterwards."""

    def run(*args: Any) -> T:
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def test_edits_racing_the_start_of_processing_land_before_it_or_get_403(
    owner, unqueued_payout, monkeypatch
):
    payout = unqueued_payout
    provider = ScriptedProvider()
    paid = provider.calls
    monkeypatch.setattr(tasks, "current_provider", lambda: provider)
    editors = 8
    some_edits_landed = threading.Event()

    @in_own_connection
    def edit(editor: int) -> list[tuple[int, str]]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=owner.authorization)
        outcomes: list[tuple[int, str]] = []
        for attempt in range(200):
            amount = f"{editor * 1000 + attempt + 2}.00"
            response = client.patch(f"/api/payouts/{payout.id}/", {"amount": amount}, format="json")
            outcomes.append((response.status_code, amount))
            if response.status_code == 200 and len(outcomes) >= 3:
                some_edits_landed.set()
            if response.status_code != 200:
                break
        return outcomes

    @in_own_connection
    def work() -> None:
        some_edits_landed.wait(timeout=30)
        HUEY.execute(tasks.processing_task(payout.id, attempt=1, max_attempts=payout.max_attempts))

    with ThreadPoolExecutor(max_workers=editors + 1) as pool:
        edits = [pool.submit(edit, editor) for editor in range(editors)]
        pool.submit(work).result(timeout=60)
        per_editor = [future.result(timeout=60) for future in edits]

    final = Payout.objects.get(pk=payout.id)
    statuses = [status for outcomes in per_editor for status, _ in outcomes]
    assert final.status == PayoutStatus.COMPLETED
    assert set(statuses) == {200, 403}
    for outcomes in per_editor:
        assert outcomes[-1][0] == 403
        assert all(status == 200 for status, _ in outcomes[:-1])
    # What was paid is what is stored, and it is one of the accepted edits: none landed late.
    assert len(paid) == 1
    assert paid[0].amount == final.amount
    accepted = {
        Decimal(amount) for outcomes in per_editor for status, amount in outcomes if status == 200
    }
    assert final.amount in accepted


def test_racing_deliveries_of_one_attempt_call_the_provider_once(unqueued_payout, monkeypatch):
    payout = unqueued_payout
    provider = ScriptedProvider()
    paid = provider.calls
    monkeypatch.setattr(tasks, "current_provider", lambda: provider)
    start = threading.Barrier(8)

    @in_own_connection
    def deliver() -> None:
        start.wait()
        HUEY.execute(tasks.processing_task(payout.id, attempt=1, max_attempts=payout.max_attempts))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(deliver) for _ in range(8)]:
            future.result(timeout=60)

    assert len(paid) == 1
    final = Payout.objects.get(pk=payout.id)
    assert (final.status, final.attempts) == (PayoutStatus.COMPLETED, 1)
    assert PayoutEvent.objects.filter(payout=final, to_status=PayoutStatus.PROCESSING).count() == 1


def test_sweeps_running_at_once_take_each_stalled_payout_once(owner, transactional_db, settings):
    settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = 60
    enqueued: list[str] = []
    lock = threading.Lock()

    def record(payout_id, **message) -> None:
        with lock:
            enqueued.append(str(payout_id))

    original = tasks.enqueue_processing
    tasks.enqueue_processing = record
    try:
        ids = {str(services.payout_create(owner.caller, payout_payload()).id) for _ in range(40)}
        Payout.objects.update(updated_at=timezone.now() - timedelta(seconds=120))
        enqueued.clear()
        start = threading.Barrier(4)

        @in_own_connection
        def sweep() -> services.RecoveryReport:
            start.wait()
            return services.payouts_recover_stalled()

        with ThreadPoolExecutor(max_workers=4) as pool:
            reports = [f.result(timeout=60) for f in [pool.submit(sweep) for _ in range(4)]]
    finally:
        tasks.enqueue_processing = original

    assert sum(report.requeued_pending for report in reports) == 40
    assert sorted(enqueued) == sorted(ids)


def test_purges_running_at_once_delete_each_expired_key_once(
    owner, transactional_db, settings, monkeypatch
):
    # Every consumer enqueues the purge each minute, so on a shared queue they overlap.
    monkeypatch.setattr(idempotency_services, "PURGE_BATCH_SIZE", 10)
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(client=owner.client, key=f"old-{index}", method="POST")
        for index in range(200)
    )
    expire_keys(settings)
    start = threading.Barrier(4)

    @in_own_connection
    def purge() -> int:
        start.wait()
        return idempotency_services.purge_expired()

    with ThreadPoolExecutor(max_workers=4) as pool:
        purged = [f.result(timeout=60) for f in [pool.submit(purge) for _ in range(4)]]

    assert sum(purged) == 200
    assert not IdempotencyKey.objects.exists()
