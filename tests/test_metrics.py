"""/metrics over HTTP: request metrics, the payout gauges, the token; the consumer's metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from payouts import heartbeats, metrics, tasks
from payouts.metrics import worker_metrics
from payouts.models import ConsumerHeartbeat, Payout, PayoutStatus
from payouts.providers import Declined, Retryable
from tests.conftest import run_in_fresh_process
from tests.processing import run_task
from tests.scraping import gets_by_method, scrape, value
from tests.scripted_provider import ScriptedProvider

TOKEN = "s3cret-metrics-token"


def test_metrics_answers_in_prometheus_text_format(client, db):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE payout_queue_depth gauge" in response.content


def test_requests_are_counted_by_django_prometheus(client, db):
    before = gets_by_method(scrape(client))

    client.get("/healthz")
    client.get("/healthz")

    # The two probes, and the scrape that read `before`: each scrape counts once, as it ends.
    assert gets_by_method(scrape(client)) == before + 3


def test_payout_count_counts_live_payouts_by_status(client, make_payout):
    make_payout()
    make_payout()
    make_payout(PayoutStatus.PROCESSING)
    make_payout(PayoutStatus.COMPLETED)
    make_payout(PayoutStatus.FAILED)
    deleted = make_payout()
    Payout.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())

    samples = scrape(client)

    assert {status: value(samples, "payout_count", status=status) for status in PayoutStatus} == {
        "PENDING": 2,
        "PROCESSING": 1,
        "COMPLETED": 1,
        "FAILED": 1,
    }


@pytest.fixture
def real_queue() -> Iterator[None]:
    """Huey's configured storage (SQLite's file, or Redis) instead of immediate mode's memory."""
    HUEY.immediate = False
    HUEY.flush()
    yield
    HUEY.flush()
    HUEY.immediate = True


def test_queue_depth_counts_tasks_waiting_for_a_worker(
    client, make_payout, real_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_payout()
        make_payout()

    assert value(scrape(client), "payout_queue_depth") == 2


def test_queue_depth_is_zero_when_nothing_waits(client, db, real_queue):
    assert value(scrape(client), "payout_queue_depth") == 0


def test_oldest_pending_age_is_that_of_the_oldest_pending_payout(client, make_payout):
    older = make_payout()
    make_payout()
    finished = make_payout(PayoutStatus.COMPLETED)
    now = timezone.now()
    Payout.objects.filter(pk=older.pk).update(created_at=now - timedelta(seconds=90))
    Payout.objects.filter(pk=finished.pk).update(created_at=now - timedelta(hours=5))

    age = value(scrape(client), "payout_oldest_pending_age_seconds")

    assert age is not None
    assert 90 <= age < 120


def test_oldest_pending_age_is_zero_when_no_payout_waits(client, make_payout):
    make_payout(PayoutStatus.COMPLETED)

    assert value(scrape(client), "payout_oldest_pending_age_seconds") == 0


def test_workers_alive_counts_unexpired_consumer_heartbeats(client, db):
    heartbeats.heartbeat_beat("host:1:aaaa")
    heartbeats.heartbeat_beat("host:2:bbbb")
    ConsumerHeartbeat.objects.create(
        consumer="host:3:gone", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert value(scrape(client), "payout_workers_alive") == 2


def test_workers_alive_is_zero_with_no_consumer(client, db):
    assert value(scrape(client), "payout_workers_alive") == 0


def test_a_consumer_that_stops_is_no_longer_alive(client, db):
    heartbeats.heartbeat_beat("host:1:aaaa")

    heartbeats.heartbeat_forget("host:1:aaaa")

    assert value(scrape(client), "payout_workers_alive") == 0


def test_a_gauge_whose_source_is_down_is_left_out_and_the_rest_still_served(
    client, make_payout, monkeypatch
):
    def redis_down() -> int:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    make_payout()
    monkeypatch.setattr(HUEY, "pending_count", redis_down)

    samples = scrape(client)

    assert value(samples, "payout_queue_depth") is None
    assert value(samples, "payout_count", status="PENDING") == 1
    assert value(samples, "payout_workers_alive") == 0


def test_metrics_needs_no_api_key_whatever_authorization_comes(client, db):
    response = client.get("/metrics", headers={"Authorization": "Bearer not-a-key"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Token {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
    ids=["no header", "wrong token", "wrong scheme", "longer token", "no token"],
)
def test_metrics_token_refuses_a_request_without_it(client, db, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"payout_" not in response.content


def test_metrics_token_admits_the_bearer_of_it(client, db, settings):
    settings.METRICS_TOKEN = TOKEN

    samples = scrape(client, Authorization=f"Bearer {TOKEN}")

    assert value(samples, "payout_workers_alive") == 0


def test_metrics_is_served_over_plain_http_when_https_is_required(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/metrics")

    assert response.status_code == 200


def attempts(outcome: str) -> float:
    return (
        worker_metrics().registry.get_sample_value("payout_attempts_total", {"outcome": outcome})
        or 0.0
    )


def processing_runs() -> float:
    return (
        worker_metrics().registry.get_sample_value("payout_processing_duration_seconds_count")
        or 0.0
    )


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    scripted = ScriptedProvider()
    monkeypatch.setattr(tasks, "current_provider", lambda: scripted)
    return scripted


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (None, "paid"),
        (Declined("insufficient_funds", "Not enough money"), "declined"),
        (Retryable("HTTP 503"), "retryable"),
    ],
)
def test_each_attempt_counts_its_outcome_and_times_its_run(make_payout, provider, answer, outcome):
    if answer is not None:
        provider.script.append(answer)
    payout = make_payout()
    counted, runs = attempts(outcome), processing_runs()

    run_task(payout)

    assert attempts(outcome) == counted + 1
    assert processing_runs() == runs + 1


def test_a_payout_is_paid_even_when_its_metrics_cannot_be_recorded(
    make_payout, provider, monkeypatch
):
    def broken() -> None:
        raise FileNotFoundError("PROMETHEUS_MULTIPROC_DIR: no such directory")

    monkeypatch.setattr(metrics, "worker_metrics", broken)
    payout = make_payout()

    run_task(payout)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.COMPLETED
    assert len(provider.calls) == 1


def test_a_run_that_claims_nothing_is_not_timed(make_payout, provider):
    payout = make_payout(PayoutStatus.COMPLETED)
    runs = processing_runs()

    run_task(payout)

    assert processing_runs() == runs
    assert provider.calls == []


@pytest.mark.parametrize(
    "port",
    ["metrics", "0", "65536", "-1", "9100.5"],
)
def test_a_bad_worker_metrics_port_stops_start_up_naming_it(port):
    result = run_in_fresh_process("import project.settings", WORKER_METRICS_PORT=port)

    assert result.returncode != 0
    assert (
        f"ImproperlyConfigured: WORKER_METRICS_PORT must be a port number from 1 to 65535, "
        f"got {port!r}." in result.stderr
    )
