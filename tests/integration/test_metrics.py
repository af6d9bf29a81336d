"""Metrics from real processes: gunicorn's workers summed, consumers' heartbeats and own port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
from collections.abc import Iterator
from functools import partial

import pytest
from django.test import Client

from payouts.models import Payout, PayoutStatus
from tests.integration.conftest import service_environment, wait_until
from tests.integration.live_server import Gunicorn
from tests.integration.test_processing import create_payouts
from tests.scraping import Samples, gets_by_method, parse, scrape, value

REQUESTS = 10
# Requests after each of which a worker is stopped and replaced.
RECYCLED_REQUESTS = 4
# This suite's own ports for consumers' metrics.
THREAD_CONSUMER_PORT = 9150
GREENLET_CONSUMER_PORT = 9151
BUSY_PORT = 9152
HEARTBEAT_SECONDS = "0.5"


@pytest.fixture
def gunicorn(tmp_path, transactional_db, queue) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path / "gunicorn.log")
    yield server
    server.stop()


def test_request_metrics_are_summed_over_every_gunicorn_worker(gunicorn):
    # After each request a worker is stopped and gunicorn starts another, so the requests, and
    # the scrapes, are answered by processes of which some are gone: a scrape reports them all
    # only if the workers' metrics are summed, those of workers gone included. Nothing else
    # about metrics is set: the Procfile's command must work as it is.
    gunicorn.start(service_environment(), workers=2)
    first_workers = gunicorn.workers()
    before = gets_by_method(served_samples(gunicorn))

    for _ in range(RECYCLED_REQUESTS):
        assert gunicorn.request("GET", "/healthz").status == 200
        oldest = min(gunicorn.workers())
        os.kill(oldest, signal.SIGTERM)
        assert wait_until(partial(gone, gunicorn, oldest), timeout=30)

    assert gets_by_method(served_samples(gunicorn)) == before + RECYCLED_REQUESTS + 1
    assert not set(first_workers) & set(gunicorn.workers())


def gone(gunicorn: Gunicorn, worker: int) -> bool:
    return worker not in gunicorn.workers()


def test_gunicorn_removes_the_metrics_directory_it_made_when_it_stops(gunicorn, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    gunicorn.start(service_environment(TMPDIR=str(temporary)), workers=2)
    [made] = temporary.iterdir()
    assert list(made.glob("*.db")), "the workers write no metrics files"

    gunicorn.stop()

    assert list(temporary.iterdir()) == []


def test_gunicorn_counts_afresh_in_a_metrics_directory_it_is_given(gunicorn, tmp_path):
    directory = tmp_path / "metrics"
    env = service_environment(PROMETHEUS_MULTIPROC_DIR=str(directory))
    gunicorn.start(env, workers=2)
    for _ in range(REQUESTS):
        gunicorn.request("GET", "/healthz")
    assert gets_by_method(served_samples(gunicorn)) > REQUESTS
    gunicorn.stop()

    gunicorn.start(env, workers=2)

    # Only the new run's start-up checks and this scrape: the first run's files were cleared.
    assert gets_by_method(served_samples(gunicorn)) < REQUESTS
    assert directory.is_dir()


def served_samples(gunicorn: Gunicorn) -> Samples:
    answer = gunicorn.request("GET", "/metrics")
    assert answer.status == 200, answer.body
    return parse(answer.body.decode())


def workers_alive() -> float | None:
    return value(scrape(Client()), "payout_workers_alive")


@pytest.mark.parametrize("worker_type", ["thread", "greenlet"])
def test_workers_alive_counts_a_consumer_while_it_runs(start_consumer, worker_type):
    assert workers_alive() == 0

    consumer = start_consumer(
        workers=2, HUEY_WORKER_TYPE=worker_type, PAYOUT_WORKER_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS
    )
    assert wait_until(lambda: workers_alive() == 1, timeout=30), consumer.output()[-3000:]

    consumer.stop()
    assert workers_alive() == 0, consumer.output()[-3000:]


def test_a_consumer_killed_outright_stops_counting_once_its_heartbeat_expires(start_consumer):
    consumer = start_consumer(workers=2, PAYOUT_WORKER_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS)
    assert wait_until(lambda: workers_alive() == 1, timeout=30), consumer.output()[-3000:]

    consumer.stop(signal.SIGKILL)

    # Three beats of 0.5 s: the heartbeat it wrote last expires within 1.5 s.
    assert wait_until(lambda: workers_alive() == 0, timeout=5)


def test_two_consumers_count_as_two(start_consumer):
    for _ in range(2):
        start_consumer(workers=1, PAYOUT_WORKER_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS)

    assert wait_until(lambda: workers_alive() == 2, timeout=30)


def worker_samples(port: int) -> Samples:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        body = connection.getresponse().read().decode()
    finally:
        connection.close()
    return parse(body)


def serves(port: int) -> bool:
    try:
        worker_samples(port)
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("worker_type", "port"),
    [("thread", THREAD_CONSUMER_PORT), ("greenlet", GREENLET_CONSUMER_PORT)],
)
def test_a_consumer_serves_its_attempt_metrics_on_worker_metrics_port(
    api_client, start_consumer, worker_type, port
):
    consumer = start_consumer(workers=4, HUEY_WORKER_TYPE=worker_type, WORKER_METRICS_PORT=port)
    assert wait_until(lambda: serves(port), timeout=30), consumer.output()[-3000:]

    ids = create_payouts(api_client, 3)
    done = wait_until(
        lambda: (
            set(Payout.objects.filter(pk__in=ids).values_list("status", flat=True))
            == {PayoutStatus.COMPLETED}
        ),
        timeout=30,
    )
    assert done, consumer.output()[-3000:]

    samples = worker_samples(port)
    assert value(samples, "payout_attempts_total", outcome="paid") == 3
    assert value(samples, "payout_attempts_total", outcome="retryable") == 0
    assert value(samples, "payout_processing_duration_seconds_count") == 3
    # Each run includes the simulated provider's 0.05 s.
    assert value(samples, "payout_processing_duration_seconds_bucket", le="0.05") == 0
    assert value(samples, "payout_processing_duration_seconds_bucket", le="+Inf") == 3


def test_a_consumer_whose_metrics_port_is_taken_says_so_in_one_line_and_goes_on(
    api_client, start_consumer
):
    with socket.create_server(("", BUSY_PORT)):
        consumer = start_consumer(
            workers=2,
            WORKER_METRICS_PORT=BUSY_PORT,
            PAYOUT_WORKER_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS,
        )
        [payout_id] = create_payouts(api_client, 1)
        done = wait_until(
            lambda: Payout.objects.get(pk=payout_id).status == PayoutStatus.COMPLETED, timeout=30
        )

    output = consumer.output()
    assert done, output[-3000:]
    assert (
        f"WORKER_METRICS_PORT={BUSY_PORT}: cannot serve worker metrics: Address already in use"
        in output
    )
    assert output.count("cannot serve worker metrics") == 1
    assert "Traceback" not in output
