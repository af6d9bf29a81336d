"""Chunked request bodies, which Django under WSGI would read as empty, given a length."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodies:
    """Read a chunked body (no Content-Length) up to the body limit and hand it on with its length.

    gunicorn de-chunks such a body and marks its input `wsgi.input_terminated`, but Django reads
    Content-Length bytes and takes a missing one for 0: a chunked create would look empty and be
    refused for missing fields. At most one byte past DATA_UPLOAD_MAX_MEMORY_SIZE is read; a
    body longer than that gets a length over the limit, which Django refuses (413) unread.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)
