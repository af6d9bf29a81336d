"""Where webhooks may go: the URL rules and the SSRF guard, checked after DNS resolution."""

from __future__ import annotations

import ipaddress

import pytest

from payouts.errors import ErrorCode
from tests.webhooks.conftest import PUBLIC_IPV4, PUBLIC_IPV6, RECEIVER
from webhooks import errors
from webhooks.errors import TargetRefused
from webhooks.targets import resolve_target, validate_url

# Addresses no webhook may reach, each with what it is.
NOT_PUBLIC = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback, not the usual one",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local (cloud metadata)",
    "0.0.0.0": "unspecified",
    "100.64.0.1": "shared address space",
    "192.0.0.8": "IETF protocol assignments",
    "198.18.0.1": "benchmarking",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "::1": "IPv6 loopback",
    "::": "IPv6 unspecified",
    "fe80::1": "IPv6 link-local",
    "fc00::1": "IPv6 unique local",
    "fd12:3456::1": "IPv6 unique local",
    "fec0::1": "IPv6 site-local",
    "ff02::1": "IPv6 multicast",
    "ff0e::1": "IPv6 global-scope multicast",
    "2001:db8::1": "documentation",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:10.0.0.1": "IPv4-mapped private",
    "::ffff:169.254.169.254": "IPv4-mapped link-local",
    "::a00:1": "IPv4-compatible private",
    "64:ff9b::7f00:1": "NAT64 of loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 of link-local",
    "64:ff9b:1::a00:1": "local-use NAT64",
    "2002:7f00:1::": "6to4 of loopback",
    "2002:a00:1::": "6to4 of private",
}


def refusal(url: str) -> tuple[ErrorCode, str]:
    with pytest.raises(TargetRefused) as refused:
        resolve_target(url)
    assert refused.value.field == "url"
    return refused.value.code, refused.value.message


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://hooks.example.com/payouts", "https://hooks.example.com/payouts"),
        ("HTTPS://Hooks.Example.COM:8443/a/B?c=D#e", "https://hooks.example.com:8443/a/B?c=D#e"),
        ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),
        ("https://BÜCHER.example/hook", "https://xn--bcher-kva.example/hook"),
        ("https://ab--cd.example/hook", "https://ab--cd.example/hook"),
        ("https://[2606:2800:021f::0001]/", "https://[2606:2800:21f::1]/"),
        ("https://93.184.215.14", "https://93.184.215.14"),
    ],
)
def test_a_url_is_normalised(url, normalised):
    assert validate_url(url) == normalised


def test_a_non_ascii_host_name_is_encoded_as_browsers_do_not_as_idna_2003():
    # IDNA 2003 maps ß to "ss": fass.de, another domain than the one the client wrote.
    assert validate_url("https://faß.de/hook") == "https://xn--fa-hia.de/hook"


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://93.184.215.14/ü", "https://93.184.215.14/%C3%BC"),
        ("https://93.184.215.14/a?q=é", "https://93.184.215.14/a?q=%C3%A9"),
        ("https://93.184.215.14/a/b;c=d?e=f&g=h,i", "https://93.184.215.14/a/b;c=d?e=f&g=h,i"),
        ("https://93.184.215.14/a%20b?x=%2F", "https://93.184.215.14/a%20b?x=%2F"),
    ],
)
def test_a_path_and_query_are_percent_encoded_and_the_reserved_characters_kept(url, normalised):
    assert validate_url(url) == normalised


def test_a_url_longer_than_the_limit_once_percent_encoded_is_refused():
    # 1000 characters as written, 6000 once each "é" is %C3%A9.
    url = "https://example.com/" + "é" * 980

    code, message = refusal(url)

    assert (code, message) == (ErrorCode.MAX_LENGTH, errors.MSG_URL_TOO_LONG.format(limit=2048))


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("hooks.example.com/payouts", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("/payouts", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https:///payouts", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://exa mple.com/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://example.com/\tx", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        (
            "https://evil.example\\@example.com/",
            ErrorCode.WEBHOOK_URL_INVALID,
            errors.MSG_URL_INVALID,
        ),
        ("https://under_score.example/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://ü-.example/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://\u0300a.example/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://-dash.example/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://127.1/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://0x7f.1/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://2130706433/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://[::1/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://[fe80::1%25eth0]/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://example.com:0/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://example.com:65536/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        ("https://example.com:https/", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        (
            "ftp://example.com/",
            ErrorCode.WEBHOOK_URL_INVALID,
            errors.MSG_URL_SCHEME.format(scheme="ftp"),
        ),
        ("javascript:alert(1)", ErrorCode.WEBHOOK_URL_INVALID, errors.MSG_URL_INVALID),
        (
            "https://user:secret@example.com/",
            ErrorCode.WEBHOOK_URL_CREDENTIALS,
            errors.MSG_URL_CREDENTIALS,
        ),
        (
            "https://user@example.com/",
            ErrorCode.WEBHOOK_URL_CREDENTIALS,
            errors.MSG_URL_CREDENTIALS,
        ),
        ("http://example.com/", ErrorCode.WEBHOOK_URL_NOT_HTTPS, errors.MSG_URL_NOT_HTTPS),
        (
            "https://example.com/" + "a" * 2029,
            ErrorCode.MAX_LENGTH,
            errors.MSG_URL_TOO_LONG.format(limit=2048),
        ),
    ],
)
def test_a_malformed_url_is_refused_with_its_code(url, code, message):
    with pytest.raises(TargetRefused) as refused:
        validate_url(url)

    assert (refused.value.code, refused.value.message) == (code, message)


