"""REST and GraphQL refuse the same bad input with the same words, taken from the domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from strawberry import relay

from graphql_api.types import PAYOUT_TYPE_NAME
from payouts.errors import MSG_AMOUNT_ABOVE_MAXIMUM, MSG_AMOUNT_NOT_POSITIVE, MSG_NOT_EDITABLE
from payouts.models import Payout, PayoutStatus
from tests.conftest import field_errors, payout_payload

GRAPHQL_CREATE = """
mutation($data: PayoutCreateInput!) {
  createPayout(data: $data) { ... on OperationInfo { messages { field message } } }
}
"""
GRAPHQL_UPDATE = """
mutation($id: ID!, $data: PayoutUpdateInput!) {
  updatePayout(id: $id, data: $data) { ... on OperationInfo { messages { field message } } }
}
"""


def rest_create(client: Client, payout: Payout | None, amount: str) -> list[str]:
    response = client.post(
        "/api/payouts/", payout_payload(amount=amount), content_type="application/json"
    )
    assert response.status_code == 400
    return field_errors(response)["amount"]


def rest_update(client: Client, payout: Payout | None, amount: str) -> list[str]:
    assert payout is not None
    response = client.patch(
        f"/api/payouts/{payout.pk}/", {"amount": amount}, content_type="application/json"
    )
    assert response.status_code == 403
    return [response.json()["detail"]]


def _graphql_messages(client: Client, query: str, variables: dict[str, Any]) -> list[str]:
    response = client.post(
        "/graphql/", {"query": query, "variables": variables}, content_type="application/json"
    )
    assert response.status_code == 200
    [result] = response.json()["data"].values()
    return [message["message"] for message in result["messages"]]


def graphql_create(client: Client, payout: Payout | None, amount: str) -> list[str]:
    payload = payout_payload(amount=amount)
    data = {
        "amount": payload["amount"],
        "currency": payload["currency"],
        "recipientDetails": payload["recipient_details"],
    }
    return _graphql_messages(client, GRAPHQL_CREATE, {"data": data})


def graphql_update(client: Client, payout: Payout | None, amount: str) -> list[str]:
    assert payout is not None
    global_id = relay.to_base64(PAYOUT_TYPE_NAME, payout.pk)
    return _graphql_messages(client, GRAPHQL_UPDATE, {"id": global_id, "data": {"amount": amount}})


Surface = Callable[[Client, Payout | None, str], list[str]]
SURFACES: dict[str, tuple[Surface, Surface]] = {
    "rest": (rest_create, rest_update),
    "graphql": (graphql_create, graphql_update),
}
CASES = [
    pytest.param("create", None, "0", MSG_AMOUNT_NOT_POSITIVE, id="amount-not-positive"),
    pytest.param(
        "create",
        None,
        "1000000.01",
        MSG_AMOUNT_ABOVE_MAXIMUM % {"limit_value": "1000000.00"},
        id="amount-above-maximum",
    ),
    pytest.param("update", PayoutStatus.PROCESSING, "5.00", MSG_NOT_EDITABLE, id="not-pending"),
]


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize(("action", "status", "amount", "message"), CASES)
def test_both_surfaces_refuse_bad_input_with_the_domain_message(
    make_payout, surface, action, status, amount, message
):
    payout = make_payout(status, amount="100.00") if status else None
    create, update = SURFACES[surface]

    messages = (create if action == "create" else update)(Client(), payout, amount)

    assert messages == [message]
    assert Payout.objects.count() == (1 if payout else 0)
    if payout:
        payout.refresh_from_db()
        assert str(payout.amount) == "100.00"
