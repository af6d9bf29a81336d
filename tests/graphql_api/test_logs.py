"""Account numbers in GraphQL input never reach the log in full, refused or quoted by an error."""

from __future__ import annotations

import json

ACCOUNT = "DE89370400440532013000"
MASKED = "DE••••3000"

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
    assert MASKED in text  # the refusal is logged, masked


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
