"""Create: POST /api/payouts/ against a bare Django view doing the same work, by locust."""

from __future__ import annotations

import json
from dataclasses import dataclass

from benchmarks.load import Request, run_alternating, run_users, warm
from benchmarks.report import LATENCY_COLUMNS, Figure, Results, Table, number

PAYLOAD = {
    "amount": "250.00",
    "currency": "EUR",
    "recipient_details": {"account_number": "DE89370400440532013000", "bank_name": "DB"},
    "description": "Contractor payment - March",
}
# Served by benchmarks.urls only, in the benchmark settings.
BARE_CREATE_PATH = "/bench/bare-payouts/"
TARGET_CONCURRENCY = 8
MIN_RATIO = 0.7
IDEMPOTENT_MIN_RATIO = 0.85
# The Procfile's web (ASGI) against the same service under WSGI: moving must not slow REST.
ASGI_MIN_RATIO = 0.9


@dataclass(frozen=True)
class CreatePlan:
    concurrencies: tuple[int, ...] = (1, 8, 32)
    seconds: float = 6.0
    slices: int = 4


def measure_create(
    base_url: str, wsgi_base_url: str, authorization: str, plan: CreatePlan, results: Results
) -> None:
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    body = json.dumps(PAYLOAD).encode()
    api = Request("api", "POST", "/api/payouts/", headers, body, 201)
    requests = [
        api,
        Request("api_keyed", "POST", api.path, headers, body, 201, "Idempotency-Key"),
        Request("bare", "POST", BARE_CREATE_PATH, headers, body, 201),
        # An absolute URL: locust sends it to the WSGI web instead.
        Request("api_wsgi", "POST", wsgi_base_url + api.path, headers, body, 201),
    ]
    warm(base_url, requests, max(plan.concurrencies))
    figures: list[Figure] = []
    rows: list[list[str]] = []
    for c in plan.concurrencies:
        loads = run_alternating(base_url, requests, c, plan.seconds, plan.slices)
        rows += [
            [name, str(c), str(len(load.latencies)), number(load.rate), *load.latency().cells()]
            for name, load in loads.items()
            if load.require(f"create {name}, c={c}")
        ]
        api_, keyed, bare, wsgi = (loads[name] for name in ("api", "api_keyed", "bare", "api_wsgi"))
        name = f"POST /api/payouts/ req/s, c={c}"
        throughput = Figure("Create", name, api_.rate, "req/s", bare.rate, "bare Django view")
        served = Figure(
            "ASGI", f"{name}, the Procfile's web (ASGI)", api_.rate, "req/s", wsgi.rate,
            "the same under WSGI (gunicorn sync)",
        )  # fmt: skip
        with_key = Figure(
            "Create", f"{name}, with an Idempotency-Key", keyed.rate, "req/s", api_.rate,
            "the same create without a key",
        )  # fmt: skip
        if c == TARGET_CONCURRENCY:
            throughput = throughput.at_least(MIN_RATIO)
            with_key = with_key.at_least(IDEMPOTENT_MIN_RATIO)
            served = served.at_least(ASGI_MIN_RATIO)
            sent = sum(load.sent for load in loads.values())
            cpu_ms = 1000 * sum(load.cpu_seconds for load in loads.values()) / max(sent, 1)
            # The generator's ceiling here: the cheapest request through the same gunicorn.
            health = Request("healthz", "GET", "/healthz", {})
            ceiling = run_users(base_url, [health], c, plan.seconds / 2)["healthz"]
            figures += [
                Figure(
                    "Load generator", f"GET /healthz req/s, c={c}: the ceiling of locust and "
                    "gunicorn here", ceiling.require("healthz").rate, "req/s", bare.rate,
                    f"bare view's create, c={c}",
                ),
                Figure("Load generator", f"locust's CPU per create request, c={c}", cpu_ms, "ms"),
            ]  # fmt: skip
        api_p99, bare_p99 = api_.latency().p99_ms, bare.latency().p99_ms
        figures += [
            throughput,
            with_key,
            served,
            Figure(
                "Create",
                f"POST /api/payouts/ p99, c={c}",
                api_p99,
                "ms",
                bare_p99,
                "bare Django view",
            ),
        ]
    results.figures += figures
    results.tables.append(
        Table(
            "Create",
            "`api` is `POST /api/payouts/`, `api_keyed` the same with a new `Idempotency-Key` on "
            "every request, `bare` a benchmark-only view that runs the same key check, writes the "
            "same rows and enqueues the same task without DRF or validation, all three served by "
            "the Procfile's web (ASGI); `api_wsgi` is `api` served by the same service under WSGI "
            "(`gunicorn project.wsgi:application -k sync`, as many workers). Slices of each take "
            "turns, c locust users each.",
            ["Target", "Concurrency", "Requests", "req/s", *LATENCY_COLUMNS],
            rows,
        )
    )
