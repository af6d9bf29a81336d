"""Where a webhook may be sent: the URL rules and the guard against server-side request forgery.

One place decides, for endpoints being created or changed and again for every delivery:
`validate_url` checks the URL's form, `resolve_target` resolves its host and refuses it unless
every address is public.

Why a delivery connects to the address checked here, never to the host name again: DNS
rebinding. A host can answer a public address while it is checked and 127.0.0.1 a moment later,
when the HTTP client resolves it for itself; a name with a short TTL makes that easy. So the
delivery resolves with `resolve_target` right before each attempt and connects to one of
`ResolvedTarget.addresses` (`ResolvedTarget.connect_url`), sending `Host: host_header` and
httpx's `sni_hostname` extension set to `host`, so that the receiver sees its own name and TLS
verifies the certificate against it. Redirects are not followed: a redirect would be a new,
unchecked target.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import idna
from django.conf import settings

from payouts.errors import ErrorCode
from webhooks.errors import (
    MSG_URL_CREDENTIALS,
    MSG_URL_INVALID,
    MSG_URL_NOT_HTTPS,
    MSG_URL_PRIVATE_ADDRESS,
    MSG_URL_SCHEME,
    MSG_URL_TOO_LONG,
    MSG_URL_UNRESOLVABLE,
    TargetRefused,
)
from webhooks.models import URL_MAX_LENGTH

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"https": 443, "http": 80}
# A host name as DNS spells it once IDNA-encoded: labels of letters, digits and inner hyphens.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
_HOST_NAME_MAX_LENGTH = 253
# A last label that is a number makes resolvers read the whole name as an IPv4 address in a
# short or hexadecimal form ("127.1", "0x7f.1"), as browsers' URL parsers do: only the dotted
# quad names an address here, so that the address checked is the one written.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.ASCII)
# What percent-encoding leaves alone in a path, query or fragment: the reserved characters
# (RFC 3986), which mean what the client wrote, and "%", which starts an escape already made.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%"

# Addresses that stand for an IPv4 address inside them, judged by that address: the NAT64
# well-known prefix (RFC 6052), besides IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16), which
# the ipaddress module unpacks itself.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not public, yet `is_global` in the ipaddress tables of Python 3.11 (later ones agree): IETF
# protocol assignments (RFC 6890; its anycast addresses are no webhook receivers either) and
# local-use NAT64 (RFC 8215).
_NOT_GLOBAL = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class ResolvedTarget:
    """A webhook URL and the addresses its host had when they were checked."""

    # The URL as stored: scheme and host in lower case, the host IDNA-encoded.
    url: str
    scheme: str
    # The host name (IDNA-encoded) or IP address, IPv6 without brackets: TLS's server name.
    host: str
    port: int
    # The path and query the request asks for ("/" at least); a fragment is never sent.
    path: str
    # Every address the host resolved to, in the resolver's order, each checked.
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        """The Host header: the host, bracketed if IPv6, with the port unless the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def connect_url(self, address: str) -> str:
        """The URL that reaches `address`, one of `addresses`, for this target's path."""
        # A link-local IPv6 address (allowed only with WEBHOOK_ALLOW_PRIVATE_TARGETS) carries
        # its interface as a zone, which a URL writes as %25.
        literal = f"[{address.replace('%', '%25')}]" if ":" in address else address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"


def _split(url: str) -> tuple[SplitResult, str, int]:
    """The parts of a URL of the right form, its host in canonical form and its port."""
    if len(url) > URL_MAX_LENGTH:
        raise TargetRefused(ErrorCode.MAX_LENGTH, MSG_URL_TOO_LONG.format(limit=URL_MAX_LENGTH))
    # urlsplit drops tabs and newlines silently, and parsers disagree on what a backslash
    # means (browsers read it as "/"): refused rather than read one way here and another there.
    if not url.isprintable() or " " in url or "\\" in url:
        raise TargetRefused(ErrorCode.WEBHOOK_URL_INVALID, MSG_URL_INVALID)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(ErrorCode.WEBHOOK_URL_INVALID, MSG_URL_INVALID) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        if not parts.scheme or not parts.netloc:
            raise TargetRefused(ErrorCode.WEBHOOK_URL_INVALID, MSG_URL_INVALID)
        raise TargetRefused(
            ErrorCode.WEBHOOK_URL_INVALID, MSG_URL_SCHEME.format(scheme=parts.scheme)
        )
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(ErrorCode.WEBHOOK_URL_CREDENTIALS, MSG_URL_CREDENTIALS)
    host = _canonical_host(parts.hostname or "")
    if host is None or port == 0:
        raise TargetRefused(ErrorCode.WEBHOOK_URL_INVALID, MSG_URL_INVALID)
    return parts._replace(scheme=scheme), host, DEFAULT_PORTS[scheme] if port is None else port


