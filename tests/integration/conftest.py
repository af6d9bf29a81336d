"""Real PostgreSQL, Redis and Huey consumer processes for the integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from huey.contrib.djhuey import HUEY

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _require_real_services() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("postgresql") and settings.REDIS_URL:
        return
    reason = "integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL; `make test` sets both"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: they must run in CI")
    pytest.skip(reason)


@pytest.fixture
def queue(_require_real_services: None) -> Iterator[Any]:
    """The real Redis queue, empty before and after the test."""
    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def proc_status(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status: bytes for memory (written in kB), else the number."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            number, *unit = value.split()
            return int(number) * (1024 if unit == ["kB"] else 1)
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def service_environment(**knobs: Any) -> dict[str, str]:
    """The environment of a service process (consumer, gunicorn) on the test database and queue:
    production settings, no payout delay or random failure, then `knobs`."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": str(settings.REDIS_URL),
        "SECRET_KEY": "integration-tests",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "PAYOUT_PROCESSING_DELAY_SECONDS": "0.05",
        "PAYOUT_FAILURE_RATE": "0",
        "PAYOUT_RETRY_DELAY_SECONDS": "0.1",
    }
    env.update({key: str(value) for key, value in knobs.items()})
    return env


class Consumer:
    """A `manage.py run_huey` (or `run_webhooks`) process pointed at the test database and
    queue."""

    def __init__(self, env: dict[str, str], workers: int, command: str = "run_huey") -> None:
        self.env = env
        self.workers = workers
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self.log = ROOT / "data" / f"consumer-{os.getpid()}-{id(self)}.log"

    def start(self) -> None:
        self.log.parent.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            # The worker type is HUEY_WORKER_TYPE's, as in production (thread unless set).
            [sys.executable, "manage.py", self.command, "--workers", str(self.workers)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


@pytest.fixture
def start_consumer(
    queue: Any, transactional_db: None, settings: Any
) -> Iterator[Callable[..., Consumer]]:
    """Start consumers with payout knobs of the test's choosing; all are stopped afterwards."""
    settings.PAYOUT_RETRY_DELAY_SECONDS = 0.1
    started: list[Consumer] = []

    def start(workers: int = 4, **knobs: Any) -> Consumer:
        consumer = Consumer(service_environment(**knobs), workers)
        consumer.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()
        consumer.log.unlink(missing_ok=True)
