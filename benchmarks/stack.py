"""The service on loopback, started from the Procfile by honcho, with its own database.

`web` and `worker` are the Procfile's commands, run by `honcho start` with environment variables
as their only knobs (PORT, WEB_CONCURRENCY, HUEY_WORKERS, ...), as a platform runs them. `Stack`
drops its PostgreSQL database and stops every process it started however the run ends.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import django
import psutil
import psycopg
import redis
from django.core.management import call_command
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "data" / "bench"
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
CLIENT_NAME = "benchmark"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class StackError(RuntimeError):
    """A part of the stack did not start; the message says which and where its log is."""


@dataclass(frozen=True)
class Config:
    port: int
    database: str = "payouts_bench"
    redis_db: int = 14
    web_concurrency: int = 3
    pg: str = "postgres@127.0.0.1:5432"
    redis: str = "127.0.0.1:6379"
    # The WSGI baseline's (Stack.start_wsgi_web); 0 for a free one.
    wsgi_port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def wsgi_base_url(self) -> str:
        return f"http://{HOST}:{self.wsgi_port}"

    def conninfo(self, database: str = "") -> str:
        return f"postgres://{self.pg}/{database or self.database}"

    def environment(self, **knobs: str) -> dict[str, str]:
        """What every process is started with: the service reads only these."""
        venv_bin = str(Path(sys.executable).parent)
        return {
            **os.environ,
            # `gunicorn` and `python` in the Procfile are this environment's.
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "SECRET_KEY": "benchmark-only-secret-key-not-for-production",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "DATABASE_URL": self.conninfo(),
            "REDIS_URL": f"redis://{self.redis}/{self.redis_db}",
            "WEB_CONCURRENCY": str(self.web_concurrency),
            "LOG_LEVEL": "WARNING",
            # One client sends every request: a limit exported in this shell would answer 429s.
            "PAYOUT_RATE_LIMIT": "",
            "PAYOUT_PROCESSING_DELAY_SECONDS": "0",
            "PAYOUT_FAILURE_RATE": "0",
            "PAYOUT_MAX_RETRIES": "3",
            "PAYOUT_RETRY_DELAY_SECONDS": "2",
            # The webhook receiver is the harness's own, on loopback.
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "PYTHONUNBUFFERED": "1",
            **knobs,
        }


def peak_rss_mb(process: psutil.Process) -> float:
    """The highest resident memory the process has had (Linux's VmHWM), exact where sampling
    would miss a short peak; 0 once it has exited."""
    with suppress(OSError), open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def tree(self) -> list[psutil.Process]:
        children: list[psutil.Process] = []
        with suppress(psutil.Error):
            children = psutil.Process(self.popen.pid).children(recursive=True)
        return children

    def leaves(self) -> list[psutil.Process]:
        """The processes that do the work: gunicorn's workers, each consumer (not honcho, its
        shells or gunicorn's master)."""
        return [process for process in self.tree() if not process.children()]


@dataclass
class Stack:
    config: Config
    processes: list[Process] = field(default_factory=list)
    authorization: str = ""
    client_id: int = 0

    def __enter__(self) -> Stack:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._drop_database()
        with psycopg.connect(self.config.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.config.database))
            )
        self.flush_redis()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(*self.processes)
        self.flush_redis()
        self._drop_database()

    def _drop_database(self) -> None:
        with psycopg.connect(self.config.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.config.database)
                )
            )

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.config.conninfo(), autocommit=True)

    def flush_redis(self) -> None:
        host, port = self.config.redis.split(":")
        with redis.Redis(host=host, port=int(port), db=self.config.redis_db) as client:
            client.flushdb()

    def clear_payouts(self) -> None:
        """Empty the payouts (with all that refers to them) and the queue between phases, and
        write out what the last phase left dirty, so that its checkpoint's I/O does not land in
        the next one's figures. The payouts are locked first, as a create still in flight locks
        them: no deadlock with it."""
        with self.connect() as conn:
            # CASCADE: their history, events and webhook deliveries go with them.
            conn.execute("TRUNCATE payouts_payout CASCADE")
            conn.execute("CHECKPOINT")
        self.flush_redis()

    def prepare(self) -> None:
        """Set Django up in this process with the stack's environment (the harness times the key
        check, captures lists' SQL and enqueues through Huey as the service does), migrate and
        make the benchmark's client and key with `create_api_key`, as an operator does."""
        os.environ.update(self.config.environment())
        django.setup()
        from clients.models import ApiKey

        call_command("migrate", "--no-input", verbosity=0)
        out = io.StringIO()
        call_command("create_api_key", CLIENT_NAME, stdout=out, stderr=io.StringIO())
        key = out.getvalue().strip().splitlines()[-1]
        self.client_id = ApiKey.objects.get(prefix=key.partition(".")[0]).client_id
        self.authorization = f"Bearer {key}"

    def start(self, name: str, *args: str, **knobs: str) -> Process:
        log = LOG_DIR / f"{name}.log"
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.config.environment(**knobs),
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(Process(name, popen, log))
        return self.processes[-1]

    def procfile(self, process: str, name: str, concurrency: int = 1, **knobs: str) -> Process:
        """`honcho start` of one Procfile process type, `concurrency` of them. The env file is
        /dev/null: a developer's .env must not point the run at another database."""
        return self.start(
            name,
            *(sys.executable, "-m", "honcho", "start", "--no-colour", "--env", os.devnull),
            *("--port", str(self.config.port), "--concurrency", f"{process}={concurrency}"),
            process,
            **knobs,
        )

    def start_web(self, name: str = "web", **knobs: str) -> Process:
        web = self.procfile("web", name, 1, **knobs)
        return self._answering(web, self.config.base_url)

    def start_wsgi_web(self) -> Process:
        """The baseline of the Procfile's web: the same service under WSGI, gunicorn's sync
        workers (WEB_CONCURRENCY of them, gunicorn.conf.py's settings), on a port of its own."""
        web = self.start(
            "web-wsgi",
            *(sys.executable, "-m", "gunicorn", "project.wsgi:application", "-k", "sync"),
            *("--bind", f"{HOST}:{self.config.wsgi_port}"),
        )
        return self._answering(web, self.config.wsgi_base_url)

    def _answering(self, web: Process, base_url: str) -> Process:
        request = urllib.request.Request(
            f"{base_url}/api/payouts/?page_size=1", headers={"Authorization": self.authorization}
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and web.alive():
            try:
                with urllib.request.urlopen(request, timeout=10):
                    return web
            except OSError:
                time.sleep(0.2)
        raise StackError(f"{web.name} did not answer 200 on {base_url}:\n{web.tail()}")

    def stop(self, *processes: Process) -> None:
        """SIGTERM to each (honcho passes it on to its processes, each in a session of its own),
        then SIGKILL to whatever of them outlives the wait."""
        trees = {process.name: process.tree() for process in processes}
        for process in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            process.popen.kill()
            for child in trees[process.name]:
                with suppress(psutil.Error):
                    child.kill()
            process.popen.wait()
            if process in self.processes:
                self.processes.remove(process)
