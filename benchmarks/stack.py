"""The real stack on loopback: its own PostgreSQL database and Redis DB, gunicorn, Huey consumers
and the fake payment provider they pay through.

Every process starts in its own session, so stopping one stops its children too; `Stack` is a
context manager that stops them all and drops the database however the run ends. Its client and
API key are made in its database by `create_api_key`, as an operator makes them, and every request
the harness sends carries that key.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import psycopg
import redis
from psycopg import sql

from benchmarks.load import HttpRequest, fetch

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 15.0
READY_TIMEOUT_SECONDS = 60.0
MIGRATE_TIMEOUT_SECONDS = 180.0
COMMAND_TIMEOUT_SECONDS = 60.0
# The client whose key every request sends; it owns every payout the harness writes.
CLIENT_NAME = "benchmark"
LISTENING = re.compile(r"^Fake provider listening on (http://\S+):", re.MULTILINE)


class StackError(RuntimeError):
    """The stack could not be started; the message says which part and where its log is."""


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    port: int = 0
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    database: str = "payouts_bench"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 14
    gunicorn_workers: int = 3
    log_dir: Path = ROOT / "data" / "bench"

    @property
    def database_url(self) -> str:
        return f"postgres://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.database}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def conninfo(self, database: str | None = None) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.pg_host,
            port=self.pg_port,
            user=self.pg_user,
            dbname=database or self.database,
        )

    def environment(self, **knobs: str) -> dict[str, str]:
        """What every process of the stack is started with: the service reads only these."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "SECRET_KEY": "benchmark-only-secret-key-not-for-production",
            "DEBUG": "false",
            # Served over plain HTTP on loopback: no redirect to HTTPS.
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": f"{self.host},localhost,testserver",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "WARNING",
            # No per-client rate limit, the default: one client sends every request here, and a
            # limit exported in this shell would turn the runs into 429s.
            "PAYOUT_RATE_LIMIT": "",
            "PAYOUT_PROCESSING_DELAY_SECONDS": "0",
            "PAYOUT_FAILURE_RATE": "0",
            "PAYOUT_MAX_RETRIES": "3",
            "PAYOUT_RETRY_DELAY_SECONDS": "2",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(knobs)
        return env


@dataclass(frozen=True)
class ClientKey:
    """The benchmark's client and the raw API key its requests send."""

    client_id: int
    key: str

    @property
    def prefix(self) -> str:
        return self.key.partition(".")[0]

    @property
    def authorization(self) -> str:
        return f"Bearer {self.key}"

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Authorization", self.authorization),)


def key_from_output(stdout: str) -> str:
    """The raw key `create_api_key` prints alone on the last line of its standard output."""
    lines = stdout.strip().splitlines()
    key = lines[-1].strip() if lines else ""
    prefix, dot, secret = key.partition(".")
    if not (dot and prefix.isalnum() and secret.isalnum()):
        raise StackError(f"create_api_key printed no key on its last line: {stdout[-200:]!r}")
    return key


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def listening_url(output: str) -> str | None:
    """The base URL in the line `fake_provider` prints once it listens, if printed yet."""
    match = LISTENING.search(output)
    return match.group(1) if match else None


@dataclass(frozen=True)
class FakeProvider:
    """A running `manage.py fake_provider` and the URL it serves contract v1 on."""

    process: Process
    url: str
    latency: float

    def ledger(self) -> dict[str, Any]:
        """What it paid and declined, per idempotency key (README, "Fake provider")."""
        with urllib.request.urlopen(
            f"{self.url}/ledger", timeout=COMMAND_TIMEOUT_SECONDS
        ) as answer:
            ledger: dict[str, Any] = json.load(answer)
        return ledger


