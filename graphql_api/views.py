"""The /graphql/ endpoint: POST for clients, GraphiQL for browsers when the setting allows it."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from clients import ratelimit
from clients.authentication import SCHEME, AuthenticationRefused, caller_for_authorization
from graphql_api.context import PayoutContext
from graphql_api.errors import server_failed
from graphql_api.idempotency import mutation_fields
from graphql_api.schema import schema
from idempotency import services as idempotency
from idempotency.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyMultipleMutations,
    IdempotencyRefused,
)
from payouts import strict_json
from payouts.callers import Caller, staff_caller
from payouts.errors import (
    MSG_JSON_NOT_UTF8,
    MSG_TOO_LARGE,
    MSG_UNAVAILABLE,
    ErrorCode,
    InputRefused,
    code_for_status,
)

logger = logging.getLogger(__name__)

MSG_MEDIA_TYPE = "Send the request as application/json."
MSG_NOT_A_REQUEST = (
    'The body must be a JSON object such as {"query": "{ payouts { totalCount } }"}.'
)
MSG_CSRF_FAILED = "CSRF Failed: {reason}. A staff session must send the csrftoken cookie's value."


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


def idempotency_refusal(refused: IdempotencyRefused) -> JsonResponse:
    response = request_error(refused.http_status, refused.message, refused.code)
    if isinstance(refused, IdempotencyKeyInUse):
        response["Retry-After"] = str(refused.retry_after)
    return response


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering the reason for a refusal instead of a page (as DRF's)."""

    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def csrf_refusal(request: HttpRequest) -> str | None:
    check = _CsrfCheck(lambda request: HttpResponse())
    check.process_request(request)
    return cast("str | None", check.process_view(request, lambda request: HttpResponse(), (), {}))


# Clients POST JSON with a key and no CSRF token; a staff session's requests are checked below.
@method_decorator(csrf_exempt, name="dispatch")
class PayoutGraphQLView(GraphQLView[PayoutContext, None]):
    schema = schema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        # Django builds a view per request, so the setting is read per request too.
        self.graphql_ide = "graphiql" if settings.GRAPHQL_GRAPHIQL else None
        self.caller: Caller | None = None

    def get_context(self, request: HttpRequest, response: HttpResponse) -> PayoutContext:
        assert self.caller is not None
        return PayoutContext(request=request, response=response, caller=self.caller)

    def _authenticate(self, request: HttpRequest) -> JsonResponse | None:
        """Set the caller, or answer why there is none: as REST, a key or a staff session."""
        header = request.headers.get("Authorization")
        staff = staff_caller(request.user) if header is None else None
        if staff is not None:
            if request.method == "POST" and (reason := csrf_refusal(request)):
                message = MSG_CSRF_FAILED.format(reason=reason.rstrip("."))
                return request_error(403, message, ErrorCode.PERMISSION_DENIED)
            self.caller = staff
        else:
            try:
                self.caller = caller_for_authorization(header)
            except AuthenticationRefused as refused:
                response = request_error(401, refused.message, refused.code)
                response["WWW-Authenticate"] = SCHEME
                return response
        wait = ratelimit.retry_after(self.caller)
        if wait is not None:
            response = request_error(429, ratelimit.refusal_message(wait), ErrorCode.RATE_LIMITED)
            response["Retry-After"] = str(wait)
            return response
        return None

    def _run_once(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Run a request that carries an Idempotency-Key: its one createPayout at most once.

        The whole response is what is kept and replayed, as REST keeps its body: a replay
        answers exactly what the first request was answered, whatever the payout became since.
        """
        assert self.caller is not None
        try:
            key = idempotency.parse_key(request.headers[idempotency.HEADER])
        except IdempotencyRefused as refused:
            return idempotency_refusal(refused)
        body = self.decode_json(request.body)
        fields = mutation_fields(body)
        if fields is not None and len(fields) > 1:
            return idempotency_refusal(IdempotencyKeyMultipleMutations(len(fields)))
        # Reads, and the edits that repeat harmlessly, run as they would without a key.
        if fields != ("createPayout",) or self.caller.client is None:
            return super().run(request, *args, **kwargs)
        first: list[HttpResponseBase] = []

        def execute() -> idempotency.Outcome:
            response = super(PayoutGraphQLView, self).run(request, *args, **kwargs)
            first.append(response)
            result = json.loads(response.content)  # type: ignore[attr-defined]
            return idempotency.Outcome(
                response.status_code, result, storable=not server_failed(result)
            )

        identity = idempotency.RequestIdentity("POST", request.path, body)
        try:
            outcome = idempotency.run_once(self.caller.client, key, identity, execute)
        except IdempotencyRefused as refused:
            return idempotency_refusal(refused)
        if not outcome.replayed and outcome.kept:
            return first[0]
        if not outcome.replayed:
            # The server failed and the payout was rolled back with the key: the answer must not
            # show data (a payout id) that no longer exists. The errors say what happened.
            failed = {"data": None, "errors": outcome.body.get("errors")}
            return HttpResponse(
                self.encode_json(failed), status=outcome.status, content_type="application/json"
            )
        # Encoded as Strawberry encodes, so the replay is the first answer byte for byte.
        response = HttpResponse(
            self.encode_json(outcome.body), status=outcome.status, content_type="application/json"
        )
        response[idempotency.REPLAYED_HEADER] = "true"
        return response

    def decode_json(self, data: str | bytes) -> object:
        try:
            return strict_json.loads(data)
        except InputRefused as refused:
            raise RefusedRequest(400, refused.message, refused.code) from None

    def run(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # A browser's GET is for GraphiQL's page (or its 404 when it is off), which holds no
        # data: anyone may load it, then send a key from its Headers pane.
        wants_page = self.should_render_graphql_ide(self.request_adapter_class(request))
        try:
            refusal = None if wants_page else self._authenticate(request)
        except (OperationalError, InterfaceError):
            logger.exception("Database unavailable while authenticating a GraphQL request")
            return request_error(503, MSG_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE)
        if refusal is not None:
            return refusal
        # Strawberry answers its request errors (a body that is not JSON, no query, a PUT) in
        # plain text; they are JSON here, like every other answer of the API.
        if request.method == "POST" and request.content_type != "application/json":
            return request_error(415, MSG_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
        try:
            # An object, or a list (a batch, which Strawberry refuses itself); Strawberry reads
            # any other JSON value as if it were an object and fails.
            if request.method == "POST" and request.body.lstrip()[:1] not in (b"{", b"["):
                return request_error(400, MSG_NOT_A_REQUEST, ErrorCode.NOT_AN_OBJECT)
            if request.method == "POST" and idempotency.HEADER in request.headers:
                return self._run_once(request, *args, **kwargs)
            return super().run(request, *args, **kwargs)
        except RequestDataTooBig:
            return request_error(413, MSG_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE)
        except (OperationalError, InterfaceError):
            # Outside execution only the Idempotency-Key's row is read or written.
            logger.exception("Database unavailable while handling an Idempotency-Key")
            return request_error(503, MSG_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE)
        except UnicodeDecodeError:
            # Strawberry decodes the body itself, before decode_json could refuse it as REST does.
            return request_error(400, MSG_JSON_NOT_UTF8, ErrorCode.PARSE_ERROR)
        except RefusedRequest as refused:
            return request_error(refused.status_code, refused.reason, refused.code)
        except HTTPException as error:
            return request_error(
                error.status_code, error.reason, code_for_status(error.status_code)
            )