def _canonical_host(host: str) -> str | None:
    """An IP address in its canonical text, or a DNS name IDNA-encoded in lower case; None
    when it is neither."""
    if "%" in host:
        # An IPv6 zone (an interface name) or a percent-encoded name: neither names one host.
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.isascii():
        name = host.lower()
    else:
        # UTS 46 as browsers apply it, IDNA 2008 underneath ("faß.de" is xn--fa-hia.de), not
        # Python's "idna" codec, which is IDNA 2003 ("fass.de": another domain).
        try:
            name = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    labels = name.removesuffix(".").split(".")
    if len(name) > _HOST_NAME_MAX_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    return name


def validate_url(url: str) -> str:
    """The URL in normalised form if a webhook may be sent to it, else TargetRefused.

    An absolute http(s) URL with a host and no user name or password, at most URL_MAX_LENGTH
    characters, https unless settings.WEBHOOK_ALLOW_HTTP. Where it points is resolve_target's
    to check.
    """
    parts, host, _ = _split(url)
    if parts.scheme != "https" and not settings.WEBHOOK_ALLOW_HTTP:
        raise TargetRefused(ErrorCode.WEBHOOK_URL_NOT_HTTPS, MSG_URL_NOT_HTTPS)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    # Percent-encoded as browsers send them: the HTTP client takes ASCII URLs only.
    normalised = urlunsplit(
        parts._replace(
            netloc=netloc,
            path=quote(parts.path, safe=_URL_SAFE),
            query=quote(parts.query, safe=_URL_SAFE),
            fragment=quote(parts.fragment, safe=_URL_SAFE),
        )
    )
    if len(normalised) > URL_MAX_LENGTH:
        raise TargetRefused(ErrorCode.MAX_LENGTH, MSG_URL_TOO_LONG.format(limit=URL_MAX_LENGTH))
    return normalised


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public_address(address: IPAddress) -> bool:
    """Whether an address is one the open internet routes to a single host: not loopback,
    private, link-local, unspecified, multicast, reserved or shared (100.64.0.0/10), nor an
    IPv6 form of such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local:
            return False
    if any(address in network for network in _NOT_GLOBAL):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        found = []
    # Each address once, in the resolver's order (it lists one per protocol and socket type).
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise TargetRefused(
            ErrorCode.WEBHOOK_URL_UNRESOLVABLE, MSG_URL_UNRESOLVABLE.format(host=host)
        )
    return addresses


def resolve_target(url: str) -> ResolvedTarget:
    """Check a URL as validate_url does, resolve its host and refuse it (TargetRefused) when any
    address is not public, unless settings.WEBHOOK_ALLOW_PRIVATE_TARGETS.

    Any, not all: the HTTP client may connect to any address of the list. An IP address in the
    URL is checked the same way, without a lookup.
    """
    normalised = validate_url(url)
    parts, host, port = _split(normalised)
    try:
        addresses: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
    except ValueError:
        addresses = _resolve(host, port)
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address)):
                # The address stays in the server's log: told to the client, the refusal would
                # let it map the internal network through this server's resolver.
                logger.warning(
                    "Webhook target %s refused: it resolves to %s, not a public address",
                    host,
                    address,
                )
                message = MSG_URL_PRIVATE_ADDRESS.format(host=host)
                raise TargetRefused(ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS, message)
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return ResolvedTarget(normalised, parts.scheme, host, port, path, addresses)
