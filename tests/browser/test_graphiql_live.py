"""GraphiQL runs subscriptions over the WebSocket at /graphql/ in a real browser, under the
page's Content-Security-Policy (`connect-src 'self'`): with an API key pasted in its Headers
pane, and with an operator's admin session and no key.

The service is the live gunicorn of conftest.py, with production settings on the embedded
default (the web process relays the event stream to its subscribers); payouts change through
REST and through the Procfile's worker, as they do in production.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect

from graphql_api.types import global_id_for
from tests.browser.conftest import (
    OPERATOR,
    OPERATOR_PASSWORD,
    RECORD_VIOLATIONS,
    LiveService,
    Watch,
)
from tests.conftest import payout_payload
from tests.integration.conftest import Consumer, wait_until

WATCH_PAYOUT = """subscription WatchPayout($id: ID!) {
  payoutUpdated(id: $id) {
    status
    amount
  }
}"""
EVERY_EVENT = """subscription EveryEvent {
  payoutEvents {
    type
    sequence
    payout {
      payoutId
      status
    }
  }
}"""
STOP = "Stop query (Ctrl-Enter)"
EXECUTE = "Execute query (Ctrl-Enter)"
# What Chromium logs for each 401 answer: GraphiQL reads the schema as the page loads, before a
# key has been pasted (the README's steps), and the service refuses it.
UNAUTHORIZED = "console: Failed to load resource: the server responded with a status of 401"
# The worker's provider call, long enough for the page to show PROCESSING before COMPLETED.
PROCESSING_SECONDS = 1.5


class Frames:
    """The GraphQL-over-WebSocket messages the page sent, decoded, in order."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.urls: list[str] = []
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", self._opened)

    def _opened(self, socket: WebSocket) -> None:
        self.urls.append(socket.url)
        socket.on("framesent", lambda payload: self.sent.append(json.loads(payload)))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.sent if message["type"] == kind]

    def wait_for(self, kind: str, timeout: float = 15) -> dict[str, Any]:
        """The first message of this type, once sent: Playwright delivers frames to us only
        while the test waits in one of its calls, hence its own timer as the poll."""
        deadline = time.monotonic() + timeout
        while not self.of_type(kind):
            assert time.monotonic() < deadline, f"no {kind} sent in {timeout} s: {self.sent}"
            self.page.wait_for_timeout(20)
        return self.of_type(kind)[0]


@pytest.fixture
def frames(watched: Watch) -> Frames:
    return Frames(watched.page)


@pytest.fixture
def worker(service: LiveService) -> Iterator[Consumer]:
    """The Procfile's worker for the live service, started by the test when it wants it: every
    payout it takes is paid, after PROCESSING_SECONDS."""
    consumer = Consumer(
        {
            **service.env,
            "PAYOUT_PROCESSING_DELAY_SECONDS": str(PROCESSING_SECONDS),
            "PAYOUT_FAILURE_RATE": "0",
            # Its "Huey consumer started" line is INFO.
            "LOG_LEVEL": "INFO",
        },
        workers=1,
    )
    yield consumer
    consumer.stop()
    consumer.log.unlink(missing_ok=True)


