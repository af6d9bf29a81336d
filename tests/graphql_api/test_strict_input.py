"""Input is read strictly and as REST reads it: request bodies, the document and list limits, the
input budget, amounts in filters and mutations, and ids; timestamps are written as REST writes
them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from graphql_api.errors import BAD_USER_INPUT
from graphql_api.limits import (
    MAX_DOCUMENT_NESTING,
    MAX_LIST_LENGTH,
    MSG_LIST_TOO_LONG,
    MSG_TOO_DEEP,
    MSG_TOO_MUCH_INPUT,
)
from payouts.errors import (
    MSG_AMOUNT_INVALID,
    MSG_AMOUNT_TOO_MANY_DECIMALS,
    MSG_AMOUNT_TOO_MANY_DIGITS,
    MSG_JSON_CONSTANT,
    MSG_JSON_DUPLICATE_KEY,
    MSG_JSON_INVALID_TEXT,
    MSG_JSON_TOO_DEEP,
    MSG_JSON_TOO_MANY_VALUES,
    MSG_NOT_FOUND,
    MSG_NULL,
    MSG_TOO_LARGE,
)
from payouts.models import Payout
from payouts.strict_json import MAX_DEPTH, MAX_VALUES
from tests.conftest import payout_queries
from tests.graphql_api.conftest import assert_request_error, global_id

CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) {
    __typename
    ... on Payout { amount }
    ... on PayoutErrors { errors { field code message } }
  }
}
"""
# As small as a create gets, for a test that lowers the token budget.
SMALL_CREATE = "mutation($data: PayoutCreateInput!) { createPayout(data: $data) { __typename } }"
UPDATE = """
mutation($id: ID!, $data: PayoutUpdateInput!) {
  updatePayout(id: $id, data: $data) {
    __typename
    ... on PayoutErrors { errors { field code message } }
  }
}
"""
PAYOUTS = """
query($filters: PayoutFilter) {
  payouts(filters: $filters) { edges { node { amount } } }
}
"""
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
    "description": "Invoice 42",
}
NEW_PAYOUT_TEXT = json.dumps(NEW_PAYOUT)


def _body(data: str) -> str:
    """A createPayout request body whose `data` variable is the JSON text `data`."""
    return f'{{"query": {json.dumps(CREATE)}, "variables": {{"data": {data}}}}}'


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _with_details(extra: str) -> str:
    """NEW_PAYOUT's JSON text with `extra` (JSON text) added to recipientDetails."""
    return NEW_PAYOUT_TEXT.replace(
        '"DE89370400440532013000"}', f'"DE89370400440532013000", "extra": {extra}}}'
    )


def _refusal(field: str, code: str, message: str) -> dict[str, Any]:
    return {
        "__typename": "PayoutErrors",
        "errors": [{"field": field, "code": code, "message": message}],
    }


def _amounts(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return sorted(edge["node"]["amount"] for edge in body["data"]["payouts"]["edges"])


def _filter_refusal(message: str, line: int = 3) -> dict[str, Any]:
    """The answer to a query (PAYOUTS, unless on another `line`) whose amount filter the
    domain refuses."""
    return {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": line, "column": 3}],
                "path": ["payouts"],
                "extensions": {"code": BAD_USER_INPUT},
            }
        ],
    }


