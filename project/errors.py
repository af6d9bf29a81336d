"""Errors that no API view answers: an unknown path, a body over the upload limit read before a
view, an exception no view caught.

Under /api/ the answer is REST's error envelope, under /graphql/ a GraphQL error list, and
elsewhere (the admin) Django's own page.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from graphql_api.views import request_error
from payouts.errors import MSG_SERVER_ERROR, MSG_TOO_LARGE, ErrorCode
from rest_api.errors import MSG_BAD_REQUEST, MSG_NOT_FOUND, error_body


def _json_error(
    request: HttpRequest, code: ErrorCode, message: str, status: int
) -> HttpResponse | None:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code.value, message), status=status)
    if request.path == "/graphql" or request.path.startswith("/graphql/"):
        return request_error(status, message, code)
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        answer = _json_error(request, ErrorCode.PAYLOAD_TOO_LARGE, MSG_TOO_LARGE, 413)
    else:
        answer = _json_error(request, ErrorCode.INVALID, MSG_BAD_REQUEST, 400)
    return answer or defaults.bad_request(request, exception)


@csrf_exempt
def not_found(request: HttpRequest, *args: str) -> HttpResponse:
    """The view of every path under /api/ and /graphql/ that names nothing."""
    answer = _json_error(request, ErrorCode.NOT_FOUND, MSG_NOT_FOUND, 404)
    assert answer is not None  # routed only under those two prefixes
    return answer


def server_error(request: HttpRequest) -> HttpResponse:
    answer = _json_error(request, ErrorCode.SERVER_ERROR, MSG_SERVER_ERROR, 500)
    return answer or defaults.server_error(request)
