"""Target evaluation and the Markdown report of the benchmark harness."""

from __future__ import annotations

import pytest

from benchmarks.report import figures, is_unbounded_count, render_markdown
from benchmarks.results import (
    BenchResults,
    CreateRun,
    KeyCheckRun,
    ListRun,
    MemoryPeak,
    ProcessingRun,
)
from benchmarks.stats import Latency

REST_COUNT = 'SELECT COUNT(*) AS "__count" FROM "payouts_payout"'
REST_PAGE = 'SELECT "payouts_payout"."id" FROM "payouts_payout" ORDER BY 1 LIMIT 20'
WINDOW_PAGE = 'SELECT "id", COUNT(1) OVER () AS "total" FROM "payouts_payout" LIMIT 21'
CAPPED_COUNT = 'SELECT COUNT(*) FROM (SELECT 1 FROM "payouts_payout" LIMIT 1001) "capped"'


def latency(p50: float, p99: float) -> Latency:
    return Latency(count=100, mean_ms=p50, p50_ms=p50, p90_ms=p99, p99_ms=p99, max_ms=p99)


def create(target: str, concurrency: int, throughput: float) -> CreateRun:
    return CreateRun(target, concurrency, 1000, 0, 5.0, throughput, latency(10, 20))


def listing(surface: str, p50: float, p99: float, sql: list[str], large: int | None = None):
    return ListRun(
        surface=surface,
        case="first page",
        errors=0,
        latency=latency(p50, p99),
        queries=len(sql),
        queries_large_page=len(sql) if large is None else large,
        sql=sql,
    )


def processing(kind: str, threads: int, rate: float, delay: float = 0.0) -> ProcessingRun:
    return ProcessingRun(kind, threads, delay, 256, 256, 256 / rate, rate)


@pytest.fixture
def results() -> BenchResults:
    return BenchResults(
        meta={"commit": "abc1234", "started": "2026-01-01T00:00:00+00:00", "seeded_rows": 10},
        key_check=[
            KeyCheckRun("key check", latency(0.15, 0.4)),
            KeyCheckRun("SELECT 1", latency(0.1, 0.2)),
        ],
        create=[create("api", 8, 140.0), create("bare", 8, 200.0), create("pgbench", 8, 1000.0)],
        listing=[
            listing("rest", 10, 40, [CAPPED_COUNT, REST_PAGE]),
            listing("rest sql", 2, 4, [CAPPED_COUNT, REST_PAGE]),
            listing("graphql", 16, 60, [WINDOW_PAGE]),
            listing("graphql sql", 3, 5, [WINDOW_PAGE]),
        ],
        processing=[
            processing("noop", 4, 1000.0),
            processing("payouts", 4, 400.0),
            processing("payouts", 64, 12.0, delay=5.0),
        ],
        memory=[MemoryPeak("consumer", idle_mb=90.0, peak_mb=120.0, samples=10)],
    )


def by_name(results: BenchResults):
    return {figure.name: figure for figure in figures(results)}


@pytest.mark.parametrize(
    ("sql", "unbounded"),
    [(REST_COUNT, True), (WINDOW_PAGE, True), (CAPPED_COUNT, False), (REST_PAGE, False)],
)
def test_unbounded_count_detection(sql, unbounded):
    assert is_unbounded_count(sql) is unbounded


def test_the_key_check_is_compared_with_a_round_trip_and_passes_under_0_2_ms(results):
    figure = by_name(results)["API key check mean"]

    assert (figure.value, figure.baseline) == (0.15, 0.1)
    assert figure.result == "PASS"
    assert by_name(results)["API key check p99"].result == "—"


def test_a_key_check_of_0_2_ms_or_more_fails(results):
    results.key_check[0] = KeyCheckRun("key check", latency(0.2, 0.4))

    assert by_name(results)["API key check mean"].result == "FAIL"


def test_create_at_concurrency_8_passes_at_exactly_the_bar(results):
    figure = by_name(results)["POST /api/payouts/ throughput, c=8"]

    assert figure.baseline == 200.0
    assert figure.ratio == pytest.approx(0.7)
    assert figure.result == "PASS"


def test_create_below_the_bar_fails(results):
    results.create[0] = create("api", 8, 139.0)

    assert by_name(results)["POST /api/payouts/ throughput, c=8"].result == "FAIL"


def test_create_with_an_idempotency_key_is_compared_with_the_same_create_without(results):
    results.create.append(create("api_keyed", 8, 119.0))

    figure = by_name(results)["POST /api/payouts/ throughput with an Idempotency-Key, c=8"]

    assert figure.baseline == 140.0
    assert figure.ratio == pytest.approx(0.85)
    assert figure.result == "PASS"


def test_create_with_an_idempotency_key_below_085x_fails(results):
    results.create.append(create("api_keyed", 8, 118.0))

    figure = by_name(results)["POST /api/payouts/ throughput with an Idempotency-Key, c=8"]

    assert figure.result == "FAIL"


def test_list_p99_is_checked_against_50_ms(results):
    checked = by_name(results)

    assert checked["REST first page p99"].result == "PASS"
    assert checked["REST first page p99"].baseline == 4
    assert checked["GraphQL first page p99"].result == "FAIL"


def test_a_window_count_fails_the_query_target_even_when_the_count_is_constant(results):
    checked = by_name(results)

    assert checked["REST first page SQL queries per request"].result == "PASS"
    assert checked["GraphQL first page SQL queries per request"].result == "FAIL"


def test_more_queries_for_a_larger_page_fail_the_query_target(results):
    results.listing[0] = listing("rest", 10, 40, [CAPPED_COUNT, REST_PAGE], large=22)

    assert by_name(results)["REST first page SQL queries per request"].result == "FAIL"


def test_graphql_is_compared_with_rest_on_the_same_page(results):
    figure = by_name(results)["GraphQL first page p50"]

    assert figure.ratio == pytest.approx(1.6)
    assert figure.result == "FAIL"


def test_processing_is_compared_with_noop_and_the_slow_run_with_the_ideal(results):
    checked = by_name(results)

    assert checked["payouts/s, delay 0, 4 threads"].ratio == pytest.approx(0.4)
    assert checked["payouts/s, delay 0, 4 threads"].result == "FAIL"
    assert checked["payouts/s, 5 s delay, 64 threads"].baseline == pytest.approx(12.8)
    assert checked["payouts/s, 5 s delay, 64 threads"].result == "PASS"


def test_memory_has_no_target(results):
    assert by_name(results)["peak RSS, consumer"].result == "—"


def test_markdown_lists_each_figure_with_baseline_ratio_target_and_result(results):
    markdown = render_markdown(results)

    assert "**5 of 9 targets met.**" in markdown
    assert (
        "| Auth | API key check mean | 0.15 ms | 0.10 ms (SELECT 1, same connection) | 1.50x"
        " | < 0.2 ms | PASS |"
    ) in markdown
    assert (
        "| Create | POST /api/payouts/ throughput, c=8 | 140 req/s | 200 req/s (bare Django view)"
        " | 0.70x | >= 0.7x baseline | PASS |"
    ) in markdown
    assert "| GraphQL first page p99 | 60.0 ms | 5.00 ms (same SQL via psycopg) |" in markdown
    assert "**FAIL**" in markdown
    assert "![Latency percentiles](latency.png)" in markdown


def test_results_round_trip_through_json(results):
    assert BenchResults.from_json(results.to_json()) == results


def test_results_from_before_the_key_check_still_render(results):
    data = results.to_json()
    del data["key_check"]

    assert "API key check" not in render_markdown(BenchResults.from_json(data))
