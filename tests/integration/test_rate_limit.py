"""The rate limit counted in the real Redis: one count per client, shared by every web process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.test import Client

from clients import ratelimit
from tests.conftest import run_in_fresh_process

# A day's window: a test never straddles two windows, though the other process keeps real time.
LIMIT = (3, 86400)

COUNT_IN_ANOTHER_PROCESS = """
import django, json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
django.setup()
from clients import ratelimit
from clients.models import Client
from payouts.callers import Caller
caller = Caller.for_key(Client(pk={pk}, name="acme"), "prefix00")
print(json.dumps([ratelimit.retry_after(caller) for _ in range({requests})]))
"""


@pytest.fixture
def redis_counts(settings) -> Iterator[redis.Redis]:
    """The Redis counters, none before the test and none left after it: a new test database
    hands out the same client pks again."""
    settings.PAYOUT_RATE_LIMIT = LIMIT
    store = redis.Redis.from_url(settings.REDIS_URL)

    def clear() -> None:
        for key in store.scan_iter(f"{ratelimit.KEY_PREFIX}:*"):
            store.delete(key)

    clear()
    yield store
    clear()


def another_web_process_serves(owner, requests: int) -> list[int | None]:
    """What `requests` requests of the owner's client cost in a separate process's limit."""
    code = COUNT_IN_ANOTHER_PROCESS.format(pk=owner.client.pk, requests=requests)
    result = run_in_fresh_process(
        code, REDIS_URL=str(settings.REDIS_URL), PAYOUT_RATE_LIMIT="3/day", DEBUG="true"
    )
    assert result.returncode == 0, result.stderr
    waits: list[int | None] = json.loads(result.stdout.strip().splitlines()[-1])
    return waits


def test_requests_counted_by_another_web_process_count_for_the_client(redis_counts, owner):
    assert another_web_process_serves(owner, 3) == [None, None, None]

    response = Client().get("/api/payouts/", headers=owner.headers)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= LIMIT[1]


def test_each_clients_count_is_one_redis_key_that_expires_with_its_window(redis_counts, owner):
    for _ in range(2):
        assert Client().get("/api/payouts/", headers=owner.headers).status_code == 200

    keys = [key.decode() for key in redis_counts.scan_iter(f"{ratelimit.KEY_PREFIX}:*")]
    [key] = keys
    assert key.startswith(f"{ratelimit.KEY_PREFIX}:{owner.client.pk}:")
    assert int(redis_counts.get(key) or 0) == 2
    assert 0 < redis_counts.ttl(key) <= LIMIT[1] + 1