def policy_of(headers: dict[str, str]) -> dict[str, str]:
    """A Content-Security-Policy header's directives, by name."""
    directives = (
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    return {directive[0]: directive[1] for directive in directives if len(directive) == 2}


def open_graphiql(page: Page, base_url: str, query: str, variables: object = None) -> None:
    """GraphiQL with `query` (and `variables`) in its editors, as a shared link opens it, and
    the schema read; the page is served under a policy that allows connections to itself only."""
    parameters = {"q": query}
    if variables is not None:
        parameters["variables"] = json.dumps(variables)
    # The page reads its query from the address, decoding %20 but not "+".
    response = page.goto(f"{base_url}/graphql/?{urlencode(parameters, quote_via=quote)}")
    assert response is not None
    assert policy_of(response.headers)["connect-src"] == "'self'"
    page.locator(".graphiql-query-editor .CodeMirror").wait_for()
    page.wait_for_load_state("networkidle")


def paste_headers(page: Page, headers: dict[str, str]) -> None:
    """Into the Headers pane, as a person pastes them."""
    page.get_by_role("button", name="Headers", exact=True).click()
    page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
    page.keyboard.insert_text(json.dumps(headers))


def result_pane(page: Page) -> Locator:
    return page.locator(".result-window")


def test_graphiql_with_a_pasted_api_key_shows_a_payout_change_as_it_happens(
    service, watched, frames, worker, screenshot
):
    created = service.api("POST", "/api/payouts/", payout_payload(amount="10.00"))
    assert created.status == 201, created.body
    payout_id = uuid.UUID(created.json()["id"])
    page = watched.page
    open_graphiql(page, service.url, WATCH_PAYOUT, {"id": str(global_id_for(payout_id))})
    schema_refused = list(watched.problems)
    assert all(problem.startswith(UNAUTHORIZED) for problem in schema_refused)
    authorization = f"Bearer {service.api_key}"
    paste_headers(page, {"Authorization": authorization})

    page.get_by_role("button", name=EXECUTE).click()
    result = result_pane(page)
    result.get_by_text('"status": "PENDING"').wait_for()
    result.get_by_text('"amount": "10.00"').wait_for()
    expect(page.get_by_role("button", name=STOP)).to_be_visible()
    ws_url = service.url.replace("http://", "ws://", 1)
    assert frames.urls == [f"{ws_url}/graphql/"]
    assert frames.wait_for("connection_init")["payload"] == {"Authorization": authorization}

    patched = service.api("PATCH", f"/api/payouts/{payout_id}/", {"amount": "25.50"})
    assert patched.status == 200, patched.body
    result.get_by_text('"amount": "25.50"').wait_for()
    expect(result).to_contain_text('"status": "PENDING"')
    screenshot("graphiql-subscription")

    worker.start()
    # Started in seconds, or in tens of them on a busy machine; then it takes the payout at once.
    assert wait_until(lambda: "Huey consumer started" in worker.output(), timeout=60), (
        worker.output()
    )
    result.get_by_text('"status": "PROCESSING"').wait_for()
    result.get_by_text('"status": "COMPLETED"').wait_for()
    # COMPLETED is final: the server completes the subscription, and GraphiQL shows it ended.
    expect(page.get_by_role("button", name=EXECUTE)).to_be_visible()
    expect(result).to_contain_text('"amount": "25.50"')
    screenshot("graphiql-subscription-completed")
    assert watched.settled() == schema_refused


def log_in_to_the_admin(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", OPERATOR)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(OPERATOR)
    # Left before its scripts have loaded, the page's requests for them count as failed.
    page.wait_for_load_state("networkidle")


def test_graphiql_with_an_admin_session_and_no_key_shows_each_new_payout(
    service, watched, frames, screenshot
):
    page = watched.page
    log_in_to_the_admin(page, service.url)
    open_graphiql(page, service.url, EVERY_EVENT)

    page.get_by_role("button", name=EXECUTE).click()
    assert frames.wait_for("connection_init").get("payload", {}) == {}
    # The event of a payout committed before the server has the subscription is not sent.
    frames.wait_for("subscribe")
    expect(page.get_by_role("button", name=STOP)).to_be_visible()
    created = service.api("POST", "/api/payouts/", payout_payload(amount="42.00"))
    assert created.status == 201, created.body

    result = result_pane(page)
    result.get_by_text(f'"payoutId": "{created.json()["id"]}"').wait_for()
    expect(result).to_contain_text('"type": "CREATED"')
    expect(result).to_contain_text('"sequence": 1')
    expect(result).to_contain_text('"status": "PENDING"')
    expect(page.get_by_role("button", name=STOP)).to_be_visible()
    screenshot("graphiql-subscription-staff")
    assert watched.settled() == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_graphiql_policy_lets_the_page_open_websockets_to_its_own_origin_only(
    service, page, scheme
):
    """CSP3's 'self' covers ws: for an http page and wss: for an https one, which older browsers
    did not do. No https server here: the browser is handed a page with GraphiQL's own policy
    at an https address, and judges each connection by it before making any."""
    graphiql = service.server.request("GET", "/graphql/", headers={"Accept": "text/html"})
    assert graphiql.status == 200
    policy = graphiql.headers["content-security-policy"]
    port = service.server.port
    origin = f"{scheme}://127.0.0.1:{port}"
    socket_scheme = {"http": "ws", "https": "wss"}[scheme]
    own = f"{socket_scheme}://127.0.0.1:{port}/graphql/"
    # Another origin: the same host on a port nothing listens on.
    other = f"{socket_scheme}://127.0.0.1:9/graphql/"
    page.route(
        f"{origin}/graphql/",
        lambda route: route.fulfill(
            body="<!doctype html><title>GraphiQL's policy</title>",
            headers={"content-type": "text/html", "content-security-policy": policy},
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{origin}/graphql/")

    page.evaluate("(urls) => urls.forEach((url) => new WebSocket(url))", [own, other])
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations") == [f"connect-src refused {other}"]
