"""The Makefile's ways of running the service: what each installs, starts and leaves behind."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, fresh_environment

# A consumer and gunicorn take a few seconds each to start on a busy machine.
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


class Make:
    """`make ARGS` at the repository root in a session of its own, as a terminal runs it."""

    def __init__(self, tmp_path: Path, *args: str, **env: str) -> None:
        self.port = int(env.get("PORT") or free_port())
        self.log = tmp_path / "make.log"
        # LOG_LEVEL=INFO: the tests read the consumer's and the server's start-up lines.
        defaults = {"DATA_DIR": str(tmp_path / "data"), "DEBUG": "true", "LOG_LEVEL": "INFO"}
        environment = fresh_environment(**{**defaults, "PORT": str(self.port), **env})
        # An outer make's jobserver and flags (make test runs this) are not this one's.
        for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            environment.pop(name, None)
        self.process = subprocess.Popen(
            ["make", *args],
            cwd=ROOT,
            env=environment,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def processes(self) -> list[str]:
        """The command lines of the live processes in make's session: make and all it started."""
        return list(session_processes(self.process.pid).values())

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the foreground process group, as a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)

    def wait(self, timeout: float = START_SECONDS) -> int:
        return self.process.wait(timeout=timeout)

    def request(self, path: str, **headers: str) -> urllib.request.Request:
        return urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.request("/healthz"), timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill_everything(self) -> None:
        for pid in session_processes(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def session_processes(session: int) -> dict[int, str]:
    """The live (not zombie) processes of a session, by pid, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found[int(entry.name)] = command.strip()
    return found


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Make]]:
    started: list[Make] = []

    def start(*args: str, **env: str) -> Make:
        started.append(Make(tmp_path, *args, **env))
        return started[-1]

    yield start
    for run in started:
        run.kill_everything()


CONSUMER_STARTED = "Huey consumer started"
SERVER_STARTED = "Listening at: http://127.0.0.1:"


def test_make_run_starts_nothing_when_migrate_fails(make):
    # Nothing listens on a port just freed: the migration cannot reach its database.
    dead_database = f"postgres://postgres@127.0.0.1:{free_port()}/payouts"
    run = make("run", DATABASE_URL=dead_database)

    assert run.wait() != 0
    assert run.processes() == []
    assert CONSUMER_STARTED not in run.output()
    assert SERVER_STARTED not in run.output()


def test_ctrl_c_stops_the_api_and_the_worker_of_make_run(make):
    run = make("run")
    assert wait_until(
        lambda: run.answers() and run.output().count(CONSUMER_STARTED) == 2, START_SECONDS
    ), run.output()
    assert any("run_webhooks" in command for command in run.processes())

    run.interrupt()

    run.wait()
    assert wait_until(lambda: run.processes() == [], 10), run.processes()


def test_make_run_stops_the_worker_when_the_api_cannot_start(make):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = make("run", PORT=str(taken.getsockname()[1]))

        assert run.wait() != 0

    assert "Connection in use" in run.output()
    assert run.processes() == []


def test_a_configuration_error_stops_make_run_with_one_line(make):
    run = make("run", DEBUG="maybe")

    assert run.wait() != 0
    assert "Configuration error: DEBUG must be true or false, got 'maybe'." in run.output()
    assert "Traceback" not in run.output()
    assert run.processes() == []


def created_key(output: str) -> str:
    match = re.search(r"Authorization: Bearer (\S+)'", output)
    assert match is not None, output
    return match[1]


def call(run: Make, method: str, path: str, key: str, body: dict | None = None) -> tuple:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    request = run.request(path, **headers)
    request.method = method
    request.data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


PAYOUT = {
    "amount": "10.00",
    "currency": "EUR",
    "recipient_details": {"account_number": "DE89370400440532013000"},
}


def test_make_api_serves_without_a_worker_so_a_payout_can_be_edited(make):
    api = make("api", PAYOUT_PROCESSING_DELAY_SECONDS="0")
    assert wait_until(api.answers, START_SECONDS), api.output()
    key = created_key(api.output())

    status, payout = call(api, "POST", "/api/payouts/", key, PAYOUT)
    assert status == 201
    assert not any("run_huey" in command for command in api.processes())
    status, edited = call(api, "PATCH", f"/api/payouts/{payout['id']}/", key, {"amount": "12.50"})

    assert status == 200
    assert (edited["status"], edited["amount"]) == ("PENDING", "12.50")
    assert call(api, "DELETE", f"/api/payouts/{payout['id']}/", key)[0] == 204


def test_make_worker_migrates_a_fresh_database_and_consumes(make):
    worker = make("worker")

    sweep_ran = re.compile(r"recover_stalled_payouts: \S+ executed in")
    assert wait_until(lambda: sweep_ran.search(worker.output()) is not None, START_SECONDS), (
        worker.output()
    )
    assert "Applying payouts.0001_initial... OK" in worker.output()
    assert "Traceback" not in worker.output()


def test_make_webhooks_migrates_a_fresh_database_and_consumes(make):
    webhooks = make("webhooks")

    sweep_ran = re.compile(r"sweep_deliveries: \S+ executed in")
    assert wait_until(lambda: sweep_ran.search(webhooks.output()) is not None, START_SECONDS), (
        webhooks.output()
    )
    assert "Applying webhooks.0001_initial... OK" in webhooks.output()
    assert "Traceback" not in webhooks.output()


def process_group_alive(group: int) -> bool:
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def test_make_stack_runs_the_procfile_processes_until_ctrl_c(make):
    stack = make("stack", CONSUMERS="2", ENV_FILE="/dev/null")
    started = re.compile(r"(web\.1|worker\.1|worker\.2|webhooks\.1) started \(pid=(\d+)\)")
    assert wait_until(
        lambda: stack.answers() and len(started.findall(stack.output())) == 4, START_SECONDS
    ), stack.output()
    # honcho starts each process in a session and process group of its own.
    groups = [int(pid) for _, pid in started.findall(stack.output())]
    try:
        stack.interrupt()

        stack.wait()
        assert wait_until(lambda: not any(map(process_group_alive, groups)), 15)
    finally:
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def test_make_reset_deletes_local_state_inside_the_repository_only(tmp_path):
    checkout = tmp_path / "checkout"
    elsewhere = tmp_path / "elsewhere"
    for state in ("data/db.sqlite3", "staticfiles/admin.css", "artifacts/screenshots/a.png"):
        for root in (checkout, elsewhere):
            (root / state).parent.mkdir(parents=True, exist_ok=True)
            (root / state).write_text("state")
    shutil.copy(ROOT / "Makefile", checkout / "Makefile")
    (checkout / "manage.py").write_text("kept")

    # Run from another directory: the Makefile's own, not the current one, is cleared.
    subprocess.run(
        ["make", "--no-print-directory", "-f", str(checkout / "Makefile"), "reset"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
    )

    assert sorted(path.name for path in checkout.iterdir()) == ["Makefile", "manage.py"]
    assert sorted(path.name for path in elsewhere.iterdir()) == ["artifacts", "data", "staticfiles"]


def uv() -> str:
    return shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def project_copy(tmp_path: Path) -> Path:
    """The files the install targets read, in a directory of their own, with no .venv yet."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def make_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    environment.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["make", "--no-print-directory", f"UV={uv()}", *args],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_run_installs_the_service_without_the_lint_and_test_tools(tmp_path):
    project = project_copy(tmp_path)
    planned = make_in(project, "-n", "run").stdout

    installed = make_in(project, ".venv/.synced-service")

    assert "sync --frozen --no-dev --inexact" in planned
    assert installed.returncode == 0, installed.stderr
    tools = {path.name for path in (project / ".venv" / "bin").iterdir()}
    assert {"gunicorn", "python"} <= tools
    assert tools.isdisjoint({"pytest", "ruff", "mypy", "honcho"})


def test_switching_between_make_run_and_make_test_installs_nothing(tmp_path):
    project = project_copy(tmp_path)
    assert make_in(project, ".venv/.synced-service").returncode == 0
    assert make_in(project, "install").returncode == 0

    # `make -q` exits 0 when a target is up to date: neither install would run again.
    assert make_in(project, "-q", ".venv/.synced-service").returncode == 0
    assert make_in(project, "-q", ".venv/.synced").returncode == 0


def test_a_service_install_after_a_full_one_keeps_the_dev_tools(tmp_path):
    project = project_copy(tmp_path)
    assert make_in(project, "install").returncode == 0
    (project / "uv.lock").touch()

    reinstalled = make_in(project, ".venv/.synced-service")

    assert reinstalled.returncode == 0, reinstalled.stderr
    assert (project / ".venv" / "bin" / "pytest").exists()
