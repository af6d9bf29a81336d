"""`manage.py fake_provider` as a process of its own, for tests that pay through real HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.conftest import ROOT, wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class FakeProviderProcess:
    def __init__(self, log: Path, **options: Any) -> None:
        self.log = log
        self.port = free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        flags = [
            part
            for name, value in self.options.items()
            for part in (f"--{name.replace('_', '-')}", str(value))
        ]
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "fake_provider", "--port", str(self.port), *flags],
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        assert wait_until(self._answers, timeout=20), self.log.read_text(errors="replace")

    def _answers(self) -> bool:
        try:
            self.ledger()
        except OSError:
            return False
        return True

    def ledger(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/ledger", timeout=10) as response:
            answer: dict[str, Any] = json.load(response)
            return answer

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
