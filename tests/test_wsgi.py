"""The WSGI entry point gunicorn loads: the whole app is imported and frozen before requests."""

from __future__ import annotations

from tests.conftest import run_in_fresh_process

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
    loaded = run_in_fresh_process(SCANNED_AFTER_LOAD)

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["False", "False", "True"]
