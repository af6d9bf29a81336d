"""The harness's arithmetic and targets: percentiles, ratios, bounded counts and the report."""

from __future__ import annotations

import pytest

from benchmarks.report import (
    Figure,
    Latency,
    Results,
    Table,
    is_unbounded_count,
    percentile,
    render_markdown,
)

REST_COUNT = 'SELECT COUNT(*) AS "__count" FROM "payouts_payout"'
WINDOW_PAGE = 'SELECT "id", COUNT(1) OVER () AS "total" FROM "payouts_payout" LIMIT 21'
CAPPED_COUNT = 'SELECT COUNT(*) FROM (SELECT 1 FROM "payouts_payout" LIMIT 1001) "capped"'
REST_PAGE = 'SELECT "payouts_payout"."id" FROM "payouts_payout" ORDER BY 1 LIMIT 20'


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [4.0, 1.0, 3.0, 2.0]

    assert (percentile(values, 0), percentile(values, 50), percentile(values, 100)) == (1, 2.5, 4)
    assert percentile(values, 99) == pytest.approx(3.97)


def test_latency_is_summarized_in_milliseconds_from_every_sample():
    latency = Latency.of([0.001 * n for n in range(1, 101)])

    assert latency.count == 100
    assert latency.max_ms == pytest.approx(100)
    assert latency.mean_ms == pytest.approx(50.5)
    assert latency.p50_ms == pytest.approx(50.5)
    assert latency.p99_ms == pytest.approx(99.01)


def test_no_samples_summarize_to_zeros_not_an_error():
    assert Latency.of([]) == Latency(0, 0.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("sql", "unbounded"),
    [(REST_COUNT, True), (WINDOW_PAGE, True), (CAPPED_COUNT, False), (REST_PAGE, False)],
)
def test_unbounded_count_detection(sql, unbounded):
    assert is_unbounded_count(sql) is unbounded


def test_a_ratio_at_exactly_the_bar_passes_and_below_it_fails():
    at_bar = Figure("Create", "api", 70.0, "req/s", 100.0, "bare").at_least(0.7)
    below = Figure("Create", "api", 69.9, "req/s", 100.0, "bare").at_least(0.7)

    assert (at_bar.passed, at_bar.target, below.passed) == (True, ">= 0.7x baseline", False)


def test_a_ratio_without_a_baseline_or_with_its_run_incomplete_fails():
    assert Figure("P", "rate", 10.0, "/s").at_least(0.8).passed is False
    assert Figure("P", "rate", 10.0, "/s", 10.0).at_least(0.8, ok=False).passed is False


def test_a_ceiling_passes_up_to_its_value():
    assert Figure("List", "p99", 50.0, "ms").at_most(50.0, "<= 50 ms").passed is True
    assert Figure("List", "p99", 50.1, "ms").at_most(50.0, "<= 50 ms").passed is False


def test_the_report_counts_targets_met_and_shows_each_figure_with_its_baseline():
    results = Results(
        meta={"commit": "abc1234", "skipped": ["processing: threads"]},
        figures=[
            Figure("Create", "api c=8", 70.0, "req/s", 100.0, "bare view").at_least(0.7),
            Figure("List", "REST p99", 60.0, "ms", 5.0, "same SQL").at_most(50.0, "<= 50 ms"),
            Figure("Memory", "peak RSS", 100.0, "MB", 90.0, "just started"),
        ],
        tables=[Table("Create", "How create is measured.", ["Target", "req/s"], [["api", "70"]])],
    )

    markdown = render_markdown(results)

    assert "**1 of 2 targets met.**" in markdown
    assert "Skipped, the run's budget spent: processing: threads." in markdown
    assert "| Create | api c=8 | 70.0 req/s | 100 req/s (bare view) | 0.70x | >= 0.7x" in markdown
    assert "| <= 50 ms | **FAIL** |" in markdown
    assert "| Memory | peak RSS | 100 MB | 90.0 MB (just started) | 1.11x | — | — |" in markdown
    assert "## Create\n\nHow create is measured.\n\n| Target | req/s |" in markdown
