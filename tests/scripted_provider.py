"""A provider for tests: it answers from a script, or pays, and keeps what it was asked."""

from __future__ import annotations

import threading
import uuid

from payouts.providers import Instruction, Outcome, Paid


class ScriptedProvider:
    """Answers each call with the next outcome of its script (an exception is raised), or
    pays once the script is empty; `calls` holds every instruction, in order."""

    def __init__(self, *script: Outcome | Exception) -> None:
        self.script: list[Outcome | Exception] = list(script)
        self.calls: list[Instruction] = []
        self._lock = threading.Lock()

    def send(self, instruction: Instruction) -> Outcome:
        with self._lock:
            self.calls.append(instruction)
            outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome or Paid(f"pr_{uuid.uuid4().hex[:12]}")
