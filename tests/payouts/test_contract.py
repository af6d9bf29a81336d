"""Provider HTTP contract v1, answer by answer: the http adapter and the task against the fake
provider, each payout scripted through its account number (`fake:<answer>,<answer>,...`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from huey.contrib.djhuey import HUEY

from fake_provider.server import Config, start_in_thread
from payouts.models import FailureCode, Payout, PayoutStatus
from tests.processing import kinds, now, run_task, run_to_the_end

CLIENT_TIMEOUT_SECONDS = 0.3
HANG_SECONDS = 0.5


class Fake:
    def __init__(self, url: str) -> None:
        self.url = url

    def ledger(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/ledger").json()
        return answer

    def entry(self, payout: Payout) -> dict[str, Any]:
        return dict(self.ledger()["payouts"][str(payout.id)])


@pytest.fixture
def start_fake(settings) -> Iterator[Callable[..., Fake]]:
    """A fake provider in a thread, and the service's http adapter pointed at it."""
    stops: list[Callable[[], None]] = []

    def start(**options: Any) -> Fake:
        config = Config(**{"hang_seconds": HANG_SECONDS, "retry_after": 0, **options})
        url, stop = start_in_thread(config)
        stops.append(stop)
        settings.PAYOUT_PROVIDER = "http"
        settings.PAYOUT_PROVIDER_URL = url
        settings.PAYOUT_PROVIDER_TIMEOUT_SECONDS = CLIENT_TIMEOUT_SECONDS
        settings.PAYOUT_RETRY_DELAY_SECONDS = 0.2
        return Fake(url)

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def fake(start_fake: Callable[..., Fake]) -> Fake:
    return start_fake()


@pytest.fixture
def scripted(make_payout: Callable[..., Payout]) -> Callable[[str], Payout]:
    def make(script: str) -> Payout:
        return make_payout(recipient_details={"account_number": f"fake:{script}"})

    return make


def test_paid_completes_with_the_providers_reference(fake, scripted):
    payout = run_to_the_end(scripted("paid"))

    entry = fake.entry(payout)
    assert payout.status == PayoutStatus.COMPLETED
    assert payout.provider_reference == entry["provider_reference"]
    assert (entry["paid_count"], entry["requests"], entry["amount"]) == (1, 1, "250.00")


@pytest.mark.parametrize("script", ["declined:account_closed", "declined:limit_exceeded"])
def test_a_decline_fails_at_once_with_the_providers_code_and_message(fake, scripted, script):
    payout = run_to_the_end(scripted(script))

    entry = fake.entry(payout)
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, entry["code"])
    assert payout.failure_code == script.split(":")[1]
    assert payout.failure_reason
    assert (payout.attempts, entry["requests"]) == (1, 1)


@pytest.mark.parametrize(("script", "status"), [("rejected", 400), ("forbidden", 403)])
def test_any_other_4xx_fails_at_once_as_provider_rejected(fake, scripted, script, status):
    payout = run_to_the_end(scripted(script))

    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_REJECTED,
    )
    assert f"HTTP {status}" in payout.failure_reason
    assert payout.attempts == 1


def test_a_wrong_token_is_rejected_not_retried(start_fake, scripted, settings):
    start_fake(token="the-right-one")
    settings.PAYOUT_PROVIDER_TOKEN = "a-wrong-one"

    payout = run_to_the_end(scripted("paid"))

    assert payout.failure_code == FailureCode.PROVIDER_REJECTED
    assert "HTTP 401" in payout.failure_reason


def test_the_right_token_pays(start_fake, scripted, settings):
    start_fake(token="the-right-one")
    settings.PAYOUT_PROVIDER_TOKEN = "the-right-one"

    assert run_to_the_end(scripted("paid")).status == PayoutStatus.COMPLETED


@pytest.mark.parametrize("script", ["error", "error500", "rate_limited"])
def test_server_errors_and_rate_limits_are_retried_then_paid(fake, scripted, script):
    payout = run_to_the_end(scripted(f"{script},paid"))

    assert (payout.status, payout.attempts) == (PayoutStatus.COMPLETED, 2)
    assert kinds(payout)[2] == "attempt_failed"


