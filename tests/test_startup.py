"""A configuration error stops every entry point with one line naming the variable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, fresh_environment

SECRET_KEY_MISSING = "SECRET_KEY must be set when DEBUG is false: the default key is public."
BAD_CONFIGURATIONS = [
    pytest.param({"DEBUG": "maybe"}, "DEBUG must be true or false, got 'maybe'.", id="DEBUG"),
    pytest.param(
        {"PAYOUT_PROVIDER": "x"},
        "PAYOUT_PROVIDER must be simulated or http, got 'x'.",
        id="PAYOUT_PROVIDER",
    ),
    pytest.param({"SECRET_KEY": ""}, SECRET_KEY_MISSING, id="SECRET_KEY"),
]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess:
    """Run `command` at the repository root as a process manager would, with the virtual
    environment's programs on PATH, and wait for it to end."""
    environment = fresh_environment(**env, DATA_DIR=str(data_dir), PORT=str(free_port()))
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("env", "message"), BAD_CONFIGURATIONS)
@pytest.mark.parametrize("command", ["migrate", "run_huey", "run_webhooks"])
def test_manage_py_reports_a_bad_variable_in_one_line(tmp_path, command, env, message):
    result = start([sys.executable, "manage.py", command], env, tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Configuration error: {message}"]
    assert result.stdout == ""


@pytest.mark.parametrize(("env", "message"), BAD_CONFIGURATIONS)
@pytest.mark.parametrize("process", ["web", "worker", "webhooks"])
def test_each_procfile_process_reports_a_bad_variable_in_one_line(tmp_path, process, env, message):
    result = start(["/bin/sh", "-c", procfile()[process]], env, tmp_path)

    assert result.returncode == 1
    assert (result.stdout + result.stderr).splitlines() == [f"Configuration error: {message}"]


def test_gunicorn_stops_in_its_master_before_forking_a_worker(tmp_path):
    result = start(["/bin/sh", "-c", procfile()["web"]], {"DEBUG": "maybe"}, tmp_path)

    assert "Booting worker" not in result.stderr
    assert result.returncode == 1


def test_a_good_configuration_runs_the_command(tmp_path):
    result = start([sys.executable, "manage.py", "check"], {}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
