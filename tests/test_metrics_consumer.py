"""A real consumer on the embedded default (SQLite database and queue) beats and serves metrics."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, fresh_environment, run_in_fresh_process
from tests.integration.conftest import wait_until
from tests.scraping import parse, value

# This suite's own port.
PORT = 9160
COUNT_ALIVE = (
    "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; "
    "import django; django.setup(); "
    "from payouts.heartbeats import consumers_alive; print(consumers_alive())"
)


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh checkout's service: SQLite files in a directory of its own."""
    env = fresh_environment(
        DATA_DIR=str(tmp_path),
        WORKER_METRICS_PORT=str(PORT),
        PAYOUT_WORKER_HEARTBEAT_SECONDS="0.5",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


@pytest.fixture
def consumer(embedded: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with (tmp_path / "consumer.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "2"],
            cwd=ROOT,
            env=embedded,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def alive(env: dict[str, str]) -> str:
    result = run_in_fresh_process(COUNT_ALIVE, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def worker_metrics_text() -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    try:
        connection.request("GET", "/metrics")
        return connection.getresponse().read().decode()
    except OSError:
        return None
    finally:
        connection.close()


def test_an_embedded_consumer_is_alive_while_it_runs_and_serves_its_metrics(
    embedded, consumer, tmp_path
):
    assert wait_until(lambda: worker_metrics_text() is not None, timeout=30), (
        tmp_path / "consumer.log"
    ).read_text()
    samples = parse(worker_metrics_text() or "")
    assert value(samples, "payout_attempts_total", outcome="paid") == 0
    assert value(samples, "payout_processing_duration_seconds_count") == 0
    assert wait_until(lambda: alive(embedded) == "1", timeout=30)

    consumer.send_signal(signal.SIGTERM)
    consumer.wait(timeout=30)

    assert alive(embedded) == "0"
