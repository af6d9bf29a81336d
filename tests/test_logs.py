"""Logs: X-Request-ID, the ids that follow a payout into its tasks, the JSON and text formats,
what each attempt says, and account numbers masked wherever input is echoed."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import services, tasks
from payouts.callers import Caller
from payouts.models import Payout
from payouts.providers import Declined, Paid, Retryable
from project.logs import JSON, QueueUnreachable, formatter, mask_account_numbers
from tests.conftest import ROOT, fresh_environment, payout_payload, run_in_fresh_process
from tests.integration.fake_provider import free_port
from tests.processing import run_scheduled
from tests.scripted_provider import ScriptedProvider

ACCOUNT = "DE89370400440532013000"
MASKED = "DE••••3000"
Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    scripted = ScriptedProvider()
    monkeypatch.setattr(tasks, "current_provider", lambda: scripted)
    return scripted


def about(lines: list[dict[str, Any]], payout: Payout) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("payout_id") == str(payout.id)]


def attempt_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "outcome" in line]


def run_attempt(payout: Payout, request_id: str | None = "req-7f3a") -> None:
    """Execute the payout's first attempt as the consumer would, from a message carrying
    `request_id`."""
    HUEY.execute(
        tasks.processing_task(
            payout.id, attempt=1, max_attempts=payout.max_attempts, request_id=request_id
        )
    )


# X-Request-ID


def test_a_response_carries_the_clients_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-2f9c:7/a=b+c@d.e_f-1"})

    assert response["X-Request-ID"] == "lb-2f9c:7/a=b+c@d.e_f-1"


def test_a_response_without_a_request_id_gets_a_new_uuid(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert str(uuid.UUID(first)) == first
    assert first != second


@pytest.mark.parametrize(
    "given", ["", "a" * 129, "two words", 'quote"d', "semi;colon", "<script>", "naïve"]
)
def test_an_unacceptable_request_id_is_replaced_by_a_new_uuid(client, given):
    answered = client.get("/healthz", headers={"X-Request-ID": given})["X-Request-ID"]

    assert str(uuid.UUID(answered)) == answered


def test_an_error_response_carries_the_request_id_too(client):
    response = client.get("/api/payouts/", headers={"X-Request-ID": "req-401"})

    assert response.status_code == 401
    assert response["X-Request-ID"] == "req-401"


# The ids follow a payout


def test_the_web_lines_about_a_created_payout_carry_the_request_and_payout_ids(
    api_client, log_lines, transactional_db
):
    response = api_client.post(
        "/api/payouts/", payout_payload(), format="json", HTTP_X_REQUEST_ID="req-create-1"
    )

    payout = Payout.objects.get(pk=response.json()["id"])
    lines = about(log_lines(), payout)
    created = [line for line in lines if line["event"] == f"Payout {payout.id} created"]
    assert [line["request_id"] for line in created] == ["req-create-1"]
    # Huey runs in-process here: the attempt, run from the message, says the same request.
    assert {line["request_id"] for line in lines} == {"req-create-1"}
    assert [line["outcome"] for line in attempt_lines(lines)] == ["paid"]


def test_a_refused_request_is_logged_with_its_request_id(api_client, log_lines):
    api_client.post("/api/payouts/", {}, format="json", HTTP_X_REQUEST_ID="req-bad-1")

    [line] = [line for line in log_lines() if line["logger"] == "django.request"]
    assert (line["request_id"], line["status_code"], line["level"]) == ("req-bad-1", 400, "warning")


def test_every_line_of_a_task_carries_the_request_id_in_its_message(
    pending_payout, provider, log_lines
):
    run_attempt(pending_payout, request_id="req-7f3a")

    lines = about(log_lines(), pending_payout)
    loggers = {line["logger"] for line in lines}
    assert {"huey", "payouts.logs"} <= loggers  # Huey's "Executing"/"executed" lines too
    assert {line["request_id"] for line in lines} == {"req-7f3a"}


def test_a_retry_keeps_the_request_id_of_the_first_attempt(pending_payout, provider, log_lines):
    provider.script.append(Retryable("HTTP 503"))

    run_attempt(pending_payout, request_id="req-retry-1")

    [retry] = HUEY.scheduled()
    assert retry.kwargs["request_id"] == "req-retry-1"
    run_scheduled()
    outcomes = [(line["attempt"], line["outcome"]) for line in attempt_lines(log_lines())]
    assert outcomes == [(1, "retryable"), (2, "paid")]
    assert {line["request_id"] for line in about(log_lines(), pending_payout)} == {"req-retry-1"}


def test_a_message_from_before_request_ids_is_processed_with_a_new_id(
    pending_payout, provider, log_lines
):
    # The message as it was enqueued before request ids existed.
    HUEY.execute(
        tasks.process_payout.s(
            payout_id=str(pending_payout.id),
            max_attempts=pending_payout.max_attempts,
            retries=pending_payout.max_attempts - 1,
        )
    )

    pending_payout.refresh_from_db()
    assert pending_payout.status == "COMPLETED"
    # All but Huey's "Executing" line, written before the task's context is bound: only a
    # message's own id can be known that early.
    lines = about(log_lines(), pending_payout)[1:]
    assert lines
    [request_id] = {line["request_id"] for line in lines}
    assert str(uuid.UUID(request_id)) == request_id


def stall(payout: Payout) -> None:
    Payout.objects.filter(pk=payout.pk).update(updated_at=timezone.now() - timedelta(hours=1))


def test_the_sweep_names_each_payout_it_takes_back_under_its_own_request_id(
    make_payout, provider, log_lines, transactional_db, monkeypatch
):
    enqueued: list[Any] = []
    monkeypatch.setattr(HUEY, "enqueue", enqueued.append)
    lost = [make_payout(), make_payout()]
    for payout in lost:
        stall(payout)
    enqueued.clear()  # their messages are lost

    HUEY.execute(tasks.recover_stalled_payouts.s())

    sweep = [line for line in log_lines() if line.get("recovery") == "requeued_pending"]
    assert sorted(line["payout_id"] for line in sweep) == sorted(str(p.id) for p in lost)
    assert all(line["level"] == "warning" for line in sweep)
    # One id for the sweep's run, carried by the messages it enqueued.
    [sweep_id] = {line["request_id"] for line in sweep}
    assert [task.kwargs["request_id"] for task in enqueued] == [sweep_id, sweep_id]


# What an attempt says


def test_an_attempt_is_one_line_with_its_number_budget_outcome_and_next_retry_time(
    pending_payout, provider, log_lines
):
    provider.script.append(Retryable("HTTP 503: down", retry_after=30))

    run_attempt(pending_payout)

    [line] = attempt_lines(about(log_lines(), pending_payout))
    assert line["attempt"] == 1
    assert line["max_attempts"] == pending_payout.max_attempts
    assert line["outcome"] == "retryable"
    assert line["next_attempt"] == 2
    assert line["retry_in_seconds"] == 30
    [retry] = HUEY.scheduled()
    due = datetime.fromisoformat(line["next_attempt_at"]).replace(tzinfo=None)
    assert abs((due - retry.eta).total_seconds()) < 1
    assert line["event"].startswith(
        f"Payout {pending_payout.id} attempt 1 of {pending_payout.max_attempts}: retryable"
    )


def test_a_paid_attempt_names_the_provider_reference(pending_payout, provider, log_lines):
    provider.script.append(Paid("pr_77"))

    run_attempt(pending_payout)

    [line] = attempt_lines(about(log_lines(), pending_payout))
    assert (line["outcome"], line["provider_reference"], line["level"]) == ("paid", "pr_77", "info")
    assert "next_attempt_at" not in line


def test_the_move_to_failed_is_a_warning_with_its_failure_code(
    make_payout, provider, settings, log_lines, django_capture_on_commit_callbacks
):
    settings.PAYOUT_MAX_RETRIES = 0
    payout = make_payout()
    provider.script.append(Retryable("HTTP 503"))

    with django_capture_on_commit_callbacks(execute=True):
        run_attempt(payout)

    [failed] = [line for line in log_lines() if line.get("status") == "FAILED"]
    assert (failed["level"], failed["failure_code"]) == ("warning", "provider_unavailable")
    assert failed["payout_id"] == str(payout.id)


def test_a_decline_is_not_an_error_and_has_no_traceback(
    pending_payout, provider, log_lines, django_capture_on_commit_callbacks
):
    provider.script.append(Declined("insufficient_funds", "Not enough money"))

    with django_capture_on_commit_callbacks(execute=True):
        run_attempt(pending_payout)

    lines = log_lines()
    assert [line["level"] for line in lines if line["level"] in ("error", "critical")] == []
    assert [line for line in lines if "exception" in line] == []
    [attempt] = attempt_lines(lines)
    assert (attempt["outcome"], attempt["failure_code"]) == ("declined", "insufficient_funds")
    [failed] = [line for line in lines if line.get("status") == "FAILED"]
    assert (failed["level"], failed["failure_code"]) == ("warning", "insufficient_funds")


# Account numbers


def test_mask_keeps_the_last_four_digits_and_payout_ids_whole():
    payout_id = "12345678-1234-4234-8234-123456789012"

    masked = mask_account_numbers(f"{ACCOUNT}, 1234 5678 9012 {payout_id} 250.00 2026-01-31")

    assert masked == f"{MASKED}, ••••9012 {payout_id} 250.00 2026-01-31"


def test_a_refused_rest_body_is_not_echoed_in_the_log(api_client, log_lines):
    api_client.post("/api/payouts/", payout_payload(amount="-1"), format="json")

    lines = log_lines()
    assert lines
    assert ACCOUNT[2:] not in json.dumps(lines)


# The queue unreachable


def test_an_unreachable_queue_is_one_line_without_traceback_per_back_off(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("project.logs.time.monotonic", lambda: clock[0])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # the service's handler, as LOGGING builds it
    handler.setFormatter(formatter(JSON))
    handler.addFilter(QueueUnreachable())
    try:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1.")
    except redis.exceptions.ConnectionError:
        failure = sys.exc_info()

    def worker_fails() -> None:
        handler.handle(
            logging.makeLogRecord(
                {
                    "name": "huey.consumer.Worker",
                    "levelno": logging.ERROR,
                    "levelname": "ERROR",
                    "msg": "Error reading from queue",
                    "exc_info": failure,
                }
            )
        )

    for _ in range(50):  # every worker's back-off for 5 s
        worker_fails()
        clock[0] += 0.1
    clock[0] += 10
    worker_fails()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    message = "Error reading from queue: ConnectionError: Error 111 connecting to 127.0.0.1:1."
    assert [(line["event"], line["repeats"]) for line in lines] == [(message, 0), (message, 49)]
    assert [line for line in lines if "exception" in line] == []


# Formats and levels, as a service starting afresh reads them

LOG_A_LINE = (
    "import os, logging, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; "
    "django.setup(); logging.getLogger('payouts.logs').warning('Payout %s FAILED', 'p-1'); "
    "logging.getLogger('payouts.logs').debug('a debug line')"
)


def logged(**env: str) -> list[str]:
    result = run_in_fresh_process(LOG_A_LINE, **env)
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def test_lines_are_json_objects_by_default_when_debug_is_off():
    [line] = logged(DEBUG="false")

    parsed = json.loads(line)
    assert parsed["event"] == "Payout p-1 FAILED"
    assert (parsed["level"], parsed["logger"]) == ("warning", "payouts.logs")
    assert parsed["timestamp"].endswith("Z")


def test_lines_are_text_for_people_when_debug_is_on():
    [line] = logged(DEBUG="true")

    assert "Payout p-1 FAILED" in line
    assert "warning" in line
    assert not line.startswith("{")


@pytest.mark.parametrize(("debug", "log_format"), [("true", "json"), ("false", "text")])
def test_log_format_chooses_whatever_debug_says(debug, log_format):
    [line] = logged(DEBUG=debug, LOG_FORMAT=log_format)

    assert line.startswith("{") == (log_format == "json")


def test_a_lower_case_log_level_works():
    lines = logged(LOG_LEVEL="debug")

    ours = [json.loads(line) for line in lines if '"payouts.logs"' in line]
    assert [line["event"] for line in ours] == ["Payout p-1 FAILED", "a debug line"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be json or text, got 'xml'."),
        (
            "LOG_LEVEL",
            "loud",
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (in any case), "
            "got 'loud'.",
        ),
    ],
)
def test_a_bad_log_setting_is_refused_naming_the_variable(variable, value, message):
    result = run_in_fresh_process(LOG_A_LINE, **{variable: value})

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_a_stats_database_that_cannot_be_reached_is_one_line_at_start_up():
    closed = f"postgres://postgres@127.0.0.1:{free_port()}/payouts"

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=fresh_environment(DATABASE_URL=closed, LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert line["event"].startswith("huey stats recorder failed to start: OperationalError")


def delete_then_fail(payout_id: uuid.UUID) -> None:
    with transaction.atomic():
        services.payout_delete(Caller.for_staff("ops"), payout_id)
        raise RuntimeError("the request failed after the delete")


def test_a_change_that_rolls_back_is_not_logged(pending_payout, log_lines):
    with pytest.raises(RuntimeError):
        delete_then_fail(pending_payout.id)

    assert [line for line in log_lines() if "deleted" in line["event"]] == []
    assert Payout.objects.filter(pk=pending_payout.pk, deleted_at__isnull=True).exists()
