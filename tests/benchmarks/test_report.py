"""Target evaluation and the Markdown report of the benchmark harness."""

from __future__ import annotations

import pytest

from benchmarks.report import figures, is_unbounded_count, render_markdown
from benchmarks.results import (
    DELAY_0,
    PROVIDER,
    SCALE_OUT,
    THREADS,
    BenchResults,
    CreateRun,
    KeyCheckRun,
    LedgerCheck,
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


def processing(
    kind: str,
    rate: float,
    *,
    workers: int = 1000,
    consumers: int = 1,
    worker_type: str = "greenlet",
    latency: float = 2.0,
    completed: int = 4000,
    rss: float = 180.0,
    connections: int = 20,
) -> ProcessingRun:
    return ProcessingRun(
        kind=kind,
        worker_type=worker_type,
        consumers=consumers,
        workers=workers,
        latency_seconds=latency,
        payouts=4000,
        completed=completed,
        failed=0,
        seconds=4000 / rate,
        rate=rate,
        start_rss_mb=100.0,
        peak_rss_mb=rss,
        peak_connections=connections,
        consumer_cpu_seconds=4000 / rate * 0.9,
        machine_busy=0.75,
    )


def ledger_check(mismatches: int = 0, payouts: int = 12000) -> LedgerCheck:
    return LedgerCheck("processing runs", payouts, payouts - 1, 1, 0, mismatches)


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
            processing(DELAY_0, 200.0, latency=0.0),
            processing(PROVIDER, 160.0),
            processing(SCALE_OUT, 240.0, workers=250, consumers=4, connections=60),
            processing(THREADS, 28.8, workers=64, worker_type="thread", connections=12),
        ],
        ledger=[ledger_check()],
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


PROVIDER_FIGURE = "payouts/s, 2 s provider, 1,000 greenlets"


def test_processing_at_the_providers_latency_passes_at_08x_the_delay_0_rate(results):
    figure = by_name(results)[PROVIDER_FIGURE]

    assert (figure.baseline, figure.baseline_name) == (200.0, "delay-0 rate, same consumer")
    assert figure.ratio == pytest.approx(0.8)
    assert figure.result == "PASS"


def test_processing_below_08x_the_delay_0_rate_fails(results):
    results.processing[1] = processing(PROVIDER, 159.0)

    assert by_name(results)[PROVIDER_FIGURE].result == "FAIL"


def test_a_consumer_faster_than_its_greenlets_can_wait_is_held_to_greenlets_over_latency(results):
    results.processing[0] = processing(DELAY_0, 900.0, latency=0.0)
    results.processing[1] = processing(PROVIDER, 400.0)

    figure = by_name(results)[PROVIDER_FIGURE]

    assert (figure.baseline, figure.baseline_name) == (500.0, "1,000 greenlets / 2 s")
    assert figure.result == "PASS"


def test_a_run_that_left_payouts_unfinished_fails_whatever_its_rate(results):
    results.processing[1] = processing(PROVIDER, 190.0, completed=3999)

    assert by_name(results)[PROVIDER_FIGURE].result == "FAIL"


def test_the_consumers_rss_is_held_to_300_mb_and_its_connections_to_20(results):
    results.processing[1] = processing(PROVIDER, 160.0, rss=301.0, connections=20)

    checked = by_name(results)

    assert checked["peak RSS, consumer of 1,000 greenlets, 2 s provider"].result == "FAIL"
    assert checked["peak PostgreSQL connections, consumer of 1,000 greenlets"].result == "PASS"
    results.processing[1] = processing(PROVIDER, 160.0, rss=300.0, connections=21)
    checked = by_name(results)
    assert checked["peak RSS, consumer of 1,000 greenlets, 2 s provider"].result == "PASS"
    assert checked["peak PostgreSQL connections, consumer of 1,000 greenlets"].result == "FAIL"


def test_four_consumers_are_compared_with_one_and_their_connections_with_four_pools(results):
    checked = by_name(results)

    spread = checked["payouts/s, 2 s provider, 4 consumers x 250 greenlets"]
    assert (spread.baseline, spread.ratio, spread.result) == (160.0, 1.5, "—")
    connections = checked["peak PostgreSQL connections, 4 consumers x 250 greenlets together"]
    assert (connections.target, connections.result) == ("<= 80 (20 each)", "PASS")


def test_threads_are_held_to_their_ideal_and_shown_against_greenlets(results):
    checked = by_name(results)

    threads = checked["payouts/s, 2 s provider, 64 threads"]
    assert (threads.baseline, threads.result) == (32.0, "PASS")
    versus = checked["payouts/s, 1,000 greenlets against 64 threads"]
    assert versus.ratio == pytest.approx(160.0 / 28.8)


@pytest.mark.parametrize(
    ("mismatches", "payouts", "result"), [(0, 12000, "PASS"), (1, 12000, "FAIL"), (0, 0, "FAIL")]
)
def test_the_ledger_check_passes_with_no_mismatch_among_some_payouts(
    results, mismatches, payouts, result
):
    results.ledger = [ledger_check(mismatches, payouts)]

    assert by_name(results)["ledger check, processing runs: payouts mismatched"].result == result


def test_memory_has_no_target(results):
    assert by_name(results)["peak RSS, consumer"].result == "—"


def test_markdown_lists_each_figure_with_baseline_ratio_target_and_result(results):
    markdown = render_markdown(results)

    assert "**10 of 13 targets met.**" in markdown
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
    assert (
        "| provider | 1,000 greenlets | 2 | 4000 | 4000 | 0 | 25.0 | 160 | 180 (100) | 20 | 5.62 "
        "| 0.90 | 75% |"
    ) in markdown


def test_results_round_trip_through_json(results):
    assert BenchResults.from_json(results.to_json()) == results


def test_results_from_before_the_key_check_still_render(results):
    data = results.to_json()
    del data["key_check"]

    assert "API key check" not in render_markdown(BenchResults.from_json(data))


def test_what_the_run_budget_left_out_is_named(results):
    results.meta["skipped"] = ["processing: rough"]

    assert "Skipped, the run's budget spent: processing: rough." in render_markdown(results)
