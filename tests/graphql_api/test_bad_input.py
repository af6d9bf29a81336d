"""Bad input answers with a GraphQL error or a typed refusal, never a 500, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from payouts.models import Payout
from tests.graphql_api.conftest import global_id
from tests.graphql_api.test_mutations import CREATE, DELETE, NEW_PAYOUT, UPDATE

NOT_FOUND = {
    "__typename": "PayoutErrors",
    "errors": [{"field": None, "code": "NOT_FOUND", "message": "Payout not found."}],
}
MALFORMED_IDS = [
    "not-a-global-id",
    relay.to_base64("Payout", "not-a-uuid"),
    relay.to_base64("OperationInfo", "0b9c1a6e-0f8e-4a57-9b53-0cf2b7c1e7a1"),
]


def _error_messages(body: dict[str, Any]) -> list[str]:
    assert body["data"] is None
    return [error["message"] for error in body["errors"]]


def test_unknown_currency_is_a_graphql_error_and_writes_nothing(graphql):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, "currency": "usd"}})

    assert _error_messages(body) == [
        "Variable '$data' has invalid value at .currency: Value 'usd' does not exist in "
        "'Currency' enum. Did you mean the enum value 'USD'?"
    ]
    assert not Payout.objects.exists()


def test_unknown_currency_literal_is_a_graphql_error(graphql, db):
    body = graphql(
        'mutation { createPayout(data: {amount: "1", currency: XYZ, recipientDetails: {}}) '
        "{ __typename } }"
    )

    assert _error_messages(body) == ["Value 'XYZ' does not exist in 'Currency' enum."]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "amount",
            True,
            "Expected value of type 'Decimal', but encountered error 'Decimal cannot "
            "represent bool values.'; found: True.",
        ),
        ("currency", 978, "Enum 'Currency' cannot represent non-string value: 978."),
        ("description", 42, "String cannot represent a non string value: 42"),
    ],
)
def test_wrong_input_types_are_graphql_errors(graphql, field, value, expected):
    body = graphql(CREATE, {"data": {**NEW_PAYOUT, field: value}})

    assert _error_messages(body) == [f"Variable '$data' has invalid value at .{field}: {expected}"]
    assert not Payout.objects.exists()


def test_missing_required_input_field_is_a_graphql_error(graphql, db):
    data = {key: value for key, value in NEW_PAYOUT.items() if key != "amount"}

    body = graphql(CREATE, {"data": data})

    [message] = _error_messages(body)
    assert message.startswith(
        "Variable '$data' has invalid value: Expected value of type 'PayoutCreateInput' "
        "to include required field 'amount'"
    )
    assert not Payout.objects.exists()


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_update_with_malformed_id_is_not_found(graphql, pending_payout, bad_id):
    body = graphql(UPDATE, {"id": bad_id, "data": {"amount": "5.00"}})

    assert body["data"]["updatePayout"] == NOT_FOUND
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_delete_with_malformed_id_is_not_found(graphql, pending_payout, bad_id):
    body = graphql(DELETE, {"id": bad_id})

    assert body["data"]["deletePayout"] == NOT_FOUND
    assert Payout.objects.filter(pk=pending_payout.pk).exists()


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_payout_with_malformed_id_is_null(graphql, pending_payout, bad_id):
    body = graphql("query($id: ID!) { payout(id: $id) { id } }", {"id": bad_id})

    assert body == {"data": {"payout": None}}


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_node_with_malformed_id_is_null(graphql, pending_payout, bad_id):
    body = graphql("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})

    assert body == {"data": {"node": None}}


def test_payout_of_a_deleted_payout_is_null(graphql, pending_payout):
    payout_id = global_id(pending_payout)
    graphql(DELETE, {"id": payout_id})

    body = graphql("query($id: ID!) { payout(id: $id) { id } }", {"id": payout_id})

    assert body == {"data": {"payout": None}}


@pytest.mark.parametrize("argument", ["first", "last"])
def test_page_size_above_100_is_refused(graphql, pending_payout, argument):
    body = graphql(f"{{ payouts({argument}: 101) {{ totalCount }} }}")

    assert _error_messages(body) == [f"Argument '{argument}' cannot be higher than 100."]


def test_first_of_100_is_accepted(graphql, pending_payout):
    body = graphql("{ payouts(first: 100) { totalCount } }")

    assert body == {"data": {"payouts": {"totalCount": 1}}}


def test_negative_first_is_refused(graphql, pending_payout):
    body = graphql("{ payouts(first: -1) { totalCount } }")

    assert _error_messages(body) == ["Argument 'first' must be a non-negative integer."]


def test_over_deep_query_is_refused_before_it_runs(graphql, settings, db):
    depth = settings.GRAPHQL_MAX_DEPTH + 2
    selection = "id"
    for level in range(depth):
        selection = f"level{level} {{ {selection} }}"

    body = graphql(f"query Deep {{ {selection} }}")

    assert f"'Deep' exceeds maximum operation depth of {settings.GRAPHQL_MAX_DEPTH}" in (
        _error_messages(body)
    )


def test_too_many_aliases_are_refused(graphql, settings, db):
    count = settings.GRAPHQL_MAX_ALIASES + 1
    aliases = " ".join(f"a{n}: __typename" for n in range(count))

    body = graphql(f"{{ {aliases} }}")

    assert _error_messages(body) == [
        f"{count} aliases found. Allowed: {settings.GRAPHQL_MAX_ALIASES}"
    ]


def test_too_many_tokens_are_refused(graphql, settings, db):
    fields = " ".join("__typename" for _ in range(settings.GRAPHQL_MAX_TOKENS))

    body = graphql(f"{{ {fields} }}")

    assert _error_messages(body) == [
        f"The document and its variables exceed the input budget of "
        f"{settings.GRAPHQL_MAX_TOKENS} tokens."
    ]
