"""Benchmark-only routes: the product's, plus the bare baseline view."""

from __future__ import annotations

from django.urls import path

from benchmarks.create import BARE_CREATE_PATH
from benchmarks.views import bare_payout_create
from project.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path(BARE_CREATE_PATH.strip("/") + "/", bare_payout_create, name="bench-bare-create"),
    *project_urlpatterns,
]
