"""Swagger UI, ReDoc and GraphiQL in a real browser, cut off from everything but the service.

Debian's Chromium (conftest.py), against gunicorn serving the service with DEBUG off as in
production; every request to another host is aborted, so a page that still needs a CDN fails
here. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import pytest
import yaml
from playwright.sync_api import ConsoleMessage, Page, Request, Route

from tests.conftest import ROOT, fresh_environment
from tests.integration.live_server import Gunicorn

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# ReDoc's side menu always asks for its maker's logo from a CDN (no option turns that off); the
# policy refuses it and ReDoc hides the broken image. The one refusal these pages may show.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# The page records what the Content-Security-Policy refused, for the test to read.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI}`);
});
"""
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@dataclass
class LiveService:
    url: str
    api_key: str


@dataclass
class Watch:
    """Everything that went wrong while a page loaded, one line each."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def settled(self) -> list[str]:
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.cspViolations")
        return [*self.problems, *(f"CSP: {violation}" for violation in violations)]


# Chromium is looked for first, so a machine without it spends nothing on the service.
pytestmark = pytest.mark.usefixtures("browser")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """gunicorn with production settings on a throwaway SQLite database, GraphiQL on."""
    data = tmp_path_factory.mktemp("browser-service")
    env = fresh_environment(
        DATA_DIR=str(data), GRAPHQL_GRAPHIQL="true", SECURE_SSL_REDIRECT="false"
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--no-input")
    key = manage("create_api_key", "browser-test").splitlines()[-1]
    server = Gunicorn(data / "gunicorn.log")
    server.start(env)
    yield LiveService(f"http://127.0.0.1:{server.port}", key)
    server.stop()


@pytest.fixture
def watched(page: Page) -> Watch:
    """The page, with its requests to any other host aborted and its errors recorded."""
    watch = Watch(page)

    def only_the_service(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            watch.problems.append(f"asked another host: {request.url}")
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.problems.append(f"console: {message.text}")

    def failed(request: Request) -> None:
        watch.problems.append(f"failed: {request.url} ({request.failure})")

    page.context.route("**/*", only_the_service)
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", console)
    page.on("pageerror", lambda error: watch.problems.append(f"page error: {error}"))
    page.on("requestfailed", failed)
    return watch


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
