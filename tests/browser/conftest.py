"""A real headless browser for the tests that look at pages: Debian's Chromium, driven by
Playwright's sync API (no browser download)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Kept by CI as build artifacts; `artifacts/` is ignored by git.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module; a missing one fails under CI=true, else skips.

    Not one per session: Playwright's loop would stay running under every later test, and
    asyncio.run() or async_to_sync() there would refuse to start."""
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (Debian's chromium package)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: they must run in CI")
        pytest.skip(reason)
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django takes every
    # ORM call a test makes meanwhile (arranging data, flushing the database afterwards) for one
    # made from async code, and refuses it. These calls never run inside the loop: Playwright
    # only switches to it while a browser command waits. The live server answers the browser
    # from its own thread, where no loop runs and Django's check stays on.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


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
