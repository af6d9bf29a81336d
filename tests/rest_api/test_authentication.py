"""REST authentication: every route needs `Authorization: Bearer <key>` and answers 401 with
`WWW-Authenticate: Bearer` and the error envelope for each way a key can be missing or wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clients.services import api_key_create, api_key_revoke
from payouts.models import Payout
from tests.conftest import REFUSALS, api_error, payout_payload, refusal, rest_operations

ANY_ID = "6f1c0a52-7d2e-4c47-9a53-9d5b8e1f0c11"
# Each REST operation: what a request to it sends, given a payout to name.
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("api-root", "GET"): {},
    ("payout-list", "GET"): {},
    ("payout-list", "POST"): {"body": payout_payload()},
    ("payout-detail", "GET"): {},
    ("payout-detail", "PATCH"): {"body": {"amount": "1.00"}},
    ("payout-detail", "DELETE"): {},
    ("event-list", "GET"): {},
    ("event-detail", "GET"): {},
    ("webhook-endpoint-list", "GET"): {},
    ("webhook-endpoint-list", "POST"): {"body": {"url": "https://hooks.example.com/"}},
    ("webhook-endpoint-detail", "GET"): {},
    ("webhook-endpoint-detail", "PATCH"): {"body": {"enabled": False}},
    ("webhook-endpoint-detail", "DELETE"): {},
    ("webhook-endpoint-rotate-secret", "POST"): {},
    # Any ids: the key is refused before they are looked up.
    ("webhook-delivery-list", "GET"): {"kwargs": {"endpoint_id": ANY_ID}},
    ("webhook-delivery-retry", "POST"): {"kwargs": {"endpoint_id": ANY_ID, "delivery_id": ANY_ID}},
}


def request(operation: tuple[str, str], payout: Payout, authorization: str | None) -> Any:
    name, method = operation
    # The routes of one object take its id; no credential gets far enough to look it up.
    kwargs = OPERATIONS[operation].get("kwargs")
    if kwargs is None:
        kwargs = {"pk": str(payout.pk)} if not name.endswith(("-list", "-root")) else {}
    body = OPERATIONS[operation].get("body")
    headers = {} if authorization is None else {"Authorization": authorization}
    return Client().generic(
        method,
        reverse(name, kwargs=kwargs),
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers=headers,
    )


def payout_rows():
    return list(Payout.objects.order_by("pk").values())


def test_every_rest_operation_is_checked_here(db):
    assert set(OPERATIONS) == rest_operations()


@pytest.mark.parametrize("operation", list(OPERATIONS), ids="-".join)
@pytest.mark.parametrize("case", REFUSALS)
def test_a_request_without_a_valid_key_is_refused_with_401(owner, pending_payout, case, operation):
    refused = refusal(case, owner)
    before = payout_rows()

    response = request(operation, pending_payout, refused.authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == api_error(refused.code.value, refused.message)
    if refused.prefix is not None:
        assert refused.prefix in response.json()["detail"]
    assert payout_rows() == before


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_valid_key_is_accepted_whatever_the_case_of_the_scheme(owner, pending_payout, scheme):
    response = Client().get("/api/payouts/", headers={"Authorization": f"{scheme} {owner.key}"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(pending_payout.pk)]


def test_a_key_works_again_once_its_client_is_reactivated(owner, pending_payout):
    refusal("inactive client", owner)
    assert Client().get("/api/payouts/", headers=owner.headers).status_code == 401

    owner.client.is_active = True
    owner.client.save()

    assert Client().get("/api/payouts/", headers=owner.headers).status_code == 200


def test_a_second_key_keeps_working_when_the_first_is_revoked(owner, pending_payout):
    _, second_key = api_key_create(owner.client.name)
    api_key_revoke(owner.api_key.prefix)

    first = Client().get("/api/payouts/", headers=owner.headers)
    second = Client().get("/api/payouts/", headers={"Authorization": f"Bearer {second_key}"})

    assert first.status_code == 401
    assert second.status_code == 200
    assert [row["id"] for row in second.json()["results"]] == [str(pending_payout.pk)]
