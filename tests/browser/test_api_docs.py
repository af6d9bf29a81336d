"""Swagger UI, ReDoc and GraphiQL in a real browser, cut off from everything but the service.

Debian's Chromium (conftest.py), against gunicorn serving the service with DEBUG off as in
production; every request to another host is aborted, so a page that still needs a CDN fails
here. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import yaml

from tests.conftest import ROOT

# ReDoc's side menu always asks for its maker's logo from a CDN (no option turns that off); the
# policy refuses it and ReDoc hides the broken image. The one refusal these pages may show.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the committed OpenAPI document."""
    paths = yaml.safe_load((ROOT / "openapi.yaml").read_text())["paths"]
    return [
        (method, path) for path, item in paths.items() for method in item if method in HTTP_METHODS
    ]


def test_swagger_ui_lists_every_operation_offline(service, watched, screenshot):
    page = watched.page
    page.goto(f"{service.url}/api/docs/")

    documented = documented_operations()
    operations = page.locator(".opblock-summary")
    operations.nth(len(documented) - 1).wait_for()
    screenshot("swagger-ui")

    shown = [
        (
            summary.locator(".opblock-summary-method").inner_text().lower(),
            summary.locator(".opblock-summary-path").inner_text(),
        )
        for summary in operations.all()
    ]
    assert sorted(shown) == sorted(documented)
    assert watched.settled() == []


def test_redoc_renders_the_api_offline(service, watched, screenshot):
    page = watched.page
    page.goto(f"{service.url}/api/redoc/")

    page.get_by_role("heading", name="Payout Management Service (1.0.0)").wait_for()
    page.get_by_role("heading", name="List payouts").wait_for()
    # The search runs in ReDoc's Web Worker, which the policy allows on this page only.
    page.get_by_placeholder("Search...").fill("delete")
    found = page.locator("[data-role='search:results']")
    found.get_by_text("Delete a PENDING payout").wait_for()
    screenshot("redoc")

    assert [problem for problem in watched.settled() if REDOC_LOGO not in problem] == []


def test_graphiql_runs_a_query_offline(service, watched, screenshot):
    page = watched.page
    headers = json.dumps({"Authorization": f"Bearer {service.api_key}"})
    # The page reads its query and headers from the address, decoding %20 but not "+".
    query = urlencode({"q": "{ payouts { totalCount } }", "headers": headers}, quote_via=quote)
    page.goto(f"{service.url}/graphql/?{query}")

    page.locator(".graphiql-query-editor .CodeMirror").wait_for()
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    result.get_by_text('"totalCount": 0').wait_for()
    screenshot("graphiql")

    assert watched.settled() == []
