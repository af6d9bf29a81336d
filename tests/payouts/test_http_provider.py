"""The http adapter's reading of Provider HTTP contract v1, answer by answer.

These use httpx's mock transport for answers the fake provider never gives (a malformed body,
a dated Retry-After); tests/payouts/test_contract.py runs the adapter against the fake provider.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from payouts.providers import Declined, Instruction, Outcome, Paid, Rejected, Retryable, Unknown
from payouts.providers.http import HttpProvider, retry_after_seconds

INSTRUCTION = Instruction(
    payout_id=uuid.UUID("8b9e3c1e-8c1f-4a53-9a53-4a0c1f9b7e11"),
    amount=Decimal("1234.5"),
    currency="EUR",
    recipient={"account_number": "DE89370400440532013000"},
    attempt=3,
)


def adapter(handler: Callable[[httpx.Request], httpx.Response]) -> HttpProvider:
    client = httpx.Client(
        base_url="https://gateway.example/provider/", transport=httpx.MockTransport(handler)
    )
    return HttpProvider(client)


def answer(status: int, body: object = None, **headers: str) -> Outcome:
    content = b"" if body is None else json.dumps(body).encode()
    return adapter(lambda request: httpx.Response(status, content=content, headers=headers)).send(
        INSTRUCTION
    )


def test_the_request_is_the_contracts_post_with_the_payout_id_as_key():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"status": "paid", "provider_reference": "pr_1"})

    adapter(handler).send(INSTRUCTION)

    [request] = seen
    assert (request.method, str(request.url)) == (
        "POST",
        "https://gateway.example/provider/payouts",
    )
    assert request.headers["Idempotency-Key"] == str(INSTRUCTION.payout_id)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "payout_id": str(INSTRUCTION.payout_id),
        "amount": "1234.50",
        "currency": "EUR",
        "recipient": {"account_number": "DE89370400440532013000"},
        "attempt": 3,
    }


def test_the_token_is_sent_as_a_bearer_only_when_set(settings):
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"
    settings.PAYOUT_PROVIDER_TOKEN = "s3cret"
    assert HttpProvider.from_settings().client.headers["Authorization"] == "Bearer s3cret"

    settings.PAYOUT_PROVIDER_TOKEN = ""
    assert "Authorization" not in HttpProvider.from_settings().client.headers


def test_the_connections_are_sized_to_the_workers_in_small_pools(settings):
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"
    settings.HUEY_WORKERS = 700
    settings.PAYOUT_PROVIDER_TIMEOUT_SECONDS = 2.5

    client = HttpProvider.from_settings().client

    assert client.timeout == httpx.Timeout(2.5)
    pools = [pool._pool for pool in client._transport.pools]  # type: ignore[attr-defined]
    assert len(pools) == 44  # 700 / 16, rounded up
    assert sum(pool._max_connections for pool in pools) >= 700
    assert {pool._max_connections for pool in pools} == {32}


def test_a_small_consumer_gets_one_pool_as_large_as_its_workers(settings):
    settings.PAYOUT_PROVIDER_URL = "http://127.0.0.1:9"
    settings.HUEY_WORKERS = 4

    [pool] = HttpProvider.from_settings().client._transport.pools  # type: ignore[attr-defined]

    assert pool._pool._max_connections == 4


@pytest.mark.parametrize("status", [200, 201])
def test_a_paid_answer_is_paid_with_its_reference(status):
    assert answer(status, {"status": "paid", "provider_reference": "pr_9"}) == Paid("pr_9")


@pytest.mark.parametrize(
    "body", [{"status": "paid"}, {"status": "pending", "provider_reference": "x"}, "paid", None]
)
def test_a_2xx_without_a_paid_status_and_reference_is_an_unknown_outcome(body):
    assert isinstance(answer(200, body), Unknown)


def test_an_accepted_for_later_answer_is_an_unknown_outcome():
    assert isinstance(answer(202, {"status": "processing"}), Unknown)


@pytest.mark.parametrize("status", [402, 422])
def test_a_decline_keeps_the_providers_code_and_message(status):
    body = {"status": "declined", "code": "insufficient_funds", "message": "No funds."}

    assert answer(status, body) == Declined("insufficient_funds", "No funds.")


def test_a_decline_without_a_code_is_provider_declined():
    assert answer(422, {"status": "declined"}) == Declined(
        "provider_declined", "Declined by the provider (HTTP 422)."
    )


@pytest.mark.parametrize("body", [{"detail": "field required"}, {"status": "error"}, None])
def test_a_402_or_422_without_a_declined_status_is_no_decline_but_a_rejection(body):
    """A framework's own validation error is a refusal of the request, not the provider's
    decision about the payout."""
    assert isinstance(answer(422, body), Rejected)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 413])
def test_any_other_4xx_is_rejected(status):
    outcome = answer(status, {"message": "Bad account"})

    assert outcome == Rejected(f"The provider rejected it: HTTP {status}: Bad account")


def test_a_409_is_an_unknown_outcome_honouring_retry_after():
    outcome = answer(409, {"status": "in_progress"}, **{"Retry-After": "7"})

    assert isinstance(outcome, Unknown)
    assert outcome.retry_after == 7


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retryable_honouring_retry_after(status):
    outcome = answer(status, {"message": "busy"}, **{"Retry-After": "3"})

    assert outcome == Retryable(f"HTTP {status}: busy", retry_after=3)


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxys_gateway_error_is_an_unknown_outcome(status):
    """A proxy answers these after passing the request on: the gateway may have paid."""
    assert isinstance(answer(status, None), Unknown)


@pytest.mark.parametrize(
    ("reference", "stored"),
    [("pr_\x00_1", "pr__1"), ("pr_\ud800", "pr_\\ud800"), ("  pr_2\n", "pr_2")],
)
def test_a_reference_is_kept_as_the_database_can_store_it(reference, stored):
    """PostgreSQL refuses NUL and UTF-8 cannot hold a lone surrogate: a payment the provider
    made must always be recordable."""
    outcome = answer(200, {"status": "paid", "provider_reference": reference})

    assert outcome == Paid(stored)


def test_a_redirect_is_not_followed_and_is_retryable():
    assert isinstance(answer(301, None, Location="https://elsewhere.example/"), Retryable)


def raising(error: Exception) -> Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return adapter(handler).send(INSTRUCTION)


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")],
)
def test_a_request_that_never_left_is_retryable(error):
    assert isinstance(raising(error), Retryable)


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("reset"),
        httpx.WriteError("broken pipe"),
        httpx.DecodingError("bad gzip"),
    ],
)
def test_a_request_whose_answer_was_lost_is_an_unknown_outcome(error):
    outcome = raising(error)

    assert isinstance(outcome, Unknown)
    assert type(error).__name__ in outcome.reason


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("999999", 999999.0),
        ("Thu, 26 Nov 2026 12:00:30 GMT", 30.0),
        ("soon", None),
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date_never_negative(header, seconds):
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds(header, now=now) == seconds
