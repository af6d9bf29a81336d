"""Read Prometheus text as the tests check it: each sample's value by name and labels."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: Any, **headers: str) -> Samples:
    """The samples a Django test client's GET /metrics serves."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def gets_by_method(samples: Samples) -> float:
    """django-prometheus' count of GET requests."""
    return value(samples, "django_http_requests_total_by_method_total", method="GET") or 0.0
