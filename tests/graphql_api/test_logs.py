"""Account numbers in GraphQL input never reach the log in full, refused or quoted by an error."""

from __future__ import annotations

import json

import pytest

ACCOUNT = "DE89370400440532013000"

CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) { ... on Payout { payoutId } }
}
"""


def test_refused_graphql_input_is_logged_with_the_account_number_masked(graphql, log_lines):
    data = {"amount": "1", "currency": "EUR", "recipientDetails": {"account_number": ACCOUNT}}

    answer = graphql(CREATE, {"data": {**data, "unknownField": 1}})

    assert answer["errors"]
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert ACCOUNT[2:] not in text
    assert "account_number': '••••3000'" in text  # the refusal is logged, masked


def test_a_graphql_document_quoted_by_a_server_error_is_masked(graphql, log_lines, monkeypatch):
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("payouts.services.payout_create", broken)
    document = (
        'mutation { createPayout(data: {amount: "1", currency: EUR, '
        f'recipientDetails: {{account_number: "{ACCOUNT}"}}}}) {{ __typename }} }}'
    )

    graphql(document)

    errors = [line for line in log_lines() if line["level"] == "error"]
    assert errors  # logged at ERROR with its traceback, as before
    assert ACCOUNT[2:] not in json.dumps(errors)


@pytest.mark.parametrize("account", ["4000-1234-5678-9010", "acc.12.34.56.78.90", "1234567"])
def test_refused_graphql_input_masks_an_account_number_however_it_is_written(
    graphql, log_lines, account
):
    data = {"amount": "1", "currency": "EUR", "recipientDetails": {"account_number": account}}

    answer = graphql(CREATE, {"data": {**data, "unknownField": 1}})

    assert answer["errors"]
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert "recipientDetails" in text  # the refusal is logged
    assert account not in text
    assert account[:-4] not in text
