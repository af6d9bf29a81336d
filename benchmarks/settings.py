"""Benchmark-only settings: the product's, plus the bare baseline view and the query probe.

Served by the same gunicorn and Huey consumers as the product; nothing here ships in the product.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import MIDDLEWARE

# Outermost, so it sees every query any other middleware or view makes.
MIDDLEWARE = ["benchmarks.middleware.query_probe", *MIDDLEWARE]
ROOT_URLCONF = "benchmarks.urls"