def test_a_url_of_2048_characters_is_taken():
    url = "https://example.com/" + "a" * 2028

    assert validate_url(url) == url


def test_http_is_taken_where_the_setting_allows_it(settings):
    settings.WEBHOOK_ALLOW_HTTP = True

    assert validate_url("http://Example.com/hook") == "http://example.com/hook"


def test_a_public_host_resolves_to_a_target_pinned_to_its_addresses():
    target = resolve_target(f"https://{RECEIVER}:8443/payouts?team=ops#ignored")

    assert (target.scheme, target.host, target.port) == ("https", RECEIVER, 8443)
    assert target.path == "/payouts?team=ops"
    assert target.addresses == (PUBLIC_IPV4, PUBLIC_IPV6)
    assert target.host_header == f"{RECEIVER}:8443"
    assert target.connect_url(PUBLIC_IPV4) == f"https://{PUBLIC_IPV4}:8443/payouts?team=ops"
    assert target.connect_url(PUBLIC_IPV6) == f"https://[{PUBLIC_IPV6}]:8443/payouts?team=ops"


def test_a_target_on_the_default_port_names_no_port_in_its_host_header():
    target = resolve_target(f"https://{RECEIVER}")

    assert (target.port, target.path, target.host_header) == (443, "/", RECEIVER)


@pytest.mark.parametrize("address", list(NOT_PUBLIC), ids=list(NOT_PUBLIC.values()))
def test_a_host_resolving_to_a_non_public_address_is_refused(dns, address):
    dns["intranet.example"] = [address]

    code, message = refusal("https://intranet.example/hook")

    assert code == ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS
    assert message == errors.MSG_URL_PRIVATE_ADDRESS.format(host="intranet.example")


def test_a_private_address_refusal_names_the_address_in_the_server_log_only(dns, log_lines):
    dns["intranet.example"] = [PUBLIC_IPV4, "10.1.2.3"]

    _, message = refusal("https://intranet.example/hook")

    assert "10.1.2.3" not in message
    [line] = [line for line in log_lines() if line["logger"] == "webhooks.targets"]
    assert line["level"] == "warning"
    assert "intranet.example" in line["event"]
    assert "10.1.2.3" in line["event"]


@pytest.mark.parametrize("address", list(NOT_PUBLIC), ids=list(NOT_PUBLIC.values()))
def test_a_non_public_ip_address_in_the_url_is_refused(address):
    literal = f"[{address}]" if ":" in address else address

    code, _ = refusal(f"https://{literal}/hook")

    assert code == ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS


def test_one_non_public_address_among_public_ones_refuses_the_host(dns):
    dns["rebind.example"] = [PUBLIC_IPV4, "127.0.0.1"]

    code, _ = refusal("https://rebind.example/hook")

    assert code == ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS


def test_localhost_is_refused(dns):
    dns["localhost"] = ["::1", "127.0.0.1"]

    code, _ = refusal("https://localhost:8000/hook")

    assert code == ErrorCode.WEBHOOK_URL_PRIVATE_ADDRESS


def test_an_ipv4_mapped_public_address_is_taken():
    target = resolve_target(f"https://[::ffff:{PUBLIC_IPV4}]/hook")

    assert target.addresses == (str(ipaddress.ip_address(f"::ffff:{PUBLIC_IPV4}")),)


def test_an_unresolvable_host_is_refused_as_such():
    code, message = refusal("https://nowhere.example/hook")

    assert code == ErrorCode.WEBHOOK_URL_UNRESOLVABLE
    assert message == errors.MSG_URL_UNRESOLVABLE.format(host="nowhere.example")


def test_private_targets_are_taken_where_the_setting_allows_them(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    dns["receiver"] = ["10.0.0.7"]

    target = resolve_target("https://receiver:9000/hook")

    assert target.addresses == ("10.0.0.7",)
    assert target.connect_url("10.0.0.7") == "https://10.0.0.7:9000/hook"


def test_http_is_refused_at_resolution_too():
    code, _ = refusal(f"http://{RECEIVER}/hook")

    assert code == ErrorCode.WEBHOOK_URL_NOT_HTTPS
