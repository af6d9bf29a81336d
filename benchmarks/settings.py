"""Benchmark-only settings: the product's, plus the bare baseline view, no-op task and query probe.

Served by the same gunicorn and Huey consumer as the product; nothing here ships in the product.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS, MIDDLEWARE

# An app so that `run_huey` autodiscovers benchmarks.tasks next to payouts.tasks.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
# Outermost, so it sees every query any other middleware or view makes.
MIDDLEWARE = ["benchmarks.middleware.query_probe", *MIDDLEWARE]
ROOT_URLCONF = "benchmarks.urls"
