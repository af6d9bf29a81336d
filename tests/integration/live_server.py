"""A real gunicorn serving the service, as production does, for tests that need HTTP on the wire:
the Procfile's `web`, read from the Procfile."""

from __future__ import annotations

import http.client
import json
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.conftest import ROOT, proc_status, wait_until

SEND_SLICE = 64 * 1024
# How long the server may go without reading or answering before the test calls it a hang.
STALL_SECONDS = 30


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def procfile_web() -> list[str]:
    """The Procfile's `web` command, its `gunicorn` this interpreter's."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name == "web":
            program, *arguments = shlex.split(command)
            assert program == "gunicorn", command
            return [sys.executable, "-m", "gunicorn", *arguments]
    raise AssertionError("The Procfile has no web process")


class Gunicorn:
    """The Procfile's `web` (gunicorn with gunicorn.conf.py), on a free port."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str], *, workers: int = 1) -> None:
        self.process = subprocess.Popen(
            [
                *procfile_web(),
                *("--config", "gunicorn.conf.py"),
                *("--bind", "127.0.0.1:0"),
                *("--workers", str(workers)),
            ],
            cwd=ROOT,
            # Its "Listening at" line, which names the port, is INFO: LOG_LEVEL governs it.
            env={**env, "LOG_LEVEL": "INFO"},
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        listening = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
        if not wait_until(lambda: listening.search(self.output()) is not None, timeout=30):
            raise AssertionError(f"gunicorn did not start:\n{self.output()}")
        match = listening.search(self.output())
        assert match is not None
        self.port = int(match[1])
        if not wait_until(lambda: self.workers() != [] and self._healthy(), timeout=30):
            raise AssertionError(f"gunicorn did not answer /healthz:\n{self.output()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def workers(self) -> list[int]:
        """The master's worker processes: a worker that died or timed out comes back as another."""
        assert self.process is not None
        pid = self.process.pid
        return sorted(
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        )

    def peak_memory(self) -> int:
        """The highest resident memory its workers have reached, in bytes."""
        return sum(proc_status(worker, "VmHWM") for worker in self.workers())

    def _healthy(self) -> bool:
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=STALL_SECONDS)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(
                method, path, data, {"Content-Type": "application/json", **(headers or {})}
            )
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def post_streaming(
        self, path: str, body: bytes, *, headers: dict[str, str], chunked: bool
    ) -> Answer:
        """POST `body` as a careful client does: in slices, stopping as soon as an answer comes.

        With `chunked`, in chunked transfer encoding and without Content-Length.
        """
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Content-Type: application/json",
            framing,
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        with socket.create_connection(("127.0.0.1", self.port), timeout=STALL_SECONDS) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            sent = 0
            while sent < len(body):
                readable, writable, _ = select.select([sock], [sock], [], STALL_SECONDS)
                if readable:
                    break  # answered, or closed, before the whole body went out
                if not writable:
                    raise AssertionError(f"{path}: neither read nor answered for {STALL_SECONDS} s")
                piece = body[sent : sent + SEND_SLICE]
                frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
                try:
                    sock.sendall(frame)
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered and closed; its answer waits to be read
                sent += len(piece)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
            response = http.client.HTTPResponse(sock)
            response.begin()
            return Answer(response.status, response.headers, response.read())
