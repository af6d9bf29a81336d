"""Requests refused before execution answer GraphQL-shaped JSON with a 4xx; failures of the
server are masked to a fixed message and code, and logged in full."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError

from graphql_api.views import MSG_MEDIA_TYPE
from payouts.errors import MSG_JSON_NOT_UTF8, MSG_SERVER_ERROR, MSG_TOO_LARGE, MSG_UNAVAILABLE
from payouts.models import Payout
from rest_api.errors import MSG_NOT_FOUND
from tests.graphql_api.conftest import assert_request_error

CREATE = "mutation($data: PayoutCreateInput!) { createPayout(data: $data) { __typename } }"
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
    "description": "Invoice 42",
}


def _create_body(**data: Any) -> str:
    """A request body that, were it accepted, would create a payout."""
    return json.dumps(
        {"query": CREATE, "variables": {"data": {**NEW_PAYOUT, **data}}}, ensure_ascii=False
    )


MULTIPART = '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--b--\r\n'

# (request, status, code, message); a message of None is Strawberry's own wording.
REQUEST_ERRORS = [
    pytest.param(
        {"method": "PUT", "body": _create_body()},
        405,
        "METHOD_NOT_ALLOWED",
        None,
        id="put",
    ),
    pytest.param(
        {
            "body": "query=mutation+%7B+__typename+%7D",
            "content_type": "application/x-www-form-urlencoded",
        },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        MSG_MEDIA_TYPE,
        id="form-urlencoded",
    ),
    pytest.param(
        {"body": MULTIPART, "content_type": "multipart/form-data; boundary=b"},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        MSG_MEDIA_TYPE,
        id="multipart-form",
    ),
    pytest.param(
        {"body": _create_body(), "content_type": "text/plain"},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        MSG_MEDIA_TYPE,
        id="text-plain",
    ),
    pytest.param(
        {"method": "GET", "headers": {"accept": "text/html"}},
        404,
        "NOT_FOUND",
        None,
        id="browser-get-without-graphiql",
    ),
    pytest.param({"body": "{}"}, 400, "INVALID", None, id="no-query"),
    pytest.param(
        {"body": json.dumps({"variables": {"data": NEW_PAYOUT}})},
        400,
        "INVALID",
        None,
        id="variables-without-query",
    ),
    pytest.param({"body": '{"query": null}'}, 400, "INVALID", None, id="null-query"),
    pytest.param(
        {"body": _create_body(description="x" * (256 * 1024 + 1))},
        413,
        "PAYLOAD_TOO_LARGE",
        MSG_TOO_LARGE,
        id="over-256-kib",
    ),
    pytest.param(
        {"body": _create_body(description="Café").encode("latin-1")},
        400,
        "PARSE_ERROR",
        MSG_JSON_NOT_UTF8,
        id="not-utf-8",
    ),
]


@pytest.fixture(autouse=True)
def _graphiql_off(settings):
    settings.GRAPHQL_GRAPHIQL = False


@pytest.mark.parametrize(("request_kwargs", "status", "code", "message"), REQUEST_ERRORS)
def test_a_refused_request_is_a_json_error_with_its_code_and_writes_nothing(
    send, django_capture_on_commit_callbacks, request_kwargs, status, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(**request_kwargs)

    assert_request_error(response, status, code, message)
    assert not Payout.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(("request_kwargs", "status", "code", "message"), REQUEST_ERRORS)
def test_a_refused_request_is_logged_once_as_a_warning_without_a_traceback(
    send, caplog, request_kwargs, status, code, message
):
    with caplog.at_level(logging.INFO):
        response = send(**request_kwargs)

    assert response.status_code == status
    records = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert [(record.name, record.levelno) for record in records] == [
        ("django.request", logging.WARNING)
    ]
    assert records[0].exc_info is None


PAYOUTS = json.dumps({"query": "{ payouts(first: 1) { totalCount } }"})
PASSWORD = "hunter2"
DATABASE_DOWN = OperationalError(f"could not connect to server: host=db password={PASSWORD}")
# (what a resolver raises, the text that must not leak, the answer's message and code)
SERVER_FAILURES = [
    pytest.param(
        RuntimeError("secret internals"),
        "secret internals",
        MSG_SERVER_ERROR,
        "SERVER_ERROR",
        id="resolver-failure",
    ),
    pytest.param(
        DATABASE_DOWN, PASSWORD, MSG_UNAVAILABLE, "SERVICE_UNAVAILABLE", id="database-error"
    ),
]


def _raising(failure: Exception) -> Callable[..., None]:
    def fail(*args: object) -> None:
        raise failure

    return fail


def _masked(field: str, column: int, message: str, code: str) -> dict[str, Any]:
    """The answer when the root field `field` failed on the server."""
    return {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": column}],
                "path": [field],
                "extensions": {"code": code},
            }
        ],
    }


@pytest.mark.parametrize(("failure", "secret", "message", "code"), SERVER_FAILURES)
def test_a_server_failure_is_masked_to_a_fixed_message_and_code(
    send, monkeypatch, failure, secret, message, code
):
    monkeypatch.setattr("graphql_api.queries.selectors.payout_list", _raising(failure))

    response = send(PAYOUTS)

    assert response.status_code == 200
    assert response.json() == _masked("payouts", 3, message, code)
    assert secret.encode() not in response.content


def test_a_database_error_in_a_mutation_is_masked_as_service_unavailable(send, monkeypatch):
    monkeypatch.setattr("graphql_api.mutations.services.payout_create", _raising(DATABASE_DOWN))

    response = send(_create_body())

    assert response.status_code == 200
    assert response.json() == _masked("createPayout", 39, MSG_UNAVAILABLE, "SERVICE_UNAVAILABLE")
    assert PASSWORD.encode() not in response.content


@pytest.mark.parametrize(("failure", "secret", "message", "code"), SERVER_FAILURES)
def test_a_masked_failure_is_still_logged_at_error_with_its_traceback(
    send, caplog, monkeypatch, failure, secret, message, code
):
    monkeypatch.setattr("graphql_api.queries.selectors.payout_list", _raising(failure))

    send(PAYOUTS)

    logged = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.name for record in logged] == ["strawberry.execution"]
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[1] is failure
    assert logged[0].exc_info[2] is not None
    assert secret in logged[0].getMessage()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_path_under_graphql_that_names_nothing_is_a_json_404(client, db, method):
    response = getattr(client, method)("/graphql/nope")

    assert_request_error(response, 404, "NOT_FOUND", MSG_NOT_FOUND)
