"""X-Request-ID: every response names its request, and every line logged for it carries the id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
# A client's (or a proxy's) own id is kept when it is short and made of characters that are
# safe in a header, a log line and a shell: a UUID, a hex trace id, "req-2024:42/7=". Anything
# else (too long, spaces, quotes, control characters) is replaced, never echoed.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@=+/-]{1,128}")


def new_request_id() -> str:
    return str(uuid.uuid4())


def accepted_request_id(given: str | None) -> str:
    """The client's id if it is acceptable, else a new one."""
    if given is not None and VALID_REQUEST_ID.fullmatch(given):
        return given
    return new_request_id()


def request_id_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        request_id = accepted_request_id(request.headers.get(HEADER))
        # A thread serves one request after another: nothing of the previous one may stay.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        response = get_response(request)
        response[HEADER] = request_id
        return response

    return middleware


def _forget_request(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


# Kept until the response is closed rather than when the middleware returns: Django logs a
# 4xx or 5xx after the middleware, and gunicorn its access line before closing the response.
request_finished.connect(_forget_request, dispatch_uid="project.request_id")
