"""The key check is timed as a request runs it, and a refused key stops the run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.keycheck import measure_key_check
from benchmarks.report import Results
from clients.services import api_key_revoke


def test_the_check_its_database_read_and_a_round_trip_are_timed_the_same_number_of_times(owner):
    results = Results()

    measure_key_check(owner.authorization, 6, results)

    assert [row[:2] for row in results.tables[0].rows] == [
        ["key check", "6"],
        ["key check, read from the database", "6"],
        ["SELECT 1", "6"],
    ]
    check = results.figures[0]
    assert (check.name, check.target, check.passed) == ("API key check mean", "< 0.2 ms", True)


def test_the_database_read_is_timed_with_the_key_forgotten_each_time(owner):
    with CaptureQueriesContext(connection) as captured:
        measure_key_check(owner.authorization, 6, Results())

    key_reads = [query for query in captured if query["sql"].startswith('SELECT "clients_apikey"')]
    # The first check and each read, warm-up's (100) and timed; the remembered checks none.
    assert len(key_reads) == 1 + 100 + 6


def test_a_refused_key_stops_the_run_instead_of_timing_refusals(owner):
    api_key_revoke(owner.key)

    with pytest.raises(
        RuntimeError, match=r"refused the benchmark's key: API key \w+ has been revoked"
    ):
        measure_key_check(owner.authorization, 6, Results())
