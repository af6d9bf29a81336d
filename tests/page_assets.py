"""Read a served HTML page for the files it loads, and check that the service serves each one."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.test import Client

# What WhiteNoise (and Swagger UI's start-up script view) must answer for each kind of file.
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = found.get("src") is None
        url = found.get("href") if tag == "link" else found.get("src")
        # A data: URL is the file itself, not a request.
        if url and tag in {"link", "script", "img"} and not url.startswith("data:"):
            self.urls.append(url)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def page_assets(html: str) -> list[str]:
    """The URLs of the stylesheets, icons, scripts and images the page asks the server for."""
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def inline_script_count(html: str) -> int:
    parser = _Assets()
    parser.feed(html)
    return parser.inline_scripts


def expected_content_type(url: str) -> str:
    parts = urlsplit(url)
    # Swagger UI's start-up script is served by its page's own URL (?script=).
    if parts.query == "script=":
        return "application/javascript"
    return CONTENT_TYPES[PurePosixPath(parts.path).suffix]


def assert_served(client: Client, url: str) -> None:
    """`url` answers 200 with the content type its kind of file needs."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(expected_content_type(url)), (
        url,
        response["Content-Type"],
    )
