"""The process_payout task, run as the Huey consumer runs it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from huey.contrib.djhuey import HUEY

from payouts import provider, tasks
from payouts.models import Payout, PayoutEvent, PayoutStatus


def run_task(payout_id, *, retries_left: int | None = None):
    """Execute one delivery of the task through Huey, signals included, as a consumer would."""
    task = tasks.processing_task(payout_id)
    if retries_left is not None:
        task.retries = retries_left
    HUEY.execute(task)
    return task


@pytest.fixture
def provider_outcomes(monkeypatch):
    """Script the provider: each call pops the next outcome (True succeeds, False fails)."""
    outcomes: list[bool] = []
    calls: list[provider.ProviderRequest] = []

    def fake_send(request: provider.ProviderRequest) -> None:
        calls.append(request)
        if not outcomes.pop(0):
            raise provider.ProviderError("declined")

    monkeypatch.setattr(tasks, "provider_send", fake_send)
    return outcomes, calls


def test_success_moves_the_payout_to_completed(pending_payout, provider_outcomes):
    outcomes, calls = provider_outcomes
    outcomes.append(True)

    run_task(pending_payout.id)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.COMPLETED
    assert pending_payout.attempts == 1
    assert calls[0].idempotency_key == f"payout-{pending_payout.id}"
    assert list(
        PayoutEvent.objects.filter(payout=pending_payout)
        .order_by("id")
        .values_list("to_status", flat=True)
    ) == ["PENDING", "PROCESSING", "COMPLETED"]


def test_a_failed_attempt_is_retried_and_stays_processing(
    pending_payout, provider_outcomes, settings
):
    outcomes, _ = provider_outcomes
    outcomes.append(False)

    run_task(pending_payout.id)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.PROCESSING
    assert pending_payout.failure_reason == ""
    retry = HUEY.scheduled()
    assert len(retry) == 1
    assert retry[0].retries == settings.PAYOUT_MAX_RETRIES - 1


def test_retry_then_success_completes(pending_payout, provider_outcomes, settings):
    outcomes, calls = provider_outcomes
    outcomes.extend([False, True])

    run_task(pending_payout.id)
    run_task(pending_payout.id, retries_left=settings.PAYOUT_MAX_RETRIES - 1)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.COMPLETED
    assert pending_payout.attempts == 2
    assert len(calls) == 2


def test_retries_use_exponential_backoff(pending_payout, provider_outcomes, settings):
    outcomes, _ = provider_outcomes
    outcomes.append(False)

    task = run_task(pending_payout.id)

    [retry] = HUEY.scheduled()
    assert task.retry_backoff == settings.PAYOUT_RETRY_BACKOFF == 2
    # The first retry waits the base delay; the one after it will wait twice as long.
    waited = (retry.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    assert settings.PAYOUT_RETRY_DELAY_SECONDS - 1 < waited <= settings.PAYOUT_RETRY_DELAY_SECONDS
    assert retry.retry_delay == settings.PAYOUT_RETRY_DELAY_SECONDS * 2


def test_last_failure_marks_the_payout_failed_with_the_reason(
    pending_payout, provider_outcomes, settings
):
    outcomes, calls = provider_outcomes
    attempts = settings.PAYOUT_MAX_RETRIES + 1
    outcomes.extend([False] * attempts)

    for retries_left in range(settings.PAYOUT_MAX_RETRIES, -1, -1):
        run_task(pending_payout.id, retries_left=retries_left)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.FAILED
    assert pending_payout.failure_reason == f"Failed after {attempts} attempt(s): declined"
    assert pending_payout.attempts == attempts
    assert len(calls) == attempts


def test_an_attempt_that_is_not_the_last_never_marks_failed(pending_payout, provider_outcomes):
    outcomes, _ = provider_outcomes
    outcomes.extend([False, False])

    run_task(pending_payout.id, retries_left=3)
    run_task(pending_payout.id, retries_left=2)

    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.PROCESSING


def test_unexpected_error_on_the_last_attempt_never_leaves_processing(
    pending_payout, monkeypatch, settings
):
    def explode(request):
        raise RuntimeError("connection reset")

    monkeypatch.setattr(tasks, "provider_send", explode)

    for retries_left in range(settings.PAYOUT_MAX_RETRIES, -1, -1):
        run_task(pending_payout.id, retries_left=retries_left)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.FAILED
    assert "connection reset" in pending_payout.failure_reason


def test_a_deleted_payout_is_skipped_without_error(pending_payout, provider_outcomes, settings):
    _, calls = provider_outcomes
    Payout.objects.filter(pk=pending_payout.id).delete()

    task = run_task(pending_payout.id)

    assert calls == []
    assert HUEY.scheduled() == []
    assert task.retries == settings.PAYOUT_MAX_RETRIES


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_a_finished_payout_is_left_alone(make_payout, provider_outcomes, status):
    _, calls = provider_outcomes
    payout = make_payout(status=status)

    run_task(payout.id)

    assert calls == []
    assert Payout.objects.get(pk=payout.id).status == status


def test_an_edit_made_before_processing_is_what_gets_paid(
    api_client, pending_payout, provider_outcomes
):
    outcomes, calls = provider_outcomes
    outcomes.append(True)
    api_client.patch(
        f"/api/payouts/{pending_payout.id}/",
        {"amount": "42.00", "recipient_details": {"account_number": "NEW-1"}},
        format="json",
    )

    run_task(pending_payout.id)

    assert (str(calls[0].amount), calls[0].account_number) == ("42.00", "NEW-1")
    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.COMPLETED


def test_the_simulated_provider_fails_at_the_configured_rate(settings):
    settings.PAYOUT_FAILURE_RATE = 1.0
    request = provider.ProviderRequest(
        "payout-x", amount=Decimal("1.00"), currency="USD", account_number="1"
    )

    with pytest.raises(provider.ProviderError):
        provider.provider_send(request)

    settings.PAYOUT_FAILURE_RATE = 0.0
    provider.provider_send(request)
