"""The POST itself: pinned to the checked address, bounded by one overall deadline."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from webhooks import sender
from webhooks.targets import ResolvedTarget, resolve_target


def loopback_target(
    port: int, host: str = "hooks.example", addresses: tuple[str, ...] = ("127.0.0.1",)
) -> ResolvedTarget:
    """A name that resolves nowhere, checked to 127.0.0.1: only the pin can reach it."""
    return ResolvedTarget(
        url=f"http://{host}:{port}/hook?k=v",
        scheme="http",
        host=host,
        port=port,
        path="/hook?k=v",
        addresses=addresses,
    )


def test_the_post_goes_to_the_checked_address_under_the_hosts_name(httpserver):
    httpserver.expect_request("/hook", method="POST", query_string="k=v").respond_with_data(
        "thanks", status=204
    )

    response = sender.post(loopback_target(httpserver.port), b"{}", {"webhook-id": "evt_1"})

    assert (response.status, response.error) == (204, "")
    (request, _), *_ = httpserver.log
    assert request.headers["host"] == f"hooks.example:{httpserver.port}"
    assert request.headers["webhook-id"] == "evt_1"
    assert request.get_data() == b"{}"


def test_a_url_with_non_ascii_path_and_query_is_sent_percent_encoded(httpserver, settings):
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    httpserver.expect_request("/bücher", method="POST", query_string="q=%C3%A9").respond_with_data(
        "", status=204
    )
    target = resolve_target(f"http://127.0.0.1:{httpserver.port}/bücher?q=é")

    response = sender.post(target, b"{}", {})

    assert (response.status, response.error) == (204, "")


def test_an_address_that_refuses_the_connection_gives_way_to_the_next_checked_one(httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    # Nothing listens on 127.0.0.2 (the receiver is bound to 127.0.0.1): refused, unsent.
    target = loopback_target(httpserver.port, addresses=("127.0.0.2", "127.0.0.1"))

    response = sender.post(target, b"{}", {})

    assert response.status == 204
    assert len(httpserver.log) == 1


def test_a_body_dripped_past_the_deadline_is_cut_off_and_the_status_stands(httpserver, monkeypatch):
    monkeypatch.setattr(sender, "TOTAL_TIMEOUT_SECONDS", 1.0)

    def drip(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(10):
                time.sleep(0.3)
                yield b"."

        return Response(body(), status=200)

    httpserver.expect_request("/hook").respond_with_handler(drip)

    started = time.monotonic()
    response = sender.post(loopback_target(httpserver.port), b"{}", {})

    # Cut off at the deadline; the 200 came within it and stands, with what arrived of the body.
    assert time.monotonic() - started < 2.0
    assert (response.status, response.succeeded) == (200, True)
    assert 1 <= len(response.body) < 10


def test_a_refused_connection_is_an_error_without_a_status():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    response = sender.post(loopback_target(port), b"{}", {})

    assert response.status is None
    assert response.error.startswith("ConnectError")
    assert response.succeeded is False


def test_a_2xx_is_a_success_and_anything_else_is_not():
    assert sender.Response(299, "", "").succeeded is True
    assert sender.Response(300, "", "").succeeded is False
    assert sender.Response(199, "", "").succeeded is False


def test_an_answer_with_nul_or_broken_utf_8_is_kept_as_text(httpserver):
    httpserver.expect_request("/hook").respond_with_data(b"a\x00b\xffc", status=500)

    response = sender.post(loopback_target(httpserver.port), b"{}", {})

    assert (response.status, response.body) == (500, "a\ufffdb\ufffdc")


@pytest.fixture
def https_receiver(monkeypatch) -> Iterator[Callable[[str], HTTPServer]]:
    """An HTTPS receiver on 127.0.0.1 with a certificate for the name given, from a test
    authority the sender is made to trust (in place of certifi's)."""
    authority = trustme.CA()
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    monkeypatch.setattr(sender, "_tls", lambda: trusting)
    servers: list[HTTPServer] = []

    def start(certified_name: str) -> HTTPServer:
        serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(certified_name).configure_cert(serving)
        server = HTTPServer(host="127.0.0.1", port=0, ssl_context=serving)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.clear()
        server.stop()


def https_target(port: int) -> ResolvedTarget:
    """hooks.example, resolving nowhere, checked to 127.0.0.1: TLS must verify the name on the
    pinned connection."""
    return ResolvedTarget(
        url=f"https://hooks.example:{port}/hook",
        scheme="https",
        host="hooks.example",
        port=port,
        path="/hook",
        addresses=("127.0.0.1",),
    )


def test_an_https_post_to_the_checked_address_verifies_the_certificate_of_the_hosts_name(
    https_receiver,
):
    receiver = https_receiver("hooks.example")
    receiver.expect_request("/hook", method="POST").respond_with_data("thanks", status=200)

    response = sender.post(https_target(receiver.port), b"{}", {})

    assert (response.status, response.body, response.error) == (200, "thanks", "")
    (request, _), *_ = receiver.log
    assert request.headers["host"] == f"hooks.example:{receiver.port}"


def test_an_https_receiver_whose_certificate_is_for_another_name_is_a_failed_attempt(
    https_receiver,
):
    receiver = https_receiver("elsewhere.example")
    receiver.expect_request("/hook", method="POST").respond_with_data("", status=200)

    response = sender.post(https_target(receiver.port), b"{}", {})

    assert response.status is None
    assert response.succeeded is False
    assert "CERTIFICATE_VERIFY_FAILED" in response.error
    assert not receiver.log
