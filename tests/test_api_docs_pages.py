"""Swagger UI, ReDoc and GraphiQL load everything from the service, under its strict CSP."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.page_assets import assert_served, inline_script_count, page_assets

DOCS_PAGES = ["/api/docs/", "/api/redoc/", "/graphql/"]


@pytest.fixture
def docs_page(client, settings, request):
    """The page's response, as a browser asks for it, with GraphiQL on (as DEBUG turns it on)."""
    settings.GRAPHQL_GRAPHIQL = True
    response = client.get(request.param, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("docs_page", DOCS_PAGES, indirect=True)
def test_a_docs_page_names_no_address_outside_the_service(docs_page):
    assert re.findall(r"https?://\S+", docs_page.content.decode()) == []


@pytest.mark.parametrize("docs_page", DOCS_PAGES, indirect=True)
def test_every_file_a_docs_page_loads_is_served(docs_page, client):
    assets = page_assets(docs_page.content.decode())

    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        assert_served(client, url)


@pytest.mark.parametrize("docs_page", DOCS_PAGES, indirect=True)
def test_a_docs_page_runs_no_inline_script(docs_page):
    assert inline_script_count(docs_page.content.decode()) == 0


@pytest.mark.parametrize("docs_page", DOCS_PAGES, indirect=True)
def test_a_docs_page_carries_a_policy_that_allows_only_the_services_scripts(docs_page):
    directives = policy(docs_page)

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", ["/api/payouts/", "/admin/login/", "/healthz"])
def test_every_other_page_carries_the_same_policy(client, path):
    directives = policy(client.get(path))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert "worker-src" not in directives


def test_only_redoc_may_start_a_worker_from_a_blob(client):
    """ReDoc's search runs in a Web Worker built from a blob: URL."""
    assert policy(client.get("/api/redoc/"))["worker-src"] == ["'self'", "blob:"]


def test_the_vendored_graphiql_files_match_their_pins():
    checked = subprocess.run(
        [sys.executable, "scripts/vendor_graphiql.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert checked.returncode == 0, checked.stderr


def test_hueys_dashboard_is_left_out_of_the_policy(client):
    """Its inline scripts: the refresh, and the confirmation before deleting tasks."""
    response = client.get("/admin/hueystats/hueydashboard/")

    assert "Content-Security-Policy" not in response
    assert "Content-Security-Policy" in client.get("/admin/login/")