def test_a_retry_after_longer_than_the_backoff_is_honoured(start_fake, scripted):
    start_fake(retry_after=30)
    payout = scripted("rate_limited,paid")

    run_task(payout)

    [retry] = HUEY.scheduled()
    assert retry.eta - now() > timedelta(seconds=29)


def test_an_unreachable_provider_is_retried(scripted, settings, make_payout):
    settings.PAYOUT_PROVIDER = "http"
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"  # discard: nothing listens

    run_task(make_payout())

    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PROCESSING
    assert "could not be reached" in payout.events.get(kind="attempt_failed").reason


def test_an_outage_through_the_whole_budget_fails_as_provider_unavailable(fake, scripted):
    payout = run_to_the_end(scripted("error"))

    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_UNAVAILABLE,
    )
    assert fake.ledger()["undecided"][str(payout.id)]["requests"] == payout.max_attempts


def test_a_conflict_is_an_unknown_outcome_retried_until_answered(fake, scripted):
    payout = run_to_the_end(scripted("conflict,paid"))

    assert payout.status == PayoutStatus.COMPLETED
    assert kinds(payout)[2] == "attempt_unknown"


def test_paid_then_dropped_is_found_paid_by_the_retry_and_paid_once(fake, scripted):
    payout = run_to_the_end(scripted("drop"))

    entry = fake.entry(payout)
    assert payout.status == PayoutStatus.COMPLETED
    assert payout.provider_reference == entry["provider_reference"]
    assert (entry["paid_count"], entry["repeats"]) == (1, 1)
    assert kinds(payout)[2] == "attempt_unknown"


def test_a_dropped_unpaid_request_is_retried_and_paid(fake, scripted):
    payout = run_to_the_end(scripted("drop_unpaid,paid"))

    assert payout.status == PayoutStatus.COMPLETED
    assert fake.entry(payout)["paid_count"] == 1


def test_a_timeout_is_an_unknown_outcome_and_the_payout_is_paid_once_answered(fake, scripted):
    payout = run_to_the_end(scripted("timeout,paid"), wait=True)

    assert payout.status == PayoutStatus.COMPLETED
    assert "ReadTimeout" in payout.events.filter(kind="attempt_unknown")[0].reason
    assert fake.entry(payout)["paid_count"] == 1


def test_a_payout_that_only_ever_timed_out_fails_as_unknown_outcome(fake, scripted, settings):
    settings.PAYOUT_MAX_RETRIES = 1
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 1
    payout = run_to_the_end(scripted("timeout"), wait=True)

    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_UNKNOWN_OUTCOME,
    )
    assert payout.attempts == 3
    assert str(payout.id) not in fake.ledger()["payouts"]


def test_a_payout_paid_before_its_answer_was_lost_is_never_failed(fake, scripted, settings):
    """Dropped after paying on the last attempt of its budget: the extra attempt finds it."""
    settings.PAYOUT_MAX_RETRIES = 1
    payout = run_to_the_end(scripted("error,drop"))

    entry = fake.entry(payout)
    assert (payout.status, payout.provider_reference) == (
        PayoutStatus.COMPLETED,
        entry["provider_reference"],
    )
    assert "extended" in kinds(payout)


def test_a_rejection_after_a_payment_whose_answer_was_dropped_never_fails_it_as_rejected(
    start_fake, scripted, settings
):
    """Paid, the answer dropped, then the token rotated: every later request is refused 401,
    so the payout ends flagged for an operator, never FAILED as if unpaid."""
    start_fake(token="the-right-one")
    settings.PAYOUT_PROVIDER_TOKEN = "the-right-one"
    settings.PAYOUT_MAX_RETRIES = 1
    settings.PAYOUT_UNKNOWN_OUTCOME_RETRIES = 1
    payout = scripted("drop")
    run_task(payout)
    settings.PAYOUT_PROVIDER_TOKEN = "rotated"

    payout = run_to_the_end(payout)

    assert (payout.status, payout.failure_code) == (
        PayoutStatus.FAILED,
        FailureCode.PROVIDER_UNKNOWN_OUTCOME,
    )
