"""The process_payout task, run as the Huey consumer runs it, over a scripted provider."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from unittest.mock import ANY

import pytest
from django.db import OperationalError, connection
from huey.api import Task
from huey.contrib.djhuey import HUEY

from payouts import services, tasks
from payouts.models import FailureCode, Payout, PayoutStatus
from payouts.providers import (
    Declined,
    Instruction,
    Outcome,
    Paid,
    Rejected,
    Retryable,
    Unknown,
    current_provider,
)
from payouts.providers.simulated import SimulatedProvider
from tests.processing import kinds, run_scheduled, run_task, run_to_the_end
from tests.scripted_provider import ScriptedProvider

OUTAGE = Retryable("HTTP 503: down for maintenance")
LOST = Unknown("No answer from the provider: ReadTimeout.")


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    scripted = ScriptedProvider()
    monkeypatch.setattr(tasks, "current_provider", lambda: scripted)
    return scripted


def seconds_until(task: Task) -> float:
    return (task.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds()


def fail_once(monkeypatch: pytest.MonkeyPatch, service: str, error: Exception) -> list[Exception]:
    """The database refuses the next call of a service once; the list empties when it has."""
    write = getattr(services, service)
    failures = [error]

    def flaky(*args: object) -> object:
        if failures:
            raise failures.pop()
        return write(*args)

    monkeypatch.setattr(services, service, flaky)
    return failures


@pytest.fixture
def completion_fails_once(monkeypatch: pytest.MonkeyPatch) -> list[Exception]:
    """The first completion hits a dropped connection."""
    error = OperationalError("server closed the connection unexpectedly")
    return fail_once(monkeypatch, "payout_complete", error)


@pytest.fixture
def last_chance_payout(make_payout: Callable[..., Payout], settings) -> Payout:
    """A payout accepted with no retries: its first attempt is its last."""
    settings.PAYOUT_MAX_RETRIES = 0
    return make_payout()


def test_a_paid_attempt_completes_the_payout_with_the_provider_reference(pending_payout, provider):
    provider.script.append(Paid("pr_123"))

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.COMPLETED
    assert pending_payout.provider_reference == "pr_123"
    assert pending_payout.attempts == 1
    assert kinds(pending_payout) == ["created", "processing", "completed"]


def test_the_provider_is_asked_with_the_payout_id_as_key_and_the_attempt_number(
    pending_payout, provider
):
    provider.script.extend([OUTAGE, Paid("pr_1")])

    run_to_the_end(pending_payout)

    first, second = provider.calls
    assert first.idempotency_key == second.idempotency_key == str(pending_payout.id)
    assert (first.attempt, second.attempt) == (1, 2)
    assert (first.amount, first.currency) == (Decimal("100.00"), pending_payout.currency)
    assert first.recipient == pending_payout.recipient_details


def test_an_unanswered_attempt_stays_processing_with_the_next_one_scheduled(
    pending_payout, provider, settings
):
    provider.script.append(OUTAGE)

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert (pending_payout.status, pending_payout.failure_code) == (PayoutStatus.PROCESSING, "")
    [retry] = HUEY.scheduled()
    assert tasks.attempt_number(retry) == 2
    assert 0 < seconds_until(retry) <= settings.PAYOUT_RETRY_DELAY_SECONDS
    assert kinds(pending_payout) == ["created", "processing", "attempt_failed"]


def test_retries_back_off_exponentially_up_to_the_longest_delay(pending_payout, provider, settings):
    settings.PAYOUT_RETRY_DELAY_SECONDS = 10
    settings.PAYOUT_RETRY_MAX_DELAY_SECONDS = 30
    provider.script.extend([OUTAGE, OUTAGE, OUTAGE, Paid("pr_1")])
    waits = []

    run_task(pending_payout)
    while due := HUEY.scheduled():
        waits.append(round(seconds_until(due[0])))
        run_scheduled()

    assert waits == [10, 20, 30]


def test_a_retry_waits_at_least_the_providers_retry_after(pending_payout, provider, settings):
    settings.PAYOUT_RETRY_DELAY_SECONDS = 1
    provider.script.append(Retryable("HTTP 429", retry_after=120))

    run_task(pending_payout)

    [retry] = HUEY.scheduled()
    assert 119 < seconds_until(retry) <= 120


def test_a_decline_fails_at_once_with_the_providers_code_and_message(pending_payout, provider):
    provider.script.append(Declined("insufficient_funds", "The account has no funds."))

    payout = run_to_the_end(pending_payout)

    assert payout.status == PayoutStatus.FAILED
    assert (payout.failure_code, payout.failure_reason) == (
        "insufficient_funds",
        "The account has no funds.",
    )
    assert len(provider.calls) == 1
    assert HUEY.scheduled() == []


def test_a_retry_then_a_payment_completes(pending_payout, provider):
    provider.script.extend([OUTAGE, Paid("pr_2")])

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 2)
    assert kinds(payout) == ["created", "processing", "attempt_failed", "processing", "completed"]


def test_every_attempt_failing_fails_the_payout_as_provider_unavailable(pending_payout, provider):
    attempts = pending_payout.max_attempts
    provider.script.extend([OUTAGE] * attempts)

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.attempts) == (PayoutStatus.FAILED, attempts)
    assert payout.failure_code == FailureCode.PROVIDER_UNAVAILABLE
    assert payout.failure_reason == (
        f"The provider did not take it in {attempts} attempt(s). Last: {OUTAGE.reason}"
    )
    assert len(provider.calls) == attempts


def test_an_unknown_outcome_is_retried_and_a_payment_found_later_completes(
    pending_payout, provider
):
    provider.script.extend([LOST, Paid("pr_found")])

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.provider_reference) == (PayoutStatus.COMPLETED, "pr_found")
    assert kinds(payout)[2] == "attempt_unknown"


def test_a_payout_that_may_have_been_paid_is_not_failed_when_its_budget_runs_out(
    pending_payout, provider, settings
):
    """An early answer was lost and every later attempt met an outage: a retry could still
    find it paid, so it gets more attempts instead of being FAILED."""
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 2
    budget = pending_payout.max_attempts
    provider.script.extend([LOST] + [OUTAGE] * (budget - 1) + [OUTAGE, Paid("pr_late")])

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.provider_reference) == (PayoutStatus.COMPLETED, "pr_late")
    assert (payout.attempts, payout.max_attempts) == (budget + 2, budget + 2)
    assert "extended" in kinds(payout)


def test_a_payout_no_attempt_got_an_answer_for_fails_as_unknown_outcome(
    pending_payout, provider, settings
):
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 2
    budget = pending_payout.max_attempts
    provider.script.extend([LOST] * (budget + 2))

    payout = run_to_the_end(pending_payout)

    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_code == FailureCode.PROVIDER_UNKNOWN_OUTCOME
    assert "check with the provider" in payout.failure_reason
    assert len(provider.calls) == budget + 2
    assert kinds(payout).count("extended") == 1


def test_a_decline_found_after_an_unknown_outcome_is_final(pending_payout, provider):
    provider.script.extend([LOST, Declined("account_closed", "Closed.")])

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")


def test_without_extra_retries_an_unknown_last_attempt_fails_as_unknown_outcome(
    last_chance_payout, provider, settings
):
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 0
    provider.script.append(LOST)

    payout = run_to_the_end(last_chance_payout)

    assert payout.failure_code == FailureCode.PROVIDER_UNKNOWN_OUTCOME
    assert len(provider.calls) == 1


def test_an_adapter_that_raises_counts_as_an_unknown_outcome(last_chance_payout, provider):
    provider.script.extend([RuntimeError("connection reset"), Paid("pr_after_bug")])

    payout = run_to_the_end(last_chance_payout)

    assert (payout.status, payout.provider_reference) == (PayoutStatus.COMPLETED, "pr_after_bug")
    assert "connection reset" in payout.events.get(kind="attempt_unknown").reason


def test_a_decline_that_cannot_be_recorded_on_the_last_attempt_is_asked_again(
    last_chance_payout, provider, monkeypatch
):
    """The answer is lost to a database error: the next attempt learns it again."""
    fail_once(monkeypatch, "payout_decline", OperationalError("server closed the connection"))
    declined = Declined("account_closed", "Closed.")
    provider.script.extend([declined, declined])

    payout = run_to_the_end(last_chance_payout)

    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")
    assert len(provider.calls) == 2


def test_a_paid_last_attempt_whose_record_fails_is_completed_not_failed(
    last_chance_payout, provider, completion_fails_once
):
    provider.script.append(Paid("pr_3"))

    run_task(last_chance_payout)

    payout = Payout.objects.get(pk=last_chance_payout.pk)
    assert (payout.status, payout.failure_reason) == (PayoutStatus.COMPLETED, "")
    assert payout.provider_reference == "pr_3"
    assert len(provider.calls) == 1
    assert completion_fails_once == []
    assert kinds(payout) == ["created", "processing", "completed"]


def test_a_paid_attempt_whose_record_fails_never_calls_the_provider_again(
    pending_payout, provider, completion_fails_once
):
    provider.script.extend([Paid("pr_4"), Paid("pr_4")])

    run_task(pending_payout)

    pending_payout.refresh_from_db()
    assert (pending_payout.status, pending_payout.attempts) == (PayoutStatus.COMPLETED, 1)
    assert len(provider.calls) == 1
    assert HUEY.scheduled() == []


def test_recording_a_payment_is_retried_until_the_database_takes_it(
    last_chance_payout, provider, monkeypatch
):
    provider.script.append(Paid("pr_5"))

    def database_down(payout_id, attempt, provider_reference):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "payout_complete", database_down)

    run_task(last_chance_payout)

    [retry] = HUEY.scheduled()
    assert isinstance(retry, tasks.record_paid_later.task_class)
    assert retry.kwargs == {
        "payout_id": str(last_chance_payout.id),
        "attempt": 1,
        "provider_reference": "pr_5",
        "request_id": ANY,  # the attempt's, as tests/test_logs.py checks
    }
    assert retry.retry_delay == tasks.RECORD_PAID_RETRY_DELAY_SECONDS
    # Never FAILED while the record of a payment is on its way; the sweep sees the message.
    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.PROCESSING
    assert tasks.payout_ids_with_queued_work() == {last_chance_payout.id}
    assert len(provider.calls) == 1


def test_an_error_before_the_claim_retries_the_same_attempt_and_never_fails(
    last_chance_payout, provider, monkeypatch
):
    provider.script.append(Paid("pr_6"))
    fail_once(monkeypatch, "payout_start_attempt", OperationalError("deadlock detected"))

    run_task(last_chance_payout)

    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.PENDING
    [retry] = HUEY.scheduled()
    assert tasks.attempt_number(retry) == 1
    run_scheduled()
    assert Payout.objects.get(pk=last_chance_payout.pk).status == PayoutStatus.COMPLETED
    assert len(provider.calls) == 1


def test_a_record_that_fails_for_a_day_is_reported_as_critical(pending_payout, monkeypatch, caplog):
    def database_down(payout_id, attempt, provider_reference):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "payout_complete", database_down)
    last_try = tasks.record_paid_later.s(
        payout_id=str(pending_payout.id), attempt=1, provider_reference="pr_7"
    )
    last_try.retries = 0

    HUEY.execute(last_try)

    [record] = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert str(pending_payout.id) in record.getMessage()
    assert "complete it by hand" in record.getMessage()
    assert Payout.objects.get(pk=pending_payout.pk).status == PayoutStatus.PENDING


def test_a_record_message_queued_before_references_existed_still_completes(pending_payout):
    services.payout_start_attempt(pending_payout.id, 1)
    queued_earlier = tasks.record_paid_later.s(payout_id=str(pending_payout.id), attempt=1)

    HUEY.execute(queued_earlier)

    pending_payout.refresh_from_db()
    assert (pending_payout.status, pending_payout.provider_reference) == (
        PayoutStatus.COMPLETED,
        "",
    )


def test_a_deleted_payout_is_skipped_without_error(owner, pending_payout, provider):
    services.payout_delete(owner.caller, pending_payout.id)

    task = run_task(pending_payout)

    assert provider.calls == []
    assert HUEY.scheduled() == []
    assert task.retries == pending_payout.max_attempts - 1


@pytest.mark.parametrize("status", [PayoutStatus.COMPLETED, PayoutStatus.FAILED])
def test_a_finished_payout_is_left_alone(make_payout, provider, status):
    payout = make_payout(status=status)

    run_task(payout)

    assert provider.calls == []
    assert Payout.objects.get(pk=payout.id).status == status


def test_an_edit_made_before_processing_is_what_gets_paid(api_client, pending_payout, provider):
    provider.script.append(Paid("pr_8"))
    api_client.patch(
        f"/api/payouts/{pending_payout.id}/",
        {"amount": "42.00", "recipient_details": {"account_number": "NEW-1"}},
        format="json",
    )

    run_task(pending_payout)

    [call] = provider.calls
    assert (call.amount, call.recipient) == (Decimal("42.00"), {"account_number": "NEW-1"})
    assert Payout.objects.get(pk=pending_payout.id).status == PayoutStatus.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_the_database_connection_is_given_back_before_the_provider_is_asked(
    make_payout, monkeypatch
):
    """Outside a transaction the worker closes its connection (to the pool, on PostgreSQL)
    for the provider's wait. The in-memory test database ignores a close, so the order of the
    two calls is what is observed here; tests/integration counts real connections."""
    steps: list[str] = []
    close = connection.close

    def closing() -> None:
        steps.append("closed")
        close()

    class Watching:
        def send(self, instruction: Instruction) -> Outcome:
            steps.append("asked")
            return Paid("pr_9")

    monkeypatch.setattr(connection, "close", closing)
    monkeypatch.setattr(tasks, "current_provider", Watching)
    payout = make_payout()

    run_task(payout)

    assert steps[steps.index("asked") - 1] == "closed"
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.COMPLETED


def test_the_simulated_provider_fails_at_the_configured_rate(settings, pending_payout):
    instruction = Instruction.for_attempt(pending_payout, 1)
    settings.PAYOUT_FAILURE_RATE = 1.0

    assert isinstance(SimulatedProvider().send(instruction), Retryable)

    settings.PAYOUT_FAILURE_RATE = 0.0
    paid = SimulatedProvider().send(instruction)
    assert isinstance(paid, Paid)
    assert paid.provider_reference.startswith("sim_")


def test_payout_provider_picks_the_adapter(settings):
    from payouts.providers.http import HttpProvider

    assert isinstance(current_provider(), SimulatedProvider)

    settings.PAYOUT_PROVIDER = "http"
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"
    provider = current_provider()

    assert isinstance(provider, HttpProvider)
    assert current_provider() is provider


def test_a_rejection_with_no_attempt_that_may_have_paid_is_final(pending_payout, provider):
    provider.script.append(Rejected("The provider rejected it: HTTP 400: bad account"))

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_REJECTED,
    )
    assert payout.failure_reason == "The provider rejected it: HTTP 400: bad account"
    assert len(provider.calls) == 1


def test_a_rejection_after_a_lost_answer_asks_again_instead_of_failing(pending_payout, provider):
    """A 401 or 404 (a rotated token, a gateway mid-deploy) refuses this request; the one
    before may have paid, so the payout is asked again until an answer comes."""
    provider.script.extend([LOST, Rejected("HTTP 401"), Paid("pr_was_paid")])

    payout = run_to_the_end(pending_payout)

    assert (payout.status, payout.provider_reference) == (PayoutStatus.COMPLETED, "pr_was_paid")


def test_a_lost_answer_that_could_not_be_recorded_still_counts_as_may_have_paid(
    pending_payout, provider, monkeypatch, settings
):
    """The database refused the record of an unknown outcome, and the error handler's too:
    the attempt has no recorded end, so it is never taken for one that did not pay."""
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 1
    record = services.payout_after_unanswered_attempt
    failures = [OperationalError("connection lost")] * 2

    def flaky(
        payout_id: object, attempt: int, *, may_have_paid: bool, reason: str
    ) -> services.NextAttempt | None:
        if failures:
            raise failures.pop()
        return record(payout_id, attempt, may_have_paid=may_have_paid, reason=reason)

    monkeypatch.setattr(services, "payout_after_unanswered_attempt", flaky)
    provider.script.extend([LOST] + [OUTAGE] * pending_payout.max_attempts)

    payout = run_to_the_end(pending_payout)

    assert payout.failure_code == FailureCode.PROVIDER_UNKNOWN_OUTCOME
    assert "extended" in kinds(payout)


def test_a_retry_after_beyond_the_longest_delay_waits_the_longest_delay(
    pending_payout, provider, settings
):
    settings.PAYOUT_RETRY_MAX_DELAY_SECONDS = 60
    provider.script.append(Retryable("HTTP 503", retry_after=3600))

    run_task(pending_payout)

    [retry] = HUEY.scheduled()
    assert 59 < seconds_until(retry) <= 60


def test_an_attempt_settled_twice_is_recorded_once(pending_payout, provider):
    services.payout_start_attempt(pending_payout.id, 1)

    first = services.payout_after_unanswered_attempt(
        pending_payout.id, 1, may_have_paid=False, reason="HTTP 503"
    )
    again = services.payout_after_unanswered_attempt(
        pending_payout.id, 1, may_have_paid=True, reason="error handler"
    )

    assert first == again == services.NextAttempt(2, pending_payout.max_attempts)
    assert kinds(pending_payout) == ["created", "processing", "attempt_failed"]


def test_workers_asking_at_once_share_one_adapter(settings):
    settings.PAYOUT_PROVIDER = "http"
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"
    start = threading.Barrier(16)

    def ask() -> object:
        start.wait()
        return current_provider()

    with ThreadPoolExecutor(max_workers=16) as pool:
        adapters = {id(adapter) for adapter in pool.map(lambda _: ask(), range(16))}

    assert len(adapters) == 1
