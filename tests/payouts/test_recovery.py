"""The recovery sweep and the release of interrupted attempts: nothing accepted is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import services, tasks
from payouts.models import Payout, PayoutEvent, PayoutStatus


def age(payout, seconds: float) -> None:
    """Pretend the payout was last touched `seconds` ago."""
    Payout.objects.filter(pk=payout.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def sweep(django_capture_on_commit_callbacks, *, execute: bool):
    with django_capture_on_commit_callbacks(execute=execute) as callbacks:
        report = services.payouts_recover_stalled()
    return report, callbacks


def test_pending_payout_whose_enqueue_was_lost_is_requeued_and_processed(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    age(pending_payout, settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS + 1)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    assert report == services.RecoveryReport(requeued_pending=1)
    assert Payout.objects.get(pk=pending_payout.pk).status == PayoutStatus.COMPLETED


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
    pending_payout, settings, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=True)

    payout = Payout.objects.get(pk=pending_payout.pk)
    assert report == services.RecoveryReport(retried_processing=1)
    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 2)
    assert PayoutEvent.objects.filter(
        payout=payout, reason="Processing lease expired; retrying."
    ).exists()


def test_processing_payout_within_its_lease_is_left_alone(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS - 5)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert callbacks == []


def test_abandoned_payout_with_no_retries_left_is_failed(
    pending_payout, settings, django_capture_on_commit_callbacks
):
    last_attempt = settings.PAYOUT_MAX_RETRIES + 1
    services.payout_start_attempt(pending_payout.id, attempt=1)
    Payout.objects.filter(pk=pending_payout.pk).update(attempts=last_attempt)
    age(pending_payout, settings.PAYOUT_PROCESSING_LEASE_SECONDS + 1)

    report, callbacks = sweep(django_capture_on_commit_callbacks, execute=False)

    payout = Payout.objects.get(pk=pending_payout.pk)
    assert report == services.RecoveryReport(failed_processing=1)
    assert callbacks == []
    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_reason == (
        f"Failed after {last_attempt} attempt(s): processing was interrupted "
        "and the retry budget is spent."
    )


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_finished_payouts_are_never_swept(make_payout, status, django_capture_on_commit_callbacks):
    payout = make_payout(status=status)
    age(payout, 10**6)

    report, _ = sweep(django_capture_on_commit_callbacks, execute=False)

    assert report == services.RecoveryReport()
    assert Payout.objects.get(pk=payout.pk).status == status


def test_the_sweep_runs_every_minute_in_the_consumer():
    periodic = {type(task).__name__ for task in HUEY.read_periodic(timezone.now())}

    assert "recover_stalled_payouts" in periodic


def test_an_interrupted_attempt_is_released_and_processed_again(
    pending_payout, django_capture_on_commit_callbacks
):
    task = tasks.processing_task(pending_payout.id)
    services.payout_start_attempt(pending_payout.id, attempt=1)
    HUEY._tasks_in_flight.add(task)

    with django_capture_on_commit_callbacks(execute=True):
        HUEY.notify_interrupted_tasks()

    payout = Payout.objects.get(pk=pending_payout.pk)
    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 1)
    assert PayoutEvent.objects.filter(
        payout=payout, reason="Released: the consumer stopped mid-attempt."
    ).exists()


def test_releasing_an_attempt_that_already_finished_does_nothing(
    pending_payout, django_capture_on_commit_callbacks
):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_complete(pending_payout.id)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        released = services.payout_release_attempt(pending_payout.id, 1, reason="stop")

    assert released is False
    assert callbacks == []


def test_a_late_duplicate_completion_keeps_the_first_final_state(pending_payout):
    services.payout_start_attempt(pending_payout.id, attempt=1)
    services.payout_fail(pending_payout.id, "declined")

    assert services.payout_complete(pending_payout.id) is None
    assert Payout.objects.get(pk=pending_payout.pk).status == PayoutStatus.FAILED
