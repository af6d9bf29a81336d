"""Percentile and rate arithmetic of the benchmark harness."""

from __future__ import annotations

import pytest

from benchmarks.stats import percentile, rate, summarize


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [1.0, 2.0, 3.0, 4.0]

    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 99) == pytest.approx(3.97)


def test_percentile_ignores_input_order():
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_percentile_outside_0_to_100_is_an_error():
    with pytest.raises(ValueError, match="within 0-100"):
        percentile([1.0], 101)


def test_summarize_reports_milliseconds():
    latency = summarize([0.001 * n for n in range(1, 101)])

    assert latency.count == 100
    assert latency.p50_ms == pytest.approx(50.5)
    assert latency.p99_ms == pytest.approx(99.01)
    assert latency.max_ms == pytest.approx(100.0)
    assert latency.mean_ms == pytest.approx(50.5)


def test_summarize_of_no_requests_is_zeros():
    assert summarize([]).count == 0
    assert summarize([]).p99_ms == 0.0


def test_rate_is_zero_when_nothing_was_timed():
    assert rate(10, 0.0) == 0.0
    assert rate(10, 2.0) == 5.0
