"""The innermost middleware: it keeps Django's middleware stack synchronous under ASGI."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


def sync_stack_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Pass the request on, unchanged; being synchronous only is its job.

    Under ASGI Django runs each middleware that can be asynchronous (Django's own, WhiteNoise,
    django-prometheus) asynchronously from the innermost up to the first synchronous-only one
    (request_id_middleware), and such a middleware calls its hooks through a thread each: two
    trips between the event loop and a thread per middleware and request. Innermost, this one
    makes the whole stack synchronous: it runs in one thread, entered once. Measured on
    /healthz with one worker: 6 to 9 ms a request without it, 3.5 with it (1.3 under WSGI).
    """
    return get_response
