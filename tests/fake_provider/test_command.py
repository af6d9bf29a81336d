"""`manage.py fake_provider` as integration tests start it: a process that answers /ledger."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command

from tests.conftest import ROOT
from tests.fake_provider.conftest import new_key, payout_body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_ledger(url: str, process: subprocess.Popen[str] | None = None) -> httpx.Response:
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(f"{url}/ledger", timeout=1)
        except httpx.TransportError:
            if process is not None:
                assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the fake provider never answered"
            time.sleep(0.05)


def test_the_command_serves_as_a_process_until_sigterm_stops_it_cleanly():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "manage.py", "fake_provider", "--port", str(port)]
    options = ["--latency", "0.01", "--decline-rate", "0.5", "--token", "t", "--seed", "7"]
    process = subprocess.Popen(
        command + options, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_for_ledger(url, process).status_code == 200
        key = new_key()
        headers = {"Idempotency-Key": key, "Authorization": "Bearer t"}
        answer = httpx.post(f"{url}/payouts", json=payout_body(key), headers=headers)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()

    assert answer.status_code in (201, 422)
    assert process.returncode == 0, stderr
    assert stdout == (
        f"Fake provider listening on {url}: latency 0.01s, decline 0.5, error 0, timeout 0, "
        "drop 0, hang 60s, retry-after 1s, token on, seed 7\n"
    )


def test_the_command_returns_when_sigint_stops_it():
    """Ctrl-C: in this process, since starting another costs seconds of Django set-up."""
    port = free_port()
    out = StringIO()

    def interrupt_once_served() -> None:
        # The loop answers only once it awaits the stop, after the signal handlers are set.
        wait_for_ledger(f"http://127.0.0.1:{port}")
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_served)
    interrupter.start()
    call_command("fake_provider", "--port", str(port), "--seed", "3", stdout=out)
    interrupter.join()

    assert out.getvalue().startswith(f"Fake provider listening on http://127.0.0.1:{port}: ")
    assert out.getvalue().endswith(", seed 3\n")


def test_the_command_refuses_rates_that_add_up_to_more_than_one():
    with pytest.raises(CommandError, match=r"The rates add up to 1\.2; they must not exceed 1\."):
        call_command(
            "fake_provider", "--error-rate", "0.7", "--timeout-rate", "0.5", stdout=StringIO()
        )


def test_the_command_refuses_a_rate_above_one():
    with pytest.raises(CommandError, match=r"Each rate must be between 0 and 1\."):
        call_command("fake_provider", "--drop-rate", "1.5", stdout=StringIO())


def test_the_command_says_when_the_port_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            call_command("fake_provider", "--port", str(port), stdout=StringIO())
