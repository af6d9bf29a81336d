"""Fixtures of the event stream's tests: a scripted provider for the worker's changes."""

from __future__ import annotations

import pytest

from payouts import tasks
from tests.scripted_provider import ScriptedProvider


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    scripted = ScriptedProvider()
    monkeypatch.setattr(tasks, "current_provider", lambda: scripted)
    return scripted