@dataclass
class Stack:
    config: StackConfig
    processes: list[Process] = field(default_factory=list)
    _client_key: ClientKey | None = None

    def __enter__(self) -> Stack:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.reset_database()
        self.flush_redis()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop(*reversed(self.processes))
        self.flush_redis()
        self.drop_database()

    # PostgreSQL and Redis

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.config.conninfo("postgres"), autocommit=True)

    def reset_database(self) -> None:
        self.drop_database()
        with self._admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.config.database))
            )

    def drop_database(self) -> None:
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.config.database)
                )
            )

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.config.conninfo(), autocommit=True)

    def clear_payouts(self) -> None:
        """Empty the payout tables and the queue between measurements."""
        with self.connect() as conn:
            conn.execute("TRUNCATE payouts_payoutevent, payouts_payout")
        self.flush_redis()
        self.settle()

    def settle(self) -> None:
        """Write out what the last phase left dirty, so its checkpoint doesn't land in the next.

        Seeding a million rows leaves hundreds of MB of dirty pages; PostgreSQL's background
        checkpoint would write them during the next measurement and charge its I/O there.
        """
        with self.connect() as conn:
            conn.execute("CHECKPOINT")

    def flush_redis(self) -> None:
        client = redis.Redis(
            host=self.config.redis_host, port=self.config.redis_port, db=self.config.redis_db
        )
        try:
            client.flushdb()
        finally:
            client.close()

    # Processes

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        log = self.config.log_dir / f"{name}.log"
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name=name, popen=popen, log=log)
        self.processes.append(process)
        return process

    def migrate(self) -> None:
        log = self.config.log_dir / "migrate.log"
        with log.open("wb") as output:
            completed = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input"],
                cwd=ROOT,
                env=self.config.environment(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT_SECONDS,
                check=False,
            )
        if completed.returncode != 0:
            raise StackError(f"migrate failed (exit {completed.returncode}); see {log}")

    def create_client_key(self) -> ClientKey:
        """Make the benchmark's client and key with `create_api_key`, after migrate."""
        completed = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", CLIENT_NAME],
            cwd=ROOT,
            env=self.config.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            raise StackError(
                f"create_api_key failed (exit {completed.returncode}): {completed.stderr[-500:]}"
            )
        key = key_from_output(completed.stdout)
        with self.connect() as conn:
            row = conn.execute(
                "SELECT client_id FROM clients_apikey WHERE prefix = %s", (key.partition(".")[0],)
            ).fetchone()
        if row is None:
            raise StackError("create_api_key printed a key that is not in the database")
        self._client_key = ClientKey(client_id=cast(int, row[0]), key=key)
        return self._client_key

    @property
    def client_key(self) -> ClientKey:
        if self._client_key is None:
            raise StackError("no API key yet: create_client_key() runs after migrate")
        return self._client_key

    def request(self, method: str, path: str, body: bytes = b"") -> HttpRequest:
        """A request of the benchmark's client, with its key."""
        return HttpRequest(method, path, body, self.client_key.headers)

    def start_gunicorn(self) -> Process:
        process = self._start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--bind",
                f"{self.config.host}:{self.config.port}",
                "--workers",
                str(self.config.gunicorn_workers),
                "--worker-class",
                "sync",
                "--graceful-timeout",
                "5",
            ],
            self.config.environment(),
        )
        probe = self.request("GET", "/api/payouts/?page_size=1")
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not process.alive():
                raise StackError(f"gunicorn exited:\n{process.log_tail()}")
            try:
                response = fetch(self.config.host, self.config.port, probe)
            except OSError:
                time.sleep(0.2)
                continue
            if response.status != 200:
                raise StackError(
                    f"gunicorn answered {response.status} to {probe.path}: {response.body[:300]!r}"
                )
            return process
        raise StackError(f"gunicorn not ready in {READY_TIMEOUT_SECONDS:.0f} s; see {process.log}")

    def start_consumer(self, name: str, workers: int, worker_type: str, **knobs: str) -> Process:
        """Start `run_huey` with its workers from the environment, as production does; the
        caller waits for its workers with `queue_readers`."""
        return self._start(
            name,
            [sys.executable, "manage.py", "run_huey"],
            self.config.environment(
                HUEY_WORKERS=str(workers), HUEY_WORKER_TYPE=worker_type, **knobs
            ),
        )

    def queue_readers(self) -> int:
        """Connections to the stack's Redis DB whose last command was Huey's blocking read: one
        per idle worker, so a consumer is ready once all of its workers are counted."""
        client = redis.Redis(
            host=self.config.redis_host, port=self.config.redis_port, db=self.config.redis_db
        )
        try:
            clients = client.client_list()
        finally:
            client.close()
        db = str(self.config.redis_db)
        return sum(1 for info in clients if info.get("db") == db and info.get("cmd") == "brpop")

    def start_fake_provider(self, name: str, **options: float) -> FakeProvider:
        """Start `manage.py fake_provider` on a free port with these options (`latency=2`,
        `error_rate=0.1`, ...); returns once it has printed where it listens."""
        flags = [
            part
            for option, value in options.items()
            for part in (f"--{option.replace('_', '-')}", f"{value:g}")
        ]
        process = self._start(
            name,
            [sys.executable, "manage.py", "fake_provider", "--port", "0", *flags],
            self.config.environment(),
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            url = listening_url(process.log.read_text(errors="replace"))
            if url is not None:
                return FakeProvider(process, url, float(options.get("latency", 0)))
            if not process.alive():
                raise StackError(f"{name} exited:\n{process.log_tail()}")
            time.sleep(0.1)
        raise StackError(
            f"{name} not listening in {READY_TIMEOUT_SECONDS:.0f} s; see {process.log}"
        )

    def stop(self, *processes: Process) -> None:
        """SIGTERM them all, then wait for each: consumers finish their tasks side by side."""
        running = [process for process in processes if process.alive()]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        for process in running:
            try:
                process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        for process in processes:
            # Workers left behind by a master that died first share its process group.
            _signal_group(process, signal.SIGKILL)
            if process in self.processes:
                self.processes.remove(process)


def _signal_group(process: Process, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so the stack's clean-up runs as it does on Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
