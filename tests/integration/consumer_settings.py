"""The product's settings, plus the integration tests' own tasks for the consumers they start."""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS

# An app, so that `run_huey` autodiscovers tests.integration.tasks next to payouts.tasks.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.integration"]
