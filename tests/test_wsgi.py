"""The WSGI entry point gunicorn loads: the whole app is imported and frozen before requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Prints whether the collector still tracks (would scan) the GraphQL schema and a REST view.
SCANNED_AFTER_LOAD = """
import gc
import project.wsgi
from graphql_api.schema import schema
from rest_api.views import PayoutViewSet
scanned = {id(o) for o in gc.get_objects()}
print(id(schema) in scanned, id(PayoutViewSet) in scanned, gc.get_freeze_count() > 0)
"""


def test_wsgi_freezes_views_and_schema_out_of_the_collectors_view() -> None:
    env = {**os.environ, "SECRET_KEY": "s3cret", "DEBUG": "false"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    loaded = subprocess.run(
        [sys.executable, "-c", SCANNED_AFTER_LOAD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.split() == ["False", "False", "True"]
