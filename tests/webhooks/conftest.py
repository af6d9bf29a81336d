"""A resolver the tests control, and endpoints made through the service."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from webhooks import services
from webhooks.models import WebhookEndpoint

# Public addresses (example.com's): what a receiver on the internet resolves to.
PUBLIC_IPV4 = "93.184.215.14"
PUBLIC_IPV6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
RECEIVER = "hooks.example.com"
RECEIVER_URL = f"https://{RECEIVER}/payouts"


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> dict[str, list[str]]:
    """socket.getaddrinfo answering from this table (host name: its addresses); any other name
    is unknown, as a resolver says it. RECEIVER resolves to public addresses, localhost (where
    pytest-httpserver's receiver listens) to 127.0.0.1."""
    answers: dict[str, list[str]] = {
        RECEIVER: [PUBLIC_IPV4, PUBLIC_IPV6],
        "localhost": ["127.0.0.1"],
    }

    def getaddrinfo(host: str, port: Any, family: int = 0, type: int = 0, *args: Any) -> Any:
        if is_address(host):  # a literal address resolves to itself, as a resolver's does
            return real_getaddrinfo(host, port, family, type, *args)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port),
            )
            for address in answers[host]
        ]

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def make_endpoint(owner):
    """An endpoint of the owner's (or of `holder`'s), made by the service; returns it and its
    secret."""

    def make(holder: Any = None, **fields: Any) -> tuple[WebhookEndpoint, str]:
        data = {"url": RECEIVER_URL, **fields}
        return services.endpoint_create((holder or owner).caller, data)

    return make


@pytest.fixture
def endpoint(make_endpoint) -> WebhookEndpoint:
    return make_endpoint()[0]
