"""Benchmark-only settings: the product's, plus the bare baseline view of create.

The Procfile's processes are started with DJANGO_SETTINGS_MODULE=benchmarks.settings; nothing
here ships in the product.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
