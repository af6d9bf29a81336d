"""Root URL configuration: REST API and its docs, GraphQL, the admin, health probes, metrics."""

from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from graphql_api.views import PayoutGraphQLView
from project import errors, health, metrics

# ReDoc's page without Google Fonts; its search runs in a Web Worker built from a blob: URL.
redoc = csp_update({"worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="schema", template_name="rest_api/redoc.html")
)

urlpatterns = [
    path("api/", include("rest_api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from a URL rather than inline, for the
    # Content-Security-Policy (drf-spectacular's documented choice for a strict policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", redoc, name="redoc"),
    path("graphql/", include("graphql_api.urls")),
    # Like REST's routes, served without the slash too: a redirect would turn a POST into a GET.
    path("graphql", PayoutGraphQLView.as_view()),
    # Any other path under the APIs is their JSON 404, whatever the method, with DEBUG on too
    # (Django's handler404 gives way to its debug page then).
    re_path(r"^(api|graphql)/", errors.not_found),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.MetricsView.as_view(), name="metrics"),
]

# JSON errors under /api/ and /graphql/ (a body too large, an uncaught exception), Django's
# pages elsewhere.
handler400 = "project.errors.bad_request"
handler500 = "project.errors.server_error"
