"""GraphQL authentication: /graphql/ answers HTTP 401 with a GraphQL error, never data, for each
way a key can be missing or wrong. (GraphiQL's page, which needs none, is test_serving's.)"""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client

from payouts.errors import MSG_UNAVAILABLE
from payouts.models import Payout
from tests.conftest import REFUSALS, refusal
from tests.graphql_api.conftest import assert_request_error

CREATE = """
mutation {
  createPayout(data: {amount: "5.00", currency: EUR, recipientDetails: {account_number: "X1"}}) {
    __typename
  }
}
"""

# Each kind of request a client sends: a query, a mutation, introspection, and a query by GET.
DOCUMENTS = {
    "query": ("POST", "{ payouts { totalCount edges { node { recipientDetails } } } }"),
    "mutation": ("POST", CREATE),
    "introspection": ("POST", "{ __schema { queryType { fields { name } } } }"),
    "GET query": ("GET", "{ payouts { totalCount } }"),
}


def send(method: str, document: str, authorization: str | None):
    headers = {} if authorization is None else {"Authorization": authorization}
    if method == "GET":
        return Client().get("/graphql/", {"query": document}, headers=headers)
    return Client().post(
        "/graphql/", json.dumps({"query": document}), "application/json", headers=headers
    )


@pytest.mark.parametrize("document", list(DOCUMENTS))
@pytest.mark.parametrize("case", REFUSALS)
def test_a_request_without_a_valid_key_is_refused_with_401(owner, pending_payout, case, document):
    refused = refusal(case, owner)

    response = send(*DOCUMENTS[document], refused.authorization)

    assert_request_error(response, 401, refused.code.name, refused.message)
    assert response["WWW-Authenticate"] == "Bearer"
    if refused.prefix is not None:
        assert refused.prefix in response.json()["errors"][0]["message"]
    assert list(Payout.objects.values_list("pk", flat=True)) == [pending_payout.pk]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_a_valid_key_is_accepted_whatever_the_case_of_the_scheme(owner, pending_payout, scheme):
    response = send("POST", "{ payouts { totalCount } }", f"{scheme} {owner.key}")

    assert response.status_code == 200
    assert response.json() == {"data": {"payouts": {"totalCount": 1}}}


@pytest.mark.parametrize("graphiql", [True, False])
def test_a_browsers_get_with_a_query_needs_a_key(owner, pending_payout, settings, graphiql):
    settings.GRAPHQL_GRAPHIQL = graphiql

    response = Client().get(
        "/graphql/",
        {"query": "{ payouts { edges { node { recipientDetails } } } }"},
        headers={"Accept": "text/html"},
    )

    assert response.status_code == 401
    assert "data" not in response.json()
    assert pending_payout.recipient_details["account_number"].encode() not in response.content


def test_a_database_down_during_the_key_check_is_a_503(owner, monkeypatch):
    def unreachable(header):
        raise OperationalError("connection refused")

    monkeypatch.setattr("graphql_api.views.caller_for_authorization", unreachable)

    response = send("POST", "{ payouts { totalCount } }", owner.authorization)

    assert_request_error(response, 503, "SERVICE_UNAVAILABLE", MSG_UNAVAILABLE)