def _document_refusal(message: str) -> dict[str, Any]:
    """The answer to a document refused by a limit before it is parsed or run."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}


def _nested_and(levels: int) -> str:
    filters = '{amount: {gt: "1"}}'
    for _ in range(levels):
        filters = f"{{AND: {filters}}}"
    return f"{{ payouts(filters: {filters}) {{ totalCount }} }}"


def _in_list_filter(in_list: str) -> str:
    """A payouts query whose amount inList is the GraphQL text `in_list`."""
    return f"{{ payouts(filters: {{amount: {{inList: {in_list}}}}}) {{ totalCount }} }}"


def _in_list_literal(items: int) -> str:
    return _in_list_filter("[" + ", ".join(['"1"'] * items) + "]")


# 15 aliases (the most allowed), each filtering by the same list variable.
_ALIASES = " ".join(
    f"a{index}: payouts(filters: {{amount: {{inList: $amounts}}}}) {{ totalCount }}"
    for index in range(15)
)
ALIASES_SHARING_A_LIST = f"query($amounts: [Decimal!]) {{ {_ALIASES} }}"


def _aliases_sharing_body(items: int) -> str:
    return json.dumps({"query": ALIASES_SHARING_A_LIST, "variables": {"amounts": [1] * items}})


# (body, code, message) for bodies strict JSON refuses before anything runs.
BODY_REFUSALS = [
    pytest.param(
        f'{{"query": {json.dumps(CREATE)}, "query": "{{ __typename }}", "variables": '
        f'{{"data": {NEW_PAYOUT_TEXT}}}}}',
        "DUPLICATE_KEY",
        MSG_JSON_DUPLICATE_KEY.format(key="query"),
        id="duplicate-key-in-body",
    ),
    pytest.param(
        _body(
            NEW_PAYOUT_TEXT.replace('"amount": "250.00"', '"amount": "1.00", "amount": "250.00"')
        ),
        "DUPLICATE_KEY",
        MSG_JSON_DUPLICATE_KEY.format(key="amount"),
        id="duplicate-key-in-variables",
    ),
    pytest.param(
        _body(NEW_PAYOUT_TEXT.replace('"Invoice 42"', '"Invoice \\ud800"')),
        "INVALID_TEXT",
        MSG_JSON_INVALID_TEXT,
        id="lone-surrogate-in-variables",
    ),
    pytest.param(
        _body(_with_details(_nested(1_000))),
        "MAX_DEPTH",
        MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH),
        id="variables-nested-1000-deep",
    ),
    pytest.param(
        _body(_with_details(_nested(100_000))),
        "MAX_DEPTH",
        MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH),
        id="variables-nested-100000-deep",
    ),
    pytest.param(
        '{"a": ' * 1_000 + "1" + "}" * 1_000,
        "MAX_DEPTH",
        MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH),
        id="body-of-objects-nested-1000-deep",
    ),
    pytest.param(
        _nested(100_000),
        "MAX_DEPTH",
        MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH),
        id="body-of-arrays-nested-100000-deep",
    ),
    pytest.param(
        _body(NEW_PAYOUT_TEXT.replace('"250.00"', "NaN")),
        "PARSE_ERROR",
        MSG_JSON_CONSTANT.format(constant="NaN"),
        id="nan",
    ),
    pytest.param(
        _body(NEW_PAYOUT_TEXT.replace('"250.00"', "Infinity")),
        "PARSE_ERROR",
        MSG_JSON_CONSTANT.format(constant="Infinity"),
        id="infinity",
    ),
    pytest.param(
        _body(_with_details(json.dumps([1] * MAX_VALUES))),
        "MAX_SIZE",
        MSG_JSON_TOO_MANY_VALUES.format(limit=MAX_VALUES),
        id="more-values-than-the-json-limit",
    ),
]

# Requests refused by the GraphQL layer: answers with errors, not 4xx.
GRAPHQL_REFUSALS = [
    pytest.param({"query": _in_list_filter(_nested(1_000))}, id="1000-brackets-in-an-argument"),
    pytest.param({"query": _nested_and(40)}, id="40-nested-and-filters"),
    pytest.param({"query": _in_list_literal(MAX_LIST_LENGTH + 1)}, id="101-item-list-literal"),
    pytest.param(
        {"query": PAYOUTS, "variables": {"filters": {"amount": {"inList": ["1"] * 101}}}},
        id="101-item-list-variable",
    ),
    pytest.param(
        {"query": PAYOUTS, "variables": {"filters": {"amount": {"gt": "10_000"}}}},
        id="amount-filter",
    ),
]


BRACKETS = "[" * 1_000


@pytest.fixture
def amounts(make_payout):
    """Payouts of 10.00, 10.50 and 11.00."""
    return [make_payout(amount=amount) for amount in ("10.00", "10.50", "11.00")]


# Request bodies


@pytest.mark.parametrize(("body", "code", "message"), BODY_REFUSALS)
def test_a_body_strict_json_refuses_is_a_400_and_writes_nothing(
    send, django_capture_on_commit_callbacks, body, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(body)

    assert_request_error(response, 400, code, message)
    assert not Payout.objects.exists()
    assert callbacks == []


def test_a_malformed_json_body_is_a_parse_error(send, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(_body(NEW_PAYOUT_TEXT)[:-1])

    assert_request_error(response, 400, "PARSE_ERROR", None)
    assert response.json()["errors"][0]["message"].startswith("Malformed JSON: ")
    assert not Payout.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(("body", "code", "message"), BODY_REFUSALS)
def test_a_refused_body_is_logged_once_as_a_warning_without_a_traceback(
    send, caplog, body, code, message
):
    with caplog.at_level(logging.INFO):
        response = send(body)

    assert response.status_code == 400
    records = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert [(record.name, record.levelno) for record in records] == [
        ("django.request", logging.WARNING)
    ]
    assert records[0].exc_info is None


# Document nesting


def test_brackets_nested_past_the_limit_in_an_argument_are_refused(graphql):
    assert graphql(_in_list_filter(_nested(1_000))) == _document_refusal(MSG_TOO_DEEP)


def test_filters_nested_40_deep_are_refused(graphql):
    assert graphql(_nested_and(40)) == _document_refusal(MSG_TOO_DEEP)


def test_filters_nested_to_the_limit_run(graphql, amounts):
    # `{`, `(`, then one `{` per AND and two for {amount: {gt: ...}}.
    levels = MAX_DOCUMENT_NESTING - 4

    assert graphql(_nested_and(levels)) == {"data": {"payouts": {"totalCount": 3}}}


@pytest.mark.parametrize(
    "query",
    [
        f'{{ payout(id: "{BRACKETS}") {{ id }} }}',
        f'{{ payout(id: "\\"{BRACKETS}") {{ id }} }}',
        f'{{ payout(id: """{BRACKETS}""") {{ id }} }}',
        f'# {BRACKETS}\n{{ payout(id: "x") {{ id }} }}',
    ],
    ids=["string", "string-after-escaped-quote", "block-string", "comment"],
)
def test_brackets_inside_strings_and_comments_do_not_count(graphql, query):
    assert graphql(query) == {"data": {"payout": None}}


def test_brackets_after_a_comment_line_count(graphql):
    assert graphql(f"# a comment\n{_nested_and(40)}") == _document_refusal(MSG_TOO_DEEP)


# List sizes


def test_an_in_list_literal_over_the_limit_is_refused(graphql):
    body = graphql(_in_list_literal(MAX_LIST_LENGTH + 1))

    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == [MSG_LIST_TOO_LONG]


def test_an_in_list_variable_over_the_limit_is_refused_as_bad_user_input(graphql):
    filters = {"amount": {"inList": ["1"] * (MAX_LIST_LENGTH + 1)}}

    assert graphql(PAYOUTS, {"filters": filters}) == _document_refusal(MSG_LIST_TOO_LONG)


def test_an_in_list_of_100_items_filters(graphql, amounts):
    # 10.00, 10.01, ... 10.99: the 100 amounts of a list at the limit.
    in_list = [f"{cents / 100:.2f}" for cents in range(1000, 1000 + MAX_LIST_LENGTH)]

    body = graphql(PAYOUTS, {"filters": {"amount": {"inList": in_list}}})

    assert _amounts(body) == ["10.00", "10.50"]


def test_aliases_sharing_a_5000_item_list_are_refused_by_the_input_budget(graphql):
    with CaptureQueriesContext(connection) as queries:
        body = graphql(ALIASES_SHARING_A_LIST, {"amounts": ["1"] * 5_000})

    assert body == _document_refusal(MSG_TOO_MUCH_INPUT.format(limit=2000))
    assert payout_queries(queries) == []


def test_aliases_sharing_a_list_of_101_items_are_refused_by_the_list_limit(graphql):
    body = graphql(ALIASES_SHARING_A_LIST, {"amounts": ["1"] * (MAX_LIST_LENGTH + 1)})

    assert body == _document_refusal(MSG_LIST_TOO_LONG)


def test_aliases_sharing_a_300000_item_list_are_refused_by_the_body_limit(send):
    with CaptureQueriesContext(connection) as queries:
        response = send(_aliases_sharing_body(300_000))

    assert_request_error(response, 413, "PAYLOAD_TOO_LARGE", MSG_TOO_LARGE)
    assert payout_queries(queries) == []


def test_aliases_sharing_a_300000_item_list_are_refused_by_the_json_value_limit(send, settings):
    # 300,000 values cannot fit in 256 KiB; with the body limit lifted, the value limit holds.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
    with CaptureQueriesContext(connection) as queries:
        response = send(_aliases_sharing_body(300_000))

    assert_request_error(
        response, 400, "MAX_SIZE", MSG_JSON_TOO_MANY_VALUES.format(limit=MAX_VALUES)
    )
    assert payout_queries(queries) == []


@pytest.mark.parametrize("request_body", GRAPHQL_REFUSALS)
def test_a_refused_document_is_logged_once_without_a_traceback(graphql, caplog, request_body):
    with caplog.at_level(logging.INFO):
        body = graphql(request_body["query"], request_body.get("variables"))

    [error] = body["errors"]
    records = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert [(record.name, record.levelno, record.getMessage()) for record in records] == [
        ("graphql_api.errors", logging.INFO, f"GraphQL request refused: {error['message']}")
    ]
    assert records[0].exc_info is None


# The input budget


def test_variable_values_count_against_the_token_budget(
    graphql, settings, django_capture_on_commit_callbacks
):
    settings.GRAPHQL_MAX_TOKENS = 50
    details = {"account_number": "DE89370400440532013000"} | {f"k{i}": "v" for i in range(60)}

    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(SMALL_CREATE, {"data": {**NEW_PAYOUT, "recipientDetails": details}})

    assert body == _document_refusal(MSG_TOO_MUCH_INPUT.format(limit=50))
    assert not Payout.objects.exists()
    assert callbacks == []


def test_a_small_document_with_few_variable_values_runs_within_the_token_budget(graphql, settings):
    settings.GRAPHQL_MAX_TOKENS = 50

    body = graphql(SMALL_CREATE, {"data": NEW_PAYOUT})

    assert body == {"data": {"createPayout": {"__typename": "Payout"}}}
    assert Payout.objects.count() == 1


# Amounts in filters


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e309", MSG_AMOUNT_INVALID),
        ("10_000", MSG_AMOUNT_INVALID),
        ("+10", MSG_AMOUNT_INVALID),
        (" 10", MSG_AMOUNT_INVALID),
        ("1" * 30, MSG_AMOUNT_TOO_MANY_DIGITS),
        ("1.001", MSG_AMOUNT_TOO_MANY_DECIMALS),
    ],
)
def test_an_amount_filter_refuses_what_rest_refuses(graphql, amounts, amount, message):
    body = graphql(PAYOUTS, {"filters": {"amount": {"gt": amount}}})

    assert body == _filter_refusal(message)


def test_an_amount_filter_literal_is_read_like_a_variable(graphql):
    body = graphql('{ payouts(filters: {amount: {gt: "1e309"}}) { totalCount } }')

    assert body == _filter_refusal(MSG_AMOUNT_INVALID, line=1)


@pytest.mark.parametrize(
    ("amount_filter", "expected"),
    [
        ({"exact": "10"}, ["10.00"]),
        ({"exact": "10.5"}, ["10.50"]),
        ({"exact": "10.50"}, ["10.50"]),
        ({"gt": "10"}, ["10.50", "11.00"]),
        ({"lte": "10.5"}, ["10.00", "10.50"]),
        ({"range": {"start": "10.5", "end": "11"}}, ["10.50", "11.00"]),
        ({"inList": ["10", "11.00"]}, ["10.00", "11.00"]),
    ],
)
def test_an_amount_filter_in_canonical_form_filters(graphql, amounts, amount_filter, expected):
    body = graphql(PAYOUTS, {"filters": {"amount": amount_filter}})

    assert _amounts(body) == expected


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"AND": {"amount": {"gt": "10_000"}}}, MSG_AMOUNT_INVALID),
        ({"OR": {"amount": {"lt": "+10"}}}, MSG_AMOUNT_INVALID),
        ({"NOT": {"amount": {"exact": " 10"}}}, MSG_AMOUNT_INVALID),
        ({"AND": {"NOT": {"amount": {"gte": "1.001"}}}}, MSG_AMOUNT_TOO_MANY_DECIMALS),
        ({"amount": {"range": {"start": "10", "end": "1.001"}}}, MSG_AMOUNT_TOO_MANY_DECIMALS),
        ({"amount": {"range": {"start": "1e309", "end": "11"}}}, MSG_AMOUNT_INVALID),
        ({"amount": {"inList": ["10", "1" * 30]}}, MSG_AMOUNT_TOO_MANY_DIGITS),
    ],
    ids=["and", "or", "not", "and-not", "range-end", "range-start", "in-list"],
)
def test_an_amount_filter_is_checked_inside_logic_range_and_in_list(
    graphql, amounts, filters, message
):
    assert graphql(PAYOUTS, {"filters": filters}) == _filter_refusal(message)


# Amounts and nulls in mutations


@pytest.mark.parametrize("amount", ["10_000", "1e3", " 10", "\uff11\uff10"])
def test_create_payout_refuses_an_amount_not_in_canonical_form(
    graphql, django_capture_on_commit_callbacks, amount
):
    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(CREATE, {"data": {**NEW_PAYOUT, "amount": amount}})

    assert body == {"data": {"createPayout": _refusal("amount", "INVALID", MSG_AMOUNT_INVALID)}}
    assert not Payout.objects.exists()
    assert callbacks == []


@pytest.mark.parametrize(("number", "stored"), [("10", "10.00"), ("10.5", "10.50")])
def test_create_payout_takes_a_json_number_amount(
    send, django_capture_on_commit_callbacks, number, stored
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(_body(NEW_PAYOUT_TEXT.replace('"250.00"', number)))

    assert response.json() == {"data": {"createPayout": {"__typename": "Payout", "amount": stored}}}
    assert Payout.objects.get().amount == Decimal(stored)
    assert str(Payout.objects.get().amount) == stored
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


def test_create_payout_refuses_a_json_number_with_three_decimals(
    send, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(_body(NEW_PAYOUT_TEXT.replace('"250.00"', "10.005")))

    assert response.json() == {
        "data": {
            "createPayout": _refusal("amount", "MAX_DECIMAL_PLACES", MSG_AMOUNT_TOO_MANY_DECIMALS)
        }
    }
    assert not Payout.objects.exists()
    assert callbacks == []


def test_create_payout_refuses_a_null_description(graphql, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(CREATE, {"data": {**NEW_PAYOUT, "description": None}})

    assert body == {"data": {"createPayout": _refusal("description", "NULL", MSG_NULL)}}
    assert not Payout.objects.exists()
    assert callbacks == []


def test_a_lone_surrogate_in_a_string_literal_is_a_syntax_error(
    graphql, django_capture_on_commit_callbacks
):
    query = (
        'mutation { createPayout(data: {amount: "250.00", currency: EUR, '
        'recipientDetails: {account_number: "DE89370400440532013000"}, '
        'description: "Invoice \\ud800"}) { __typename } }'
    )

    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(query)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith("Syntax Error: ")
    assert "ud800" in error["message"]
    assert not Payout.objects.exists()
    assert callbacks == []


# Ids and timestamps


# A payout's id written as uuid.UUID reads it but neither API writes it.
NON_CANONICAL_UUIDS = pytest.mark.parametrize(
    "spell",
    [lambda payout_id: str(payout_id).upper(), lambda payout_id: payout_id.hex],
    ids=["upper-case", "no-hyphens"],
)


@NON_CANONICAL_UUIDS
def test_payout_by_a_non_canonical_uuid_is_null(graphql, pending_payout, spell):
    payout_id = relay.to_base64("Payout", spell(pending_payout.id))

    body = graphql(
        "query($id: ID!) { payout(id: $id) { id } node(id: $id) { id } }", {"id": payout_id}
    )

    assert body == {"data": {"payout": None, "node": None}}


@NON_CANONICAL_UUIDS
def test_update_payout_by_a_non_canonical_uuid_is_not_found(
    graphql, pending_payout, django_capture_on_commit_callbacks, spell
):
    payout_id = relay.to_base64("Payout", spell(pending_payout.id))

    with django_capture_on_commit_callbacks() as callbacks:
        body = graphql(UPDATE, {"id": payout_id, "data": {"amount": "5.00"}})

    assert body == {
        "data": {
            "updatePayout": {
                "__typename": "PayoutErrors",
                "errors": [{"field": None, "code": "NOT_FOUND", "message": MSG_NOT_FOUND}],
            }
        }
    }
    pending_payout.refresh_from_db()
    assert pending_payout.amount == Decimal("100.00")
    assert callbacks == []


@pytest.mark.parametrize(
    "stored",
    [
        datetime(2025, 3, 10, 12, 30, 45, 123456, tzinfo=UTC),
        datetime(2025, 3, 10, 12, 30, 45, tzinfo=UTC),
    ],
    ids=["with-microseconds", "whole-second"],
)
def test_timestamps_are_written_as_rest_writes_them(graphql, client, pending_payout, stored):
    Payout.objects.filter(pk=pending_payout.pk).update(created_at=stored, updated_at=stored)

    body = graphql(
        "query($id: ID!) { payout(id: $id) { createdAt updatedAt } }",
        {"id": global_id(pending_payout)},
    )
    rest = client.get(f"/api/payouts/{pending_payout.id}/").json()

    assert body["data"]["payout"] == {
        "createdAt": rest["created_at"],
        "updatedAt": rest["updated_at"],
    }
    assert rest["created_at"].endswith("Z")
    assert rest["updated_at"].endswith("Z")
