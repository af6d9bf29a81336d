"""The key check is timed as a request runs it, and a refused key stops the run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.keycheck import KEY_CHECK, KEY_READ, ROUND_TRIP, KeyCheckPlan, measure_key_check
from clients.services import api_key_revoke

PLAN = KeyCheckPlan(iterations=6, max_seconds=30, warmup=1)


def test_the_check_its_database_read_and_a_round_trip_are_timed_the_same_number_of_times(owner):
    runs = measure_key_check(owner.authorization, PLAN)

    assert [(run.target, run.latency.count) for run in runs] == [
        (KEY_CHECK, 6),
        (KEY_READ, 6),
        (ROUND_TRIP, 6),
    ]
    assert all(run.latency.p50_ms > 0 for run in runs)


def test_the_database_read_is_timed_with_the_key_forgotten_each_time(owner):
    with CaptureQueriesContext(connection) as captured:
        measure_key_check(owner.authorization, PLAN)

    key_reads = [query for query in captured if query["sql"].startswith('SELECT "clients_apikey"')]
    # The first check, the warm-up's read and each timed read; the remembered checks none.
    assert len(key_reads) == 1 + PLAN.warmup + PLAN.iterations


def test_a_refused_key_stops_the_run_instead_of_timing_refusals(owner):
    api_key_revoke(owner.key)

    with pytest.raises(
        RuntimeError, match=r"refused the benchmark's key: API key \w+ has been revoked"
    ):
        measure_key_check(owner.authorization, PLAN)
