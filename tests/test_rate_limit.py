"""PAYOUT_RATE_LIMIT: one count per client across REST and GraphQL; over it, 429 with Retry-After
on both APIs, while other clients and staff sessions go on."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from clients import ratelimit
from clients.ratelimit import MSG_RATE_LIMITED
from payouts.models import Payout
from project.env import env_rate
from tests.conftest import KeyHolder, api_error, payout_payload, post_graphql
from tests.graphql_api.conftest import assert_request_error

LIMIT = (3, 60)
# 15.5 s into a one-minute window: the window ends in 44.5 s, announced as 45.
WINDOW_START = 60.0 * 29_000_000
NOW = WINDOW_START + 15.5
RETRY_AFTER = 45
MESSAGE = MSG_RATE_LIMITED.format(requests=3, unit="minute", wait=RETRY_AFTER)

CREATE = """
mutation {
  createPayout(data: {amount: "5.00", currency: EUR, recipientDetails: {account_number: "X1"}}) {
    __typename
  }
}
"""


class Clock:
    """The time the rate limit reads; tests move it instead of waiting."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(settings, monkeypatch) -> Clock:
    """A limit of 3 requests a minute, at a fixed moment well inside a window."""
    settings.PAYOUT_RATE_LIMIT = LIMIT
    clock = Clock(NOW)
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


def rest(holder: KeyHolder):
    return Client().get("/api/payouts/", headers=holder.headers)


def graphql(holder: KeyHolder):
    return post_graphql("{ payouts { totalCount } }", headers=holder.headers)


def test_the_request_over_the_limit_is_429_with_retry_after_on_rest(clock, owner):
    for _ in range(3):
        assert rest(owner).status_code == 200

    response = Client().post(
        "/api/payouts/", payout_payload(), "application/json", headers=owner.headers
    )

    assert response.status_code == 429
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response.json() == api_error("rate_limited", MESSAGE)
    assert not Payout.objects.exists()


def test_the_request_over_the_limit_is_429_with_retry_after_on_graphql(clock, owner):
    for _ in range(3):
        assert graphql(owner).status_code == 200

    response = post_graphql(CREATE, headers=owner.headers)

    assert_request_error(response, 429, "RATE_LIMITED", MESSAGE)
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert not Payout.objects.exists()


@pytest.mark.parametrize(
    ("seconds_into_window", "retry_after"), [(0.0, 60), (15.5, 45), (59.2, 1), (59.999, 1)]
)
def test_retry_after_counts_whole_seconds_to_the_end_of_the_window(
    clock, owner, seconds_into_window, retry_after
):
    clock.now = WINDOW_START + seconds_into_window
    for _ in range(3):
        rest(owner)

    response = rest(owner)

    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)


def test_both_apis_share_one_count_per_client(clock, owner):
    assert rest(owner).status_code == 200
    assert graphql(owner).status_code == 200
    assert rest(owner).status_code == 200

    assert graphql(owner).status_code == 429
    assert rest(owner).status_code == 429


def test_a_client_at_its_limit_does_not_limit_another(clock, owner, stranger):
    for _ in range(3):
        rest(owner)
    assert rest(owner).status_code == 429

    assert [rest(stranger).status_code for _ in range(2)] == [200, 200]
    assert graphql(stranger).status_code == 200
    assert rest(owner).status_code == 429


def test_requests_go_through_again_once_retry_after_has_passed(clock, owner):
    for _ in range(3):
        rest(owner)
    refused = rest(owner)
    assert refused.status_code == 429

    clock.now += int(refused["Retry-After"])

    assert rest(owner).status_code == 200


def test_nothing_is_limited_without_a_limit(settings, owner):
    settings.PAYOUT_RATE_LIMIT = None

    statuses = {rest(owner).status_code for _ in range(10)}
    statuses |= {graphql(owner).status_code for _ in range(10)}

    assert statuses == {200}


def test_staff_sessions_are_not_limited(clock, admin_client):
    statuses = {admin_client.get("/api/payouts/").status_code for _ in range(5)}
    statuses |= {
        post_graphql("{ payouts { totalCount } }", client=admin_client).status_code
        for _ in range(5)
    }

    assert statuses == {200}


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        ("100/second", (100, 1)),
        ("6000/minute", (6000, 60)),
        ("10/s", (10, 1)),
        ("50/hour", (50, 3600)),
        ("1000/day", (1000, 86400)),
        ("", None),
    ],
)
def test_the_limit_is_read_in_drf_rate_syntax(monkeypatch, value, limit):
    monkeypatch.setenv("PAYOUT_RATE_LIMIT", value)

    assert env_rate("PAYOUT_RATE_LIMIT") == limit


def test_an_unset_limit_is_no_limit(monkeypatch):
    monkeypatch.delenv("PAYOUT_RATE_LIMIT", raising=False)

    assert env_rate("PAYOUT_RATE_LIMIT") is None


@pytest.mark.parametrize("value", ["100", "100/fortnight", "0/second", "-1/second", "x/minute"])
def test_a_malformed_limit_stops_start_up_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("PAYOUT_RATE_LIMIT", value)

    with pytest.raises(ImproperlyConfigured, match="PAYOUT_RATE_LIMIT must look like 100/second"):
        env_rate("PAYOUT_RATE_LIMIT")


def test_requests_go_through_when_redis_cannot_be_reached(clock, settings, owner, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    statuses = [rest(owner).status_code for _ in range(4)]

    assert statuses == [200] * 4
    assert "Rate limit not applied for 10 s: Redis did not answer" in caplog.text


def test_after_redis_fails_it_is_not_asked_again_for_a_while(clock, settings, owner, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    asked = []
    counting = ratelimit._count

    def count(*args):
        asked.append(args)
        return counting(*args)

    monkeypatch.setattr(ratelimit, "_count", count)

    statuses = [rest(owner).status_code for _ in range(4)]

    # A Redis that hangs costs one timeout per retry period, not one per request.
    assert statuses == [200] * 4
    assert len(asked) == 1
