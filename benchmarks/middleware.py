"""Reports the SQL a request ran, in a response header, when the harness asks for it."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponseBase
from django.test.utils import CaptureQueriesContext

from benchmarks.protocol import PROBE_REQUEST_HEADER, QUERY_SQL_HEADER, encode_sql


def query_probe(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    # Only probed requests pay for capturing: timed requests run exactly as in production.
    def middleware(request: HttpRequest) -> HttpResponseBase:
        if PROBE_REQUEST_HEADER not in request.headers:
            return get_response(request)
        with CaptureQueriesContext(connection) as queries:
            response = get_response(request)
        statements = [str(query["sql"]) for query in queries.captured_queries]
        response[QUERY_SQL_HEADER] = encode_sql(statements)
        return response

    return middleware
