"""Stand-in (replaced by webhooks-a): where a webhook may be sent, checked after DNS resolution."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ResolvedTarget:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def validate_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (settings.WEBHOOK_ALLOW_HTTP and parts.scheme == "http"):
        raise TargetRefused("invalid_url", "The URL must start with https://.")
    if not parts.hostname:
        raise TargetRefused("invalid_url", "The URL must name a host.")
    return url


def resolve_target(url: str) -> ResolvedTarget:
    validate_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetRefused("unresolvable", f"{host} does not resolve: {error}") from error
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global and not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
            raise TargetRefused("private_target", f"{host} resolves to {address}, not public.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return ResolvedTarget(parts.scheme, host, port, path, addresses)
