"""Documents that cost more than they look: fragment chains, hidden nesting, long literals."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.errors import BAD_USER_INPUT
from graphql_api.limits import (
    MAX_DOCUMENT_NESTING,
    MAX_LIST_LENGTH,
    MAX_NUMBER_LENGTH,
    MSG_FRAGMENT_CYCLE,
    MSG_NUMBER_TOO_LONG,
    MSG_TOO_DEEP,
    MSG_TOO_MANY_FIELDS,
    MSG_UNKNOWN_FRAGMENT,
)
from graphql_api.views import MSG_NOT_A_REQUEST
from payouts.errors import MSG_AMOUNT_TOO_MANY_DIGITS
from payouts.models import Payout
from payouts.validation import MSG_TIMESTAMP_OUT_OF_RANGE
from tests.graphql_api.conftest import assert_request_error


def _refusal(message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}


def _doubling_fragments(count: int) -> str:
    """Each fragment spreads the next twice: 2**count fields once expanded."""
    fragments = " ".join(
        f"fragment F{index} on Query {{ ...F{index + 1} ...F{index + 1} }}"
        for index in range(count)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{count} on Query {{ __typename }}"


def _fragment_chain(length: int) -> str:
    fragments = " ".join(
        f"fragment F{index} on Query {{ ...F{index + 1} }}" for index in range(length)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{length} on Query {{ __typename }}"


def test_fragments_that_double_at_each_step_are_refused_without_expanding_them(graphql):
    # Expanded, 2**25 fields would take the validation rules hours (the test's timeout fails).
    body = graphql(_doubling_fragments(25))

    assert body == _refusal(MSG_TOO_MANY_FIELDS.format(limit=2000))


def test_a_fragment_chain_deeper_than_the_nesting_limit_is_refused(graphql):
    assert graphql(_fragment_chain(240)) == _refusal(MSG_TOO_DEEP)


def test_a_fragment_chain_within_the_nesting_limit_runs(graphql):
    # With the operation's own level, 30 spreads and the last fragment's fields are 32 levels.
    body = graphql(_fragment_chain(MAX_DOCUMENT_NESTING - 2))

    assert body == {"data": {"__typename": "Query"}}


def test_a_chain_one_level_deeper_is_refused(graphql):
    assert graphql(_fragment_chain(MAX_DOCUMENT_NESTING - 1)) == _refusal(MSG_TOO_DEEP)


def test_inline_fragments_nested_inside_a_chain_count_toward_the_nesting(graphql):
    wrapped = "... on Query { " * 29 + "__typename" + " }" * 29
    fragments = " ".join(
        f"fragment F{index} on Query {{ {'... on Query { ' * 29}...F{index + 1}{' }' * 29} }}"
        for index in range(12)
    )
    document = f"query {{ ...F0 }} {fragments} fragment F12 on Query {{ {wrapped} }}"

    assert graphql(document) == _refusal(MSG_TOO_DEEP)


def test_a_spread_of_an_unknown_fragment_is_refused(graphql):
    assert graphql("query { ...Nope }") == _refusal(MSG_UNKNOWN_FRAGMENT.format(name="Nope"))


def test_fragments_that_spread_each_other_in_a_cycle_are_refused(graphql):
    document = "query { ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }"

    assert graphql(document) == _refusal(MSG_FRAGMENT_CYCLE)


@pytest.mark.parametrize(
    "hiding_place",
    [
        "# a comment ended by a carriage return\r",
        '"1"""',
        '"""a block string with \\""" inside"""',
    ],
    ids=["comment-ended-by-cr", "string-then-empty-string", "escaped-triple-quote-in-block"],
)
def test_nesting_after_comments_and_strings_is_still_counted(graphql, hiding_place):
    nested = "[" * 150 + "]" * 150
    document = (
        f"{{ payouts(filters: {{amount: {{gt: {hiding_place} {nested} }}}}) {{ totalCount }} }}"
    )

    assert graphql(document) == _refusal(MSG_TOO_DEEP)


@pytest.mark.parametrize("argument", ["first: {digits}", "filters: {{amount: {{gt: {digits}}}}}"])
def test_a_number_literal_longer_than_the_limit_is_refused(graphql, argument):
    digits = "1" * 5000
    document = f"{{ payouts({argument.format(digits=digits)}) {{ totalCount }} }}"

    assert graphql(document) == _refusal(MSG_NUMBER_TOO_LONG)


def test_a_number_literal_at_the_limit_is_read_and_judged_by_the_domain(graphql):
    digits = "1" * MAX_NUMBER_LENGTH

    body = graphql(f"{{ payouts(filters: {{amount: {{gt: {digits}}}}}) {{ totalCount }} }}")

    assert [error["message"] for error in body["errors"]] == [MSG_AMOUNT_TOO_MANY_DIGITS]


def test_a_list_inside_recipient_details_is_the_domains_to_judge_not_the_list_limit(graphql):
    details = {"account_number": "DE89", "history": list(range(MAX_LIST_LENGTH + 1))}
    document = """
    mutation($data: PayoutCreateInput!) { createPayout(data: $data) { __typename } }
    """
    data = {"amount": "10.00", "currency": "EUR", "recipientDetails": details}

    body = graphql(document, {"data": data})

    assert body == {"data": {"createPayout": {"__typename": "Payout"}}}
    assert Payout.objects.get().recipient_details == details


@pytest.mark.parametrize("body", ["null", "5", '"query"', "true", " 1.5"])
def test_a_json_body_that_is_not_an_object_is_refused(send, body):
    response = send(body)

    assert_request_error(response, 400, "NOT_AN_OBJECT", MSG_NOT_A_REQUEST)


def test_graphql_is_served_without_the_trailing_slash(client, db):
    response = client.post("/graphql", {"query": "{ __typename }"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_variables_null_in_a_get_query_string_mean_no_variables(client, db):
    response = client.get("/graphql/", {"query": "{ __typename }", "variables": "null"})

    assert response.json() == {"data": {"__typename": "Query"}}


def test_a_date_past_year_9999_in_a_filter_is_the_clients_error(graphql):
    body = graphql('{ payouts(filters: {createdAt: {gte: "9999-12-31T24:00:00"}}) { totalCount } }')

    assert body["data"] is None
    [error] = body["errors"]
    assert MSG_TIMESTAMP_OUT_OF_RANGE in error["message"]


@pytest.mark.parametrize("path", ["/graphql", "/graphql/"])
def test_a_request_django_refuses_before_the_view_is_graphqls_json(client, db, path):
    too_many_fields = {f"a{index}": "1" for index in range(1100)}

    response = client.get(path, {"query": "{ __typename }", **too_many_fields})

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "Bad request.", "extensions": {"code": "INVALID"}}]
    }
