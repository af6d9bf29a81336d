"""The process_payout task, run as the Huey consumer runs it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import OperationalError
from huey.contrib.djhuey import HUEY

from payouts import provider, services, tasks
from payouts.models import Payout, PayoutStatus


def run_task(payout, *, retries_left: int | None = None):
    """Execute one delivery of the task through Huey, signals included, as a consumer would."""
    task = tasks.processing_task(payout.id, attempt=1, max_attempts=payout.max_attempts)
    if retries_left is not None:
        task.retries = retries_left
    HUEY.execute(task)
    return task


def kinds(payout) -> list[str]:
    return list(payout.events.values_list("kind", flat=True))


@pytest.fixture
def provider_outcomes(monkeypatch):
    """Script the provider: each call pops the next outcome (True pays, False fails)."""
    outcomes: list[bool] = []
    calls: list[provider.ProviderRequest] = []

    def fake_send(request: provider.ProviderRequest) -> None:
        calls.append(request)
        if not outcomes.pop(0):
            raise provider.ProviderError("declined")

    monkeypatch.setattr(tasks, "provider_send", fake_send)
    return outcomes, calls


def fail_once(monkeypatch, service: str, error: Exception) -> list[Exception]:
    """The database refuses the next call of a service once; the list empties when it has."""
    write = getattr(services, service)
    failures = [error]

    def flaky(payout_id, attempt):
        if failures:
            raise failures.pop()
        return write(payout_id, attempt)

    monkeypatch.setattr(services, service, flaky)
    return failures


@pytest.fixture
def completion_fails_once(monkeypatch):
    """The first completion hits a dropped connection."""
    error = OperationalError("server closed the connection unexpectedly")
    return fail_once(monkeypatch, "payout_complete", error)


@pytest.fixture
def last_chance_payout(make_payout, settings):
    """A payout accepted with no retries: its first attempt is its last."""
    settings.PAYOUT_MAX_RETRIES = 0
    return make_payout()


def test_success_moves_the_payout_to_completed(pending_payout, provider_outcomes):
    outcomes, calls = provider_outcomes
    outcomes.append(True)

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.COMPLETED
    assert pending_payout.attempts == 1
    assert calls[0].idempotency_key == f"payout-{pending_payout.id}"
    assert kinds(pending_payout) == ["created", "processing", "completed"]


def test_a_failed_attempt_is_retried_and_stays_processing(pending_payout, provider_outcomes):
    outcomes, _ = provider_outcomes
    outcomes.append(False)

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.PROCESSING
    assert pending_payout.failure_reason == ""
    retry = HUEY.scheduled()
    assert len(retry) == 1
    assert retry[0].retries == pending_payout.max_attempts - 2
    assert kinds(pending_payout) == ["created", "processing", "attempt_failed"]


def test_retry_then_success_completes(pending_payout, provider_outcomes):
    outcomes, calls = provider_outcomes
    outcomes.extend([False, True])

    run_task(pending_payout)
    run_task(pending_payout, retries_left=pending_payout.max_attempts - 2)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.COMPLETED
    assert pending_payout.attempts == 2
    assert len(calls) == 2
    assert kinds(pending_payout) == [
        "created",
        "processing",
        "attempt_failed",
        "processing",
        "completed",
    ]


def test_retries_use_exponential_backoff(pending_payout, provider_outcomes, settings):
    outcomes, _ = provider_outcomes
    outcomes.append(False)

    task = run_task(pending_payout)

    [retry] = HUEY.scheduled()
    assert task.retry_backoff == settings.PAYOUT_RETRY_BACKOFF == 2
    # The first retry waits the base delay; the one after it will wait twice as long.
    waited = (retry.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    assert settings.PAYOUT_RETRY_DELAY_SECONDS - 1 < waited <= settings.PAYOUT_RETRY_DELAY_SECONDS
    assert retry.retry_delay == settings.PAYOUT_RETRY_DELAY_SECONDS * 2


def test_last_failure_marks_the_payout_failed_with_the_reason(pending_payout, provider_outcomes):
    outcomes, calls = provider_outcomes
    attempts = pending_payout.max_attempts
    outcomes.extend([False] * attempts)

    for retries_left in range(attempts - 1, -1, -1):
        run_task(pending_payout, retries_left=retries_left)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.FAILED
    assert pending_payout.failure_reason == f"Failed after {attempts} attempt(s): declined"
    assert pending_payout.attempts == attempts
    assert len(calls) == attempts


def test_an_attempt_that_is_not_the_last_never_marks_failed(pending_payout, provider_outcomes):
    outcomes, _ = provider_outcomes
    outcomes.extend([False, False])

    run_task(pending_payout, retries_left=3)
    run_task(pending_payout, retries_left=2)

    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.PROCESSING


def test_unexpected_error_on_the_last_attempt_never_leaves_processing(pending_payout, monkeypatch):
    def explode(request):
        raise RuntimeError("connection reset")

    monkeypatch.setattr(tasks, "provider_send", explode)

    for retries_left in range(pending_payout.max_attempts - 1, -1, -1):
        run_task(pending_payout, retries_left=retries_left)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.FAILED
    assert "connection reset" in pending_payout.failure_reason


def test_a_paid_last_attempt_whose_record_fails_is_completed_not_failed(
    last_chance_payout, provider_outcomes, completion_fails_once
):
    outcomes, calls = provider_outcomes
    outcomes.append(True)

    run_task(last_chance_payout)

    payout = Payout.objects.get(pk=last_chance_payout.pk)
    assert (payout.status, payout.failure_reason) == (PayoutStatus.COMPLETED, "")
    assert len(calls) == 1
    assert completion_fails_once == []
    assert kinds(payout) == ["created", "processing", "completed"]


def test_a_paid_attempt_whose_record_fails_never_calls_the_provider_again(
    pending_payout, provider_outcomes, completion_fails_once
):
    outcomes, calls = provider_outcomes
    outcomes.extend([True, True])

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert (pending_payout.status, pending_payout.attempts) == (PayoutStatus.COMPLETED, 1)
    assert len(calls) == 1
    assert HUEY.scheduled() == []


def test_recording_a_payment_is_retried_until_the_database_takes_it(
    last_chance_payout, provider_outcomes, monkeypatch
):
    outcomes, calls = provider_outcomes
    outcomes.append(True)

    def database_down(payout_id, attempt):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "payout_complete", database_down)

    run_task(last_chance_payout)

    [retry] = HUEY.scheduled()
    assert isinstance(retry, tasks.record_paid_later.task_class)
    assert retry.kwargs == {"payout_id": str(last_chance_payout.id), "attempt": 1}
    assert retry.retry_delay == tasks.RECORD_PAID_RETRY_DELAY_SECONDS
    # Never FAILED while the record of a payment is on its way; the sweep sees the message.
    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.PROCESSING
    assert tasks.payout_ids_with_queued_work() == {last_chance_payout.id}
    assert len(calls) == 1


def test_an_error_before_the_claim_retries_the_same_attempt_and_never_fails(
    last_chance_payout, provider_outcomes, monkeypatch
):
    outcomes, calls = provider_outcomes
    outcomes.append(True)
    fail_once(monkeypatch, "payout_start_attempt", OperationalError("deadlock detected"))

    run_task(last_chance_payout)

    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.PENDING
    [retry] = HUEY.scheduled()
    assert tasks.attempt_number(retry) == 1
    retry.eta = None
    HUEY.execute(retry)
    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.COMPLETED
    assert len(calls) == 1


def test_a_record_that_fails_for_a_day_is_reported_as_critical(pending_payout, monkeypatch, caplog):
    def database_down(payout_id, attempt):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "payout_complete", database_down)
    last_try = tasks.record_paid_later.s(payout_id=str(pending_payout.id), attempt=1)
    last_try.retries = 0

    HUEY.execute(last_try)

    [record] = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert str(pending_payout.id) in record.getMessage()
    assert "complete it by hand" in record.getMessage()
    assert Payout.objects.get(pk=pending_payout.pk).status == PayoutStatus.PENDING


def test_a_deleted_payout_is_skipped_without_error(owner, pending_payout, provider_outcomes):
    _, calls = provider_outcomes
    services.payout_delete(owner.caller, pending_payout.id)

    task = run_task(pending_payout)

    assert calls == []
    assert HUEY.scheduled() == []
    assert task.retries == pending_payout.max_attempts - 1


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_a_finished_payout_is_left_alone(make_payout, provider_outcomes, status):
    _, calls = provider_outcomes
    payout = make_payout(status=status)

    run_task(payout)

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

    run_task(pending_payout)

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
