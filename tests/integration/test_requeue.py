"""An operator's re-enqueue racing the recovery sweep on PostgreSQL: each stuck payout is
enqueued once, whoever takes it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.utils import timezone

from payouts import services, tasks
from payouts.callers import Caller
from payouts.models import Payout, PayoutEvent
from tests.conftest import payout_payload
from tests.integration.test_concurrency import in_own_connection


def test_requeues_racing_sweeps_enqueue_each_stuck_payout_once(
    owner, queue, transactional_db, settings, monkeypatch
):
    settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS = 60
    enqueued: list[str] = []
    lock = threading.Lock()

    def record(payout_id, **message) -> None:
        with lock:
            enqueued.append(str(payout_id))

    monkeypatch.setattr(tasks, "enqueue_processing", record)
    ids = [str(services.payout_create(owner.caller, payout_payload()).id) for _ in range(40)]
    Payout.objects.update(updated_at=timezone.now() - timedelta(seconds=120))
    enqueued.clear()
    start = threading.Barrier(4)

    @in_own_connection
    def sweep() -> int:
        start.wait()
        return services.payouts_recover_stalled().requeued_pending

    @in_own_connection
    def requeue() -> int:
        start.wait()
        results = services.payouts_requeue(Caller.for_staff("operator"), ids)
        return sum(result.outcome == services.Requeue.REQUEUED for result in results.values())

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = [pool.submit(job) for job in (sweep, sweep, requeue, requeue)]
        taken = [run.result(timeout=60) for run in runs]

    assert sum(taken) == 40
    assert sorted(enqueued) == sorted(ids)
    assert PayoutEvent.objects.filter(kind="requeued").count() == 40
