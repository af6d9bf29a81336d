"""The fake provider over real HTTP: Provider HTTP contract v1, its scripts, rates and ledger."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable

import aiohttp
import httpx
import pytest

from fake_provider.server import DECLINE_CODES, Config
from tests.fake_provider.conftest import new_key, payout_body, post_payout

NOTHING = {
    "requests": 0,
    "paid": 0,
    "declined": 0,
    "errors": 0,
    "timeouts": 0,
    "drops": 0,
    "conflicts": 0,
    "rejected": 0,
    "replays": 0,
}


def ledger(client: httpx.Client) -> dict:
    answer = client.get("/ledger")
    assert answer.status_code == 200
    return answer.json()


def totals(**counts: int) -> dict[str, int]:
    return {**NOTHING, **counts}


def wait_for_ledger(client: httpx.Client, holds: Callable[[dict], bool]) -> None:
    deadline = time.monotonic() + 5
    while not holds(ledger(client)):
        assert time.monotonic() < deadline, "the ledger never came to hold it"
        time.sleep(0.01)


def test_a_payout_is_paid_and_its_repeat_replays_the_same_reference(provider):
    key = new_key()

    first = post_payout(provider, key)
    repeat = post_payout(provider, key, attempt=2)

    assert first.status_code == 201
    assert first.json()["status"] == "paid"
    assert first.json()["provider_reference"].startswith("fp_")
    assert "Idempotent-Replayed" not in first.headers
    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert ledger(provider) == {
        "payouts": {
            key: {
                "status": "paid",
                "provider_reference": first.json()["provider_reference"],
                "code": None,
                "amount": "10.00",
                "currency": "EUR",
                "requests": 2,
                "repeats": 1,
                "paid_count": 1,
            }
        },
        "undecided": {},
        "totals": totals(requests=2, paid=1, replays=1),
    }


def test_each_payout_gets_its_own_reference(provider):
    references = {post_payout(provider, new_key()).json()["provider_reference"] for _ in range(5)}

    assert len(references) == 5


def test_a_scripted_decline_answers_422_with_its_code_and_replays_it(provider):
    key = new_key()

    first = post_payout(provider, key, "fake:declined:account_closed")
    repeat = post_payout(provider, key, "fake:declined:account_closed")

    assert first.status_code == 422
    assert first.json() == {
        "status": "declined",
        "code": "account_closed",
        "message": DECLINE_CODES["account_closed"],
    }
    assert (repeat.status_code, repeat.json()) == (422, first.json())
    assert repeat.headers["Idempotent-Replayed"] == "true"
    recorded = ledger(provider)["payouts"][key]
    assert recorded["status"] == "declined"
    assert recorded["code"] == "account_closed"
    assert recorded["provider_reference"] is None
    assert recorded["paid_count"] == 0


def test_declined_without_a_code_declines_for_insufficient_funds(provider):
    answer = post_payout(provider, new_key(), "fake:declined")

    assert answer.status_code == 422
    assert answer.json()["code"] == "insufficient_funds"


@pytest.mark.parametrize(
    ("word", "status", "body", "retry_after", "tally"),
    [
        ("rejected", 400, {"status": "rejected", "code": "account_blocked"}, None, "rejected"),
        ("forbidden", 403, {"status": "rejected", "code": "forbidden"}, None, "rejected"),
        ("conflict", 409, {"status": "in_progress"}, None, "conflicts"),
        ("rate_limited", 429, {"status": "error", "code": "rate_limited"}, "1", "errors"),
        ("error", 503, {"status": "error"}, "1", "errors"),
        ("error500", 500, {"status": "error"}, None, "errors"),
    ],
)
def test_a_scripted_refusal_answers_its_status_and_decides_nothing(
    provider, word, status, body, retry_after, tally
):
    key = new_key()

    answer = post_payout(provider, key, f"fake:{word}")

    assert answer.status_code == status
    assert {name: answer.json()[name] for name in body} == body
    assert answer.json()["message"]
    assert answer.headers.get("Retry-After") == retry_after
    assert ledger(provider)["payouts"] == {}
    assert ledger(provider)["undecided"] == {key: {"requests": 1}}
    assert ledger(provider)["totals"] == totals(requests=1, **{tally: 1})


def test_a_script_runs_in_order_and_its_last_word_repeats(provider):
    key = new_key()
    script = "fake:error,rate_limited,error500"

    statuses = [post_payout(provider, key, script).status_code for _ in range(5)]

    assert statuses == [503, 429, 500, 500, 500]


def test_error_drop_paid_fails_then_pays_and_drops_then_replays_paid(provider):
    key = new_key()
    script = "fake:error,drop,paid"

    first = post_payout(provider, key, script)
    with pytest.raises(httpx.RemoteProtocolError):
        post_payout(provider, key, script)
    third = post_payout(provider, key, script)

    assert first.status_code == 503
    reference = ledger(provider)["payouts"][key]["provider_reference"]
    assert (third.status_code, third.json()) == (
        200,
        {"status": "paid", "provider_reference": reference},
    )
    assert ledger(provider)["payouts"][key]["paid_count"] == 1


def test_a_decided_key_replays_before_its_script_goes_on(provider):
    key = new_key()

    post_payout(provider, key, "fake:paid,error")
    repeat = post_payout(provider, key, "fake:paid,error")

    assert repeat.status_code == 200


@pytest.mark.parametrize(
    "account", ["fake:paid,bogus", "fake:", "fake:declined:broke", "fake:paid:1"]
)
def test_an_unknown_script_word_is_refused_by_name(provider, account):
    answer = post_payout(provider, new_key(), account)

    word = account.removeprefix("fake:").split(",")[-1]
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "rejected",
        "code": "invalid_request",
        "message": f"Unknown fake: script word {word!r}.",
    }
    assert ledger(provider)["undecided"] == {}


def test_a_request_while_the_first_is_in_flight_gets_409(start_provider):
    provider = start_provider(latency=0.5)
    key = new_key()
    first: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: first.append(post_payout(provider, key)))
    waiting.start()
    # The provider takes the key in hand before it waits out the latency.
    wait_for_ledger(provider, lambda seen: key in seen["undecided"])

    second = post_payout(provider, key)
    waiting.join()

    assert second.status_code == 409
    assert second.json()["status"] == "in_progress"
    assert second.json()["message"]
    assert first[0].status_code == 201
    assert ledger(provider)["payouts"][key]["paid_count"] == 1
    assert ledger(provider)["totals"]["conflicts"] == 1


def test_a_payout_whose_client_gave_up_during_latency_is_still_paid(start_provider):
    provider = start_provider(latency=0.3)
    key = new_key()

    with pytest.raises(httpx.ReadTimeout):
        provider.post(
            "/payouts", json=payout_body(key), headers={"Idempotency-Key": key}, timeout=0.1
        )
    wait_for_ledger(provider, lambda seen: key in seen["payouts"])
    retry = post_payout(provider, key, attempt=2)

    assert retry.status_code == 200
    assert (
        retry.json()["provider_reference"]
        == (ledger(provider)["payouts"][key]["provider_reference"])
    )


def test_a_burst_of_one_key_pays_once(start_provider):
    provider = start_provider(latency=0.2)
    key = new_key()

    async def burst() -> list[int]:
        url = str(provider.base_url)
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/payouts", json=payout_body(key), headers={"Idempotency-Key": key})
                    for _ in range(50)
                )
            )
        return sorted(answer.status_code for answer in answers)

    assert asyncio.run(burst()) == [201] + [409] * 49
    assert ledger(provider)["payouts"][key]["paid_count"] == 1


def test_a_timeout_hangs_past_the_client_and_pays_nothing(start_provider):
    provider = start_provider(hang_seconds=0.5)
    key = new_key()

    with pytest.raises(httpx.ReadTimeout):
        provider.post(
            "/payouts",
            json=payout_body(key, "fake:timeout,paid"),
            headers={"Idempotency-Key": key},
            timeout=0.2,
        )
    retry_while_hanging = post_payout(provider, key, "fake:timeout,paid")

    assert retry_while_hanging.status_code == 409
    assert ledger(provider)["payouts"] == {}
    assert ledger(provider)["undecided"] == {key: {"requests": 2}}
    assert ledger(provider)["totals"] == totals(requests=2, timeouts=1, conflicts=1)


def test_a_timeout_closes_the_connection_after_hanging_and_the_key_stays_open(start_provider):
    provider = start_provider(hang_seconds=0.3)
    key = new_key()
    started = time.monotonic()

    with pytest.raises(httpx.RemoteProtocolError):
        post_payout(provider, key, "fake:timeout,paid")
    hung = time.monotonic() - started
    retry = post_payout(provider, key, "fake:timeout,paid")

    assert hung >= 0.3
    assert retry.status_code == 201


def test_a_drop_pays_once_and_the_retry_replays_the_same_reference(start_provider):
    provider = start_provider(drop_rate=1)
    key = new_key()

    with pytest.raises(httpx.RemoteProtocolError):
        post_payout(provider, key)
    paid = ledger(provider)["payouts"][key]
    retry = post_payout(provider, key, attempt=2)

    assert paid["status"] == "paid"
    assert paid["paid_count"] == 1
    assert retry.status_code == 200
    assert retry.json() == {"status": "paid", "provider_reference": paid["provider_reference"]}
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert ledger(provider)["payouts"][key]["paid_count"] == 1
    assert ledger(provider)["totals"] == totals(requests=2, paid=1, drops=1, replays=1)


def test_drop_unpaid_closes_the_connection_without_paying(provider):
    key = new_key()

    with pytest.raises(httpx.RemoteProtocolError):
        post_payout(provider, key, "fake:drop_unpaid,paid")
    retry = post_payout(provider, key, "fake:drop_unpaid,paid")

    assert retry.status_code == 201
    assert ledger(provider)["payouts"][key]["paid_count"] == 1
    assert ledger(provider)["totals"]["drops"] == 1


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "s3cret", "Basic s3cret"])
def test_a_request_without_the_token_is_refused_401(start_provider, authorization):
    provider = start_provider(token="s3cret")
    key = new_key()
    headers = {"Idempotency-Key": key}
    if authorization:
        headers["Authorization"] = authorization

    answer = provider.post("/payouts", json=payout_body(key), headers=headers)

    assert answer.status_code == 401
    assert answer.json()["status"] == "rejected"
    assert answer.json()["code"] == "unauthorized"
    assert ledger(provider)["undecided"] == {}
    assert ledger(provider)["totals"] == totals(requests=1, rejected=1)


def test_a_request_with_the_token_is_paid(start_provider):
    provider = start_provider(token="s3cret")
    key = new_key()

    answer = provider.post(
        "/payouts",
        json=payout_body(key),
        headers={"Idempotency-Key": key, "Authorization": "Bearer s3cret"},
    )

    assert answer.status_code == 201


AMOUNT = 'amount must be a string holding a positive decimal, like "12.50".'


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"payout_id": "another"},
            "payout_id must be a string equal to the Idempotency-Key header.",
        ),
        ({"amount": 10}, AMOUNT),
        ({"amount": "0.00"}, AMOUNT),
        ({"amount": "-1"}, AMOUNT),
        ({"amount": "1e3"}, AMOUNT),
        ({"amount": "NaN"}, AMOUNT),
        ({"currency": "eur"}, "currency must be three uppercase letters."),
        ({"currency": "EURO"}, "currency must be three uppercase letters."),
        ({"recipient": "Ada"}, "recipient must be an object."),
        ({"attempt": 0}, "attempt must be an integer of at least 1."),
        ({"attempt": "1"}, "attempt must be an integer of at least 1."),
        ({"attempt": True}, "attempt must be an integer of at least 1."),
        ({"attempt": None}, "attempt must be an integer of at least 1."),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_400(provider, changes, message):
    key = new_key()

    answer = post_payout(provider, key, **changes)

    assert answer.status_code == 400
    assert answer.json() == {"status": "rejected", "code": "invalid_request", "message": message}
    assert ledger(provider)["undecided"] == {}
    assert ledger(provider)["totals"] == totals(requests=1, rejected=1)


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b"{}", {"Content-Type": "application/json"}, "The Idempotency-Key header is required."),
        (b"{", {"Idempotency-Key": "k"}, "The body is not valid JSON."),
        (b"[]", {"Idempotency-Key": "k"}, "The body must be a JSON object."),
        (
            b"{}",
            {"Idempotency-Key": "k", "Content-Type": "text/plain"},
            "The Content-Type must be application/json.",
        ),
    ],
)
def test_a_request_that_is_not_a_payout_is_refused_400(provider, content, headers, message):
    answer = provider.post(
        "/payouts", content=content, headers={"Content-Type": "application/json", **headers}
    )

    assert answer.status_code == 400
    assert answer.json() == {"status": "rejected", "code": "invalid_request", "message": message}


@pytest.mark.parametrize(
    "changes",
    [{"amount": "10.01"}, {"currency": "USD"}, {"recipient": {"name": "Bob"}}],
)
def test_a_key_reused_for_another_payout_is_refused_400(provider, changes):
    key = new_key()
    first = post_payout(provider, key)

    reused = post_payout(provider, key, **changes)

    assert reused.status_code == 400
    assert reused.json()["code"] == "idempotency_key_reused"
    assert reused.json()["status"] == "rejected"
    assert (
        ledger(provider)["payouts"][key]["provider_reference"]
        == (first.json()["provider_reference"])
    )


def test_the_same_amount_written_differently_is_the_same_payout(provider):
    key = new_key()
    post_payout(provider, key, amount="10.00")

    repeat = post_payout(provider, key, amount="10.0")

    assert repeat.status_code == 200


def test_an_error_rate_of_one_answers_every_request_503_with_retry_after(start_provider):
    provider = start_provider(error_rate=1, retry_after=7)

    answers = [post_payout(provider, new_key()) for _ in range(5)]

    assert {answer.status_code for answer in answers} == {503}
    assert {answer.headers["Retry-After"] for answer in answers} == {"7"}
    assert ledger(provider)["payouts"] == {}


def test_a_decline_rate_of_one_declines_with_the_contracts_codes(start_provider):
    provider = start_provider(decline_rate=1, seed=1)

    answers = [post_payout(provider, new_key()) for _ in range(20)]

    assert {answer.status_code for answer in answers} == {422}
    assert {answer.json()["code"] for answer in answers} == set(DECLINE_CODES)


def test_seeded_rates_give_the_same_mix_every_run(start_provider):
    rates = {"error_rate": 0.25, "decline_rate": 0.25, "drop_rate": 0.25, "seed": 42}

    def outcomes() -> list[int | str]:
        provider = start_provider(**rates)
        seen: list[int | str] = []
        for _ in range(40):
            try:
                seen.append(post_payout(provider, new_key()).status_code)
            except httpx.RemoteProtocolError:
                seen.append("dropped")
        return seen

    first = outcomes()

    assert outcomes() == first
    assert set(first) == {201, 422, 503, "dropped"}


def test_the_rates_may_not_add_up_to_more_than_one():
    with pytest.raises(
        ValueError, match=re.escape("The rates add up to 1.2; they must not exceed 1.")
    ):
        Config(error_rate=0.7, decline_rate=0.5)


def test_rates_that_add_up_to_exactly_one_are_accepted():
    Config(error_rate=0.1, timeout_rate=0.2, decline_rate=0.3, drop_rate=0.4)


def test_latency_delays_the_decision(start_provider):
    provider = start_provider(latency=0.3)
    started = time.monotonic()

    answer = post_payout(provider, new_key())

    assert answer.status_code == 201
    assert time.monotonic() - started >= 0.3


def test_five_hundred_payouts_wait_out_their_latency_together(start_provider):
    provider = start_provider(latency=1)
    keys = [new_key() for _ in range(500)]

    # aiohttp's client, not httpx's: httpx's pool alone spends about 9 s on 500 connections.
    async def pay(session: aiohttp.ClientSession, key: str) -> int:
        headers = {"Idempotency-Key": key}
        async with session.post("/payouts", json=payout_body(key), headers=headers) as answer:
            return answer.status

    async def pay_all() -> list[int]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(str(provider.base_url), connector=connector) as session:
            return await asyncio.gather(*(pay(session, key) for key in keys))

    started = time.monotonic()
    statuses = asyncio.run(pay_all())
    elapsed = time.monotonic() - started

    assert statuses == [201] * 500
    # Served in turn they would take 500 s; by a pool of 100 threads, 5 s.
    assert elapsed < 3
    assert len(ledger(provider)["payouts"]) == 500


def test_deleting_the_ledger_forgets_every_key(provider):
    key = new_key()
    post_payout(provider, key)

    cleared = provider.delete("/ledger")

    assert cleared.status_code == 200
    assert ledger(provider) == {"payouts": {}, "undecided": {}, "totals": NOTHING}
    assert post_payout(provider, key).status_code == 201


def test_healthz_answers_200(provider):
    answer = provider.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_an_unknown_path_answers_404_json(provider):
    answer = provider.get("/payouts/123")

    assert answer.status_code == 404
    assert answer.json() == {
        "status": "rejected",
        "code": "not_found",
        "message": "There is no GET /payouts/123 here.",
    }


def test_a_wrong_method_answers_405_json_with_allow(provider):
    answer = provider.get("/payouts")

    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.json() == {
        "status": "rejected",
        "code": "method_not_allowed",
        "message": "There is no GET /payouts here.",
    }
