"""The recovery sweep and the release of interrupted attempts: nothing accepted is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import services, tasks
from payouts.models import FailureCode, Lease, Payout, PayoutEvent, PayoutStatus
from payouts.providers import Instruction, Retryable
from tests.payouts.conftest import age


def sweep(django_capture_on_commit_callbacks, *, execute: bool):
    with django_capture_on_commit_callbacks(execute=execute) as callbacks:
        report = services.payouts_recover_stalled()
    return report, callbacks


@pytest.fixture
def abandoned_payout(pending_payout, settings):
    """A payout whose consumer died during its first attempt, past the processing lease."""
    services.payout_start_attempt(pending_payout.id, attempt=1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)
    return pending_payout


def test_pending_payout_whose_enqueue_was_lost_is_requeued_and_processed(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    assert report == services.RecoveryReport(requeued_pending=1)
    payout = Payout.objects.get(pk=pending_payout.pk)
    assert payout.status == PayoutStatus.COMPLETED
    assert payout.events.filter(kind="requeued", reason=services.MSG_REQUEUED_LOST).exists()


def test_recent_pending_payout_is_left_to_its_task(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS - 5)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []


def test_a_requeued_payout_is_not_requeued_again_by_the_next_sweep(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    sweep(django_capture_on_commit_callbacks, execute=False)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []


def test_processing_payout_past_its_lease_is_retried_as_the_next_attempt(
    abandoned_payout, django_capture_on_commit_callbacks
):
    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    payout = Payout.objects.get(pk=abandoned_payout.pk)
    assert report == services.RecoveryReport(retried_processing=1)
    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 2)
    assert payout.events.filter(kind="requeued", reason=services.MSG_REQUEUED_ABANDONED).exists()


def test_processing_payout_within_its_lease_is_left_alone(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS - 5)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []


def test_a_payout_whose_retry_waits_in_the_schedule_is_not_taken_for_abandoned(
    pending_payout, settings, monkeypatch, django_capture_on_commit_callbacks
):
    class Down:
        def send(self, instruction: Instruction) -> Retryable:
            return Retryable("HTTP 503")

    monkeypatch.setattr(tasks, "current_provider", Down)
    HUEY.execute(tasks.processing_task(pending_payout.id, attempt=1, max_attempts=4))
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport(still_queued=1)
    assert callbacks == []
    assert len(HUEY.scheduled()) == 1


def test_a_lost_payout_behind_a_batch_of_queued_ones_is_still_taken_back(
    make_payout, settings, monkeypatch, django_capture_on_commit_callbacks
):
    queued = [make_payout(), make_payout()]
    lost = make_payout()
    for index, payout in enumerate([*queued, lost]):  # the queued ones are the oldest
        age(payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 100 - index)
    monkeypatch.setattr(tasks, "payout_ids_with_queued_work", lambda: {p.id for p in queued})

    with django_capture_on_commit_callbacks(execute=False):
        report = services.payouts_recover_stalled(batch_size=1)

    assert report == services.RecoveryReport(requeued_pending=1, still_queued=2)
    assert lost.events.filter(kind="requeued").exists()


def test_nothing_is_taken_back_while_the_queue_is_too_long_to_read(
    pending_payout, settings, monkeypatch, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)
    monkeypatch.setattr(tasks, "QUEUE_SCAN_LIMIT", 0)
    monkeypatch.setattr(HUEY, "pending_count", lambda: 1)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []
    assert not pending_payout.events.filter(kind="requeued").exists()


def test_a_settled_attempt_whose_next_message_was_lost_is_retried_not_taken_for_unknown(
    pending_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    """The process died (or Redis lost the message) right after the attempt's outcome was
    recorded: the sweep enqueues the next attempt, and the attempt stays certainly unpaid."""
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_after_unanswered_attempt(
        pending_payout.id, 1, may_have_paid=False, reason="HTTP 503"
    )
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    assert report == services.RecoveryReport(retried_processing=1)
    [retry] = enqueued
    assert tasks.attempt_number(retry) == 2
    assert not pending_payout.events.filter(kind="attempt_unknown").exists()


def test_an_abandoned_last_attempt_may_have_paid_so_it_earns_more_attempts(
    abandoned_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    """Its consumer died with the request perhaps at the provider: failing it could fail a
    paid payout, so it is asked again, past its budget."""
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 3
    budget = abandoned_payout.max_attempts
    Payout.objects.filter(pk=abandoned_payout.pk).update(attempts=budget)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    payout = Payout.objects.get(pk=abandoned_payout.pk)
    assert report == services.RecoveryReport(retried_processing=1)
    assert (payout.status, payout.max_attempts) == (PayoutStatus.PROCESSING, budget + 3)
    assert payout.events.filter(kind="attempt_unknown", reason=services.MSG_ABANDONED).exists()
    [retry] = enqueued
    assert tasks.attempt_number(retry) == budget + 1


def test_an_abandoned_attempt_with_no_attempts_left_fails_as_unknown_outcome(
    abandoned_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 0
    Payout.objects.filter(pk=abandoned_payout.pk).update(attempts=abandoned_payout.max_attempts)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    payout = Payout.objects.get(pk=abandoned_payout.pk)
    assert report == services.RecoveryReport(failed_processing=1)
    assert enqueued == []
    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_UNKNOWN_OUTCOME,
    )
    assert payout.failure_reason.startswith(
        f"No answer from the provider in {payout.max_attempts} attempt(s), and it may have paid"
    )


def test_the_sweep_spends_the_budget_the_payout_was_accepted_with(
    make_payout, settings, django_capture_on_commit_callbacks
):
    settings.PAYOUT_MAX_RETRIES = 1
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 0
    payout = make_payout()
    services.payout_start_attempt(payout.id, attempt=1)
    services.payout_start_attempt(payout.id, attempt=2)
    age(payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)
    settings.PAYOUT_MAX_RETRIES = 5  # the consumer running the sweep is configured otherwise

    report, _ = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport(failed_processing=1)
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.FAILED


def test_a_retry_the_sweep_enqueues_carries_the_payouts_budget(
    make_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.PAYOUT_MAX_RETRIES = 2
    payout = make_payout()
    services.payout_start_attempt(payout.id, attempt=1)
    age(payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)
    settings.PAYOUT_MAX_RETRIES = 7

    sweep(django_capture_on_commit_callbacks, execute=True)

    [retry] = enqueued
    assert retry.kwargs == {"payout_id": str(payout.id), "max_attempts": 3}
    assert tasks.attempt_number(retry) == 2
    assert retry.retries == 1


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_finished_payouts_are_never_swept(make_payout, status, django_capture_on_commit_callbacks):
    payout = make_payout(status=status)
    age(payout, 10**6)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert Payout.objects.get(pk=payout.pk).status == status


def test_deleted_payouts_are_never_swept(owner, pending_payout, django_capture_on_commit_callbacks):
    services.payout_delete(owner.caller, pending_payout.id)
    age(pending_payout, 10**6)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []


def test_the_sweep_runs_every_minute_in_the_consumer():
    periodic = {type(task).__name__ for task in HUEY.read_periodic(timezone.now())}

    assert "recover_stalled_payouts" in periodic


def run_sweep_task() -> None:
    HUEY.execute(tasks.recover_stalled_payouts.s())


def test_a_sweep_whose_holder_died_does_not_stop_later_sweeps(pending_payout, settings):
    """A consumer killed mid-sweep never releases its lease; once it expires, sweeps resume."""
    Lease.objects.create(
        name="payout-recovery-sweep", holder=pending_payout.id, expires_at=timezone.now()
    )
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)

    run_sweep_task()

    assert pending_payout.events.filter(kind="requeued").exists()
    assert Lease.objects.get(name="payout-recovery-sweep").holder is None


def test_a_sweep_skips_while_another_holds_the_lease(pending_payout, settings):
    Lease.objects.create(
        name="payout-recovery-sweep",
        holder=pending_payout.id,
        expires_at=timezone.now() + timedelta(seconds=60),
    )
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)

    run_sweep_task()

    assert not pending_payout.events.filter(kind="requeued").exists()


def test_a_sweep_that_fails_releases_its_lease(db, monkeypatch):
    def broken_sweep():
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "payouts_recover_stalled", broken_sweep)

    run_sweep_task()

    assert Lease.objects.get(name="payout-recovery-sweep").expires_at <= timezone.now()


def test_an_interrupted_attempt_is_released_and_processed_again(
    pending_payout, django_capture_on_commit_callbacks
):
    task = tasks.processing_task(pending_payout.id, attempt=1, max_attempts=4)
    services.payout_start_attempt(pending_payout.id, attempt=1)
    HUEY._tasks_in_flight.add(task)

    with django_capture_on_commit_callbacks(execute=True):
        HUEY.notify_interrupted_tasks()

    payout = Payout.objects.get(pk=pending_payout.pk)
    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 1)
    assert PayoutEvent.objects.filter(
        payout=payout, kind="released", reason="Released: the consumer stopped mid-attempt."
    ).exists()


def test_a_released_attempt_carries_the_payouts_budget(
    make_payout, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.PAYOUT_MAX_RETRIES = 2
    payout = make_payout()
    services.payout_start_attempt(payout.id, attempt=1)
    settings.PAYOUT_MAX_RETRIES = 7

    with django_capture_on_commit_callbacks(execute=True):
        services.payout_release_attempt(payout.id, 1, reason="stop")

    [again] = enqueued
    assert again.kwargs == {"payout_id": str(payout.id), "max_attempts": 3}
    assert tasks.attempt_number(again) == 1


def test_an_interrupted_record_of_a_payment_is_enqueued_again(pending_payout, enqueued):
    task = tasks.record_paid_later.s(payout_id=str(pending_payout.id), attempt=1)
    HUEY._tasks_in_flight.add(task)

    HUEY.notify_interrupted_tasks()

    [again] = enqueued
    assert isinstance(again, tasks.record_paid_later.task_class)
    assert again.kwargs == {"payout_id": str(pending_payout.id), "attempt": 1}


def test_releasing_an_attempt_that_already_finished_does_nothing(
    pending_payout, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_complete(pending_payout.id, 1, "pr_1")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        released = services.payout_release_attempt(pending_payout.id, 1, reason="stop")

    assert released is False
    assert callbacks == []


def test_a_late_duplicate_completion_keeps_the_first_final_state(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_fail(pending_payout.id, 1, "insufficient_funds", "declined")

    assert services.payout_complete(pending_payout.id, 1, "pr_1") is False
    assert Payout.objects.get(pk=pending_payout.pk).status == PayoutStatus.FAILED
