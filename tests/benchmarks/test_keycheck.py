"""The key check is timed as a request runs it, and a refused key stops the run."""

from __future__ import annotations

import pytest

from benchmarks.keycheck import KEY_CHECK, ROUND_TRIP, KeyCheckPlan, measure_key_check
from clients.services import api_key_revoke

PLAN = KeyCheckPlan(iterations=6, max_seconds=30, warmup=1)


def test_the_check_and_its_round_trip_are_timed_the_same_number_of_times(owner):
    runs = measure_key_check(owner.authorization, PLAN)

    assert [(run.target, run.latency.count) for run in runs] == [(KEY_CHECK, 6), (ROUND_TRIP, 6)]
    assert all(run.latency.p50_ms > 0 for run in runs)


def test_a_refused_key_stops_the_run_instead_of_timing_refusals(owner):
    api_key_revoke(owner.key)

    with pytest.raises(
        RuntimeError, match=r"refused the benchmark's key: API key \w+ has been revoked"
    ):
        measure_key_check(owner.authorization, PLAN)
