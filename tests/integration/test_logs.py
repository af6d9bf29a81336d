"""Logs of the real processes: a request's id in the consumer's line for its payout's attempt,
and a consumer that cannot reach Redis saying so in a line per back-off, not in tracebacks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from payouts.models import Payout, PayoutStatus
from tests.conftest import payout_payload
from tests.integration.conftest import service_environment, wait_until
from tests.integration.live_server import Gunicorn

DEAD_REDIS = "redis://127.0.0.1:1/0"


def json_lines(output: str) -> list[dict[str, Any]]:
    """Every line of a process's output, each of which must be one JSON object."""
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture
def gunicorn(tmp_path: Any, owner: Any, transactional_db: None, queue: Any) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path / "gunicorn.log")
    server.start(service_environment(SECURE_SSL_REDIRECT="false"))
    yield server
    server.stop()


def test_the_consumers_attempt_line_carries_the_request_id_of_the_create(
    gunicorn, start_consumer, owner
):
    consumer = start_consumer(workers=2)

    answer = gunicorn.request(
        "POST",
        "/api/payouts/",
        payout_payload(),
        headers={"Authorization": owner.authorization, "X-Request-ID": "it-logs-42"},
    )

    assert answer.status == 201
    assert answer.headers["X-Request-ID"] == "it-logs-42"
    payout_id = answer.json()["id"]
    assert wait_until(
        lambda: Payout.objects.get(pk=payout_id).status == PayoutStatus.COMPLETED, timeout=30
    ), consumer.output()
    attempts = [
        line
        for line in json_lines(consumer.output())
        if line.get("payout_id") == payout_id and "outcome" in line
    ]
    assert [(line["outcome"], line["request_id"]) for line in attempts] == [("paid", "it-logs-42")]
    web = [line for line in json_lines(gunicorn.output()) if line.get("request_id") == "it-logs-42"]
    assert {line["logger"] for line in web} == {"payouts.logs", "project.access"}
    assert any(line.get("payout_id") == payout_id for line in web)
    [access] = [line for line in web if line["logger"] == "project.access"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/api/payouts/", 201)
    assert isinstance(access["duration_ms"], int)


def test_a_consumer_that_cannot_reach_redis_logs_a_line_per_back_off_without_tracebacks(
    start_consumer,
):
    consumer = start_consumer(workers=8, REDIS_URL=DEAD_REDIS)

    assert wait_until(lambda: "Error reading from queue" in consumer.output(), timeout=30), (
        consumer.output()
    )
    # The rate is what is tested: Huey's 8 workers retry from 0.1 s apart, its scheduler every
    # second, so these seconds gave over 100 tracebacks before.
    time.sleep(5)
    consumer.stop()

    output = consumer.output()
    assert "Traceback" not in output
    errors = [line for line in json_lines(output) if line["level"] == "error"]
    assert 2 <= len(errors) <= 6, errors
    assert all("Connection refused" in line["event"] for line in errors)
