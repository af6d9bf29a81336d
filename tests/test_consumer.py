"""manage.py patches the standard library for gevent exactly when it starts a greenlet consumer."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from project.consumer import runs_greenlets, share_worker_count
from tests.conftest import ROOT, fresh_environment


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["manage.py", "run_huey", "-k", "greenlet"], {}),
        (["manage.py", "run_huey", "-kgreenlet"], {}),
        (["manage.py", "run_huey", "--worker-type", "greenlet"], {}),
        (["manage.py", "run_huey", "--worker-type=greenlet"], {}),
        (["manage.py", "run_huey", "--workers", "1000", "-k", "greenlet", "-t", "30"], {}),
        (["manage.py", "run_huey"], {"HUEY_WORKER_TYPE": "greenlet"}),
        (["manage.py", "run_huey", "-w", "500"], {"HUEY_WORKER_TYPE": " greenlet "}),
        (["manage.py", "run_huey", "-k", "thread", "-k", "greenlet"], {}),
        (["manage.py", "run_huey", "-k", "greenlet"], {"HUEY_WORKER_TYPE": "thread"}),
        (["manage.py", "run_webhooks", "-k", "greenlet"], {}),
        (["manage.py", "run_webhooks"], {"WEBHOOK_WORKER_TYPE": "greenlet"}),
    ],
)
def test_a_consumer_with_greenlet_workers_is_patched(argv, environ):
    assert runs_greenlets(argv, environ) is True


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["manage.py", "run_huey"], {}),
        (["manage.py", "run_huey", "-k", "thread"], {}),
        (["manage.py", "run_huey", "--worker-type=thread"], {"HUEY_WORKER_TYPE": "greenlet"}),
        (["manage.py", "run_huey", "-k", "process"], {}),
        (["manage.py", "run_huey"], {"HUEY_WORKER_TYPE": "thread"}),
        (["manage.py", "run_huey"], {"HUEY_WORKER_TYPE": "Greenlet"}),
        (["manage.py", "migrate"], {"HUEY_WORKER_TYPE": "greenlet"}),
        (["manage.py", "runserver", "-k", "greenlet"], {}),
        (["manage.py"], {"HUEY_WORKER_TYPE": "greenlet"}),
        # Each consumer reads its own variable.
        (["manage.py", "run_webhooks"], {"HUEY_WORKER_TYPE": "greenlet"}),
        (["manage.py", "run_huey"], {"WEBHOOK_WORKER_TYPE": "greenlet"}),
    ],
)
def test_any_other_command_or_worker_type_is_left_unpatched(argv, environ):
    assert runs_greenlets(argv, environ) is False


def test_manage_py_patches_before_the_consumer_starts_its_greenlets(tmp_path):
    """Huey warns when its greenlet workers start unpatched; manage.py leaves it nothing to say."""
    # The consumer's start-up lines are INFO, and LOG_LEVEL governs Huey's lines too.
    env = fresh_environment(DATA_DIR=str(tmp_path), LOG_LEVEL="INFO")
    log = tmp_path / "consumer.log"
    with log.open("wb") as out:
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "2", "-k", "greenlet"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "Huey consumer started" not in log.read_text() and consumer.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            consumer.send_signal(signal.SIGINT)
            consumer.wait(timeout=30)

    output = log.read_text()
    assert "Huey consumer started with 2 greenlet" in output
    assert "monkey-patch has not been applied" not in output


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["manage.py", "run_huey", "--workers", "700"], "700"),
        (["manage.py", "run_huey", "-w", "16", "-k", "greenlet"], "16"),
        (["manage.py", "run_huey", "--workers=3"], "3"),
        (["manage.py", "run_huey"], "4"),
        (["manage.py", "runserver", "-w", "9"], "4"),
    ],
)
def test_run_huey_workers_become_the_huey_workers_the_settings_read(argv, expected):
    environ = {"HUEY_WORKERS": "4"}

    share_worker_count(argv, environ)

    assert environ["HUEY_WORKERS"] == expected


def test_run_webhooks_workers_become_the_webhook_workers_the_settings_read():
    environ = {"HUEY_WORKERS": "4", "WEBHOOK_WORKERS": "16"}

    share_worker_count(["manage.py", "run_webhooks", "-w", "200"], environ)

    assert environ == {"HUEY_WORKERS": "4", "WEBHOOK_WORKERS": "200"}
