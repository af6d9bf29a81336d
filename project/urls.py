"""Root URL configuration: REST API and its docs, GraphQL, the admin, health probes, metrics."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from graphql_api.views import PayoutGraphQLView
from project import errors, health, metrics

urlpatterns = [
    path("api/", include("rest_api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
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

# With DEBUG on (make run, docker compose) the admin's CSS is served by Django itself, under any
# WSGI server; with DEBUG off this adds nothing and a web server or CDN serves STATIC_ROOT.
urlpatterns += staticfiles_urlpatterns()

# JSON errors under /api/ and /graphql/ (a body too large, an uncaught exception), Django's
# pages elsewhere.
handler400 = "project.errors.bad_request"
handler500 = "project.errors.server_error"
