"""A real headless browser for the tests that look at pages: Debian's Chromium, driven by
Playwright's sync API (no browser download); and the service as production runs it, for pages
that need it on the wire."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
    sync_playwright,
)

from tests.conftest import ROOT, fresh_environment
from tests.integration.live_server import Answer, Gunicorn

CHROMIUM = Path("/usr/bin/chromium")
# Kept by CI as build artifacts; `artifacts/` is ignored by git.
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The staff user of the live service, for pages that need the admin's session.
OPERATOR = "operator"
OPERATOR_PASSWORD = "browser-operator-pw-123"
# The page records what the Content-Security-Policy refused, for the test to read.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; a missing one fails under CI=true, else skips, before anything else
    (the live service) is started for nothing."""
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (Debian's chromium package)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: they must run in CI")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """One headless Chromium per test module.

    Not one per session: Playwright's loop would stay running under every later test, and
    asyncio.run() or async_to_sync() there would refuse to start."""
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django takes every
    # ORM call a test makes meanwhile (arranging data, flushing the database afterwards) for one
    # made from async code, and refuses it. These calls never run inside the loop: Playwright
    # only switches to it while a browser command waits. The live server answers the browser
    # from its own thread, where no loop runs and Django's check stays on.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=str(chromium))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page with cookies of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Playwright's 5 s defaults, tripled: CI machines are small and busy.
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions, as they happen."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks every site for /favicon.ico by itself; no page refers to one.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    """Save the page, whole, as artifacts/screenshots/<name>.png."""

    def save(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@dataclass
class LiveService:
    url: str
    api_key: str
    server: Gunicorn
    env: dict[str, str]

    def api(self, method: str, path: str, body: object = None) -> Answer:
        """A REST call with the client's key."""
        return self.server.request(method, path, body, {"Authorization": f"Bearer {self.api_key}"})


@pytest.fixture(scope="session")
def service(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The Procfile's web (gunicorn, Uvicorn workers) with production settings on a throwaway
    SQLite database, GraphiQL on: a client's API key, and a staff user (OPERATOR). One for the
    session, shared by the modules: each manage.py call takes seconds."""
    data = tmp_path_factory.mktemp("browser-service")
    env = fresh_environment(
        DATA_DIR=str(data),
        GRAPHQL_GRAPHIQL="true",
        SECURE_SSL_REDIRECT="false",
        DJANGO_SUPERUSER_PASSWORD=OPERATOR_PASSWORD,
    )

    def manage(*commands: tuple[str, ...]) -> list[str]:
        """Run these manage.py commands side by side (each takes seconds to start); their
        outputs."""
        running = [
            subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in commands
        ]
        outputs = []
        for process in running:
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
            outputs.append(stdout)
        return outputs

    manage(("migrate", "--no-input"))
    created_key, _ = manage(
        ("create_api_key", "browser-test"),
        ("createsuperuser", "--no-input", "--username", OPERATOR, "--email", "op@example.com"),
    )
    key = created_key.splitlines()[-1]
    server = Gunicorn(data / "gunicorn.log")
    server.start(env)
    yield LiveService(f"http://127.0.0.1:{server.port}", key, server, env)
    server.stop()


@dataclass
class Watch:
    """Everything that went wrong while a page loaded, one line each."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def settled(self) -> list[str]:
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.cspViolations")
        return [*self.problems, *(f"CSP: {violation}" for violation in violations)]


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
