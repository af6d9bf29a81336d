"""/metrics for Prometheus: every gunicorn worker's request metrics and the payout gauges."""

from __future__ import annotations

import functools
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.django import PrometheusDjangoView
from prometheus_client.multiprocess import MultiProcessCollector

from payouts.metrics import PayoutCollector


@functools.cache
def web_registry() -> CollectorRegistry:
    """What /metrics serves. Under gunicorn (PROMETHEUS_MULTIPROC_DIR set, see gunicorn.conf.py)
    the sum of every worker's files, as prometheus_client's multiprocess mode prescribes: a
    fresh registry holding only the multiprocess collector; in a single process (runserver,
    tests) the process's own. Either way with the payout gauges, which the answering worker reads
    at scrape time."""
    if PrometheusDjangoView.multiprocess_mode:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated
    else:
        registry = REGISTRY
    registry.register(PayoutCollector())
    return registry


def _authorized(request: HttpRequest) -> bool:
    expected: str = settings.METRICS_TOKEN
    if not expected:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing does not reveal the token bit by bit.
    matches = hmac.compare_digest(token.strip().encode(), expected.encode())
    return scheme.lower() == "bearer" and matches


class MetricsView(PrometheusDjangoView):
    """prometheus_client's own Django view (content negotiation, gzip), behind METRICS_TOKEN."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _authorized(request):
            response = HttpResponse(
                "METRICS_TOKEN is set: send it as Authorization: Bearer <token>.\n",
                status=401,
                content_type="text/plain; charset=utf-8",
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        self.registry = web_registry()
        return super().dispatch(request, *args, **kwargs)
