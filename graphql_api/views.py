"""The /graphql/ endpoint: POST for clients, GraphiQL for browsers when the setting allows it."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from graphql_api.schema import schema
from payouts import strict_json
from payouts.errors import (
    MSG_JSON_NOT_UTF8,
    MSG_TOO_LARGE,
    ErrorCode,
    InputRefused,
    code_for_status,
)

MSG_MEDIA_TYPE = "Send the request as application/json."
MSG_NOT_A_REQUEST = (
    'The body must be a JSON object such as {"query": "{ payouts { totalCount } }"}.'
)


class RefusedRequest(HTTPException):
    """A request error with its code from payouts' table."""

    def __init__(self, status_code: int, reason: str, code: ErrorCode) -> None:
        super().__init__(status_code, reason)
        self.code = code


def request_error(status_code: int, message: str, code: ErrorCode) -> JsonResponse:
    """A request that never reached execution, answered as GraphQL over HTTP answers one."""
    body = {"errors": [{"message": message, "extensions": {"code": code.name}}]}
    response = JsonResponse(body, status=status_code)
    if status_code == 405:
        response["Allow"] = "GET, POST"
    return response


# Clients POST JSON without a CSRF token; like the REST API, there is no session auth to protect.
@method_decorator(csrf_exempt, name="dispatch")
class PayoutGraphQLView(GraphQLView):
    schema = schema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        # Django builds a view per request, so the setting is read per request too.
        self.graphql_ide = "graphiql" if settings.GRAPHQL_GRAPHIQL else None

    def decode_json(self, data: str | bytes) -> object:
        try:
            return strict_json.loads(data)
        except InputRefused as refused:
            raise RefusedRequest(400, refused.message, refused.code) from None

    def run(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Strawberry answers its request errors (a body that is not JSON, no query, a PUT) in
        # plain text; they are JSON here, like every other answer of the API.
        if request.method == "POST" and request.content_type != "application/json":
            return request_error(415, MSG_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
        try:
            # An object, or a list (a batch, which Strawberry refuses itself); Strawberry reads
            # any other JSON value as if it were an object and fails.
            if request.method == "POST" and request.body.lstrip()[:1] not in (b"{", b"["):
                return request_error(400, MSG_NOT_A_REQUEST, ErrorCode.NOT_AN_OBJECT)
            return super().run(request, *args, **kwargs)
        except RequestDataTooBig:
            return request_error(413, MSG_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE)
        except UnicodeDecodeError:
            # Strawberry decodes the body itself, before decode_json could refuse it as REST does.
            return request_error(400, MSG_JSON_NOT_UTF8, ErrorCode.PARSE_ERROR)
        except RefusedRequest as refused:
            return request_error(refused.status_code, refused.reason, refused.code)
        except HTTPException as error:
            return request_error(
                error.status_code, error.reason, code_for_status(error.status_code)
            )
