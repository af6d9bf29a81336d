"""createPayout with an Idempotency-Key header: the same rules as REST, for the one mutation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from idempotency.errors import (
    MSG_KEY_IN_USE,
    MSG_KEY_INVALID,
    MSG_KEY_MISMATCH,
    MSG_MULTIPLE_MUTATIONS,
)
from idempotency.models import IdempotencyKey
from idempotency.services import purge_expired
from payouts import services
from payouts.models import Payout
from tests.graphql_api.conftest import assert_request_error, global_id
from tests.idempotency.conftest import KEY, expire_keys

CREATE = """
mutation Create($data: PayoutCreateInput!) {
  createPayout(data: $data) {
    __typename
    ... on Payout { id payoutId amount status }
    ... on PayoutErrors { errors { field code message } }
  }
}
"""
NEW_PAYOUT = {
    "amount": "250.00",
    "currency": "EUR",
    "recipientDetails": {"account_number": "DE89370400440532013000"},
}


@pytest.fixture
def send(owner, django_capture_on_commit_callbacks) -> Any:
    """POST a GraphQL request with the owner's key and an Idempotency-Key (KEY unless told)."""

    def send(
        query: str = CREATE,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = KEY,
        as_: Any = owner,
        operation_name: str | None = None,
    ) -> Any:
        headers = {**as_.headers, **({} if key is None else {"Idempotency-Key": key})}
        body = {
            "query": query,
            "variables": {"data": NEW_PAYOUT} if variables is None else variables,
            "operationName": operation_name,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(
                "/graphql/", body, content_type="application/json", headers=headers
            )

    return send


def test_first_create_runs_and_is_not_marked_replayed(send, enqueued):
    response = send()

    created = response.json()["data"]["createPayout"]
    assert created["__typename"] == "Payout"
    assert "Idempotent-Replayed" not in response
    assert enqueued == [created["payoutId"]]


def test_retry_replays_the_same_response_and_creates_nothing(send, enqueued):
    first = send()

    retry = send()

    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert Payout.objects.count() == 1
    assert len(enqueued) == 1


def test_same_key_with_other_variables_is_422(send):
    send()

    response = send(variables={"data": {**NEW_PAYOUT, "amount": "1.00"}})

    message = MSG_KEY_MISMATCH.format(method="POST", path="/graphql/")
    assert_request_error(response, 422, "IDEMPOTENCY_KEY_MISMATCH", message)
    assert Payout.objects.count() == 1


def test_same_key_while_the_first_request_runs_is_409(send, owner, monkeypatch):
    seen: list[Any] = []
    real_create = services.payout_create

    def create_with_a_retry_arriving(*args: Any) -> Payout:
        # The client gives up waiting and retries while this first request is still running.
        seen.append(send())
        return real_create(*args)

    monkeypatch.setattr(services, "payout_create", create_with_a_retry_arriving)
    first = send()

    [retry] = seen
    assert_request_error(retry, 409, "IDEMPOTENCY_KEY_IN_USE", MSG_KEY_IN_USE)
    assert retry["Retry-After"] == "1"
    assert first.json()["data"]["createPayout"]["__typename"] == "Payout"
    assert Payout.objects.count() == 1


def test_a_refused_create_is_stored_and_replayed(send):
    refused = {"data": {**NEW_PAYOUT, "amount": "0"}}
    first = send(variables=refused)

    retry = send(variables=refused)

    assert first.json()["data"]["createPayout"]["errors"][0]["code"] == "MIN_VALUE"
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_a_server_failure_is_not_stored_so_the_retry_runs(send, monkeypatch, enqueued):
    real_create = services.payout_create

    def fail_once(*args: Any) -> Payout:
        monkeypatch.setattr(services, "payout_create", real_create)
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "payout_create", fail_once)

    failed = send()
    retry = send()

    assert failed.json()["errors"][0]["extensions"]["code"] == "SERVER_ERROR"
    assert "Idempotent-Replayed" not in retry
    assert retry.json()["data"]["createPayout"]["__typename"] == "Payout"
    assert enqueued == [retry.json()["data"]["createPayout"]["payoutId"]]


def test_each_client_has_its_own_keys(send, stranger):
    mine = send()
    theirs = send(as_=stranger)

    assert "Idempotent-Replayed" not in theirs
    ids = {r.json()["data"]["createPayout"]["payoutId"] for r in (mine, theirs)}
    assert len(ids) == 2


def test_a_key_past_its_ttl_is_purged_then_accepted_as_new(send, settings):
    first = send()
    expire_keys(settings)

    assert purge_expired() == 1
    again = send()

    assert "Idempotent-Replayed" not in again
    payout_ids = {r.json()["data"]["createPayout"]["payoutId"] for r in (first, again)}
    assert len(payout_ids) == 2


@pytest.mark.parametrize(
    "document",
    [
        "mutation($data: PayoutCreateInput!) { a: createPayout(data: $data) { __typename } "
        "b: createPayout(data: $data) { __typename } }",
        "mutation($data: PayoutCreateInput!) { createPayout(data: $data) { __typename } "
        '... on Mutation { deletePayout(id: "x") { __typename } } }',
        "mutation($data: PayoutCreateInput!) { ...Two } fragment Two on Mutation { "
        "a: createPayout(data: $data) { __typename } b: createPayout(data: $data) { __typename } }",
    ],
    ids=["aliases", "inline fragment", "named fragment"],
)
def test_several_mutations_under_one_key_are_refused(send, document):
    response = send(document)

    assert_request_error(
        response, 400, "IDEMPOTENCY_KEY_MULTIPLE_MUTATIONS", MSG_MULTIPLE_MUTATIONS.format(count=2)
    )
    assert Payout.objects.count() == 0
    assert not IdempotencyKey.objects.exists()


def test_the_operation_named_in_the_request_is_the_one_governed(send):
    document = CREATE + 'mutation Other { deletePayout(id: "x") { __typename } }'

    first = send(document, operation_name="Create")
    retry = send(document, operation_name="Create")

    assert first.json()["data"]["createPayout"]["__typename"] == "Payout"
    assert retry["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "new\nline"])
def test_a_malformed_key_is_400(send, key):
    response = send(key=key)

    assert_request_error(response, 400, "IDEMPOTENCY_KEY_INVALID", MSG_KEY_INVALID)
    assert Payout.objects.count() == 0


def test_a_query_with_a_key_runs_as_without_one(send):
    response = send("{ payouts { totalCount } }", {})

    assert response.json() == {"data": {"payouts": {"totalCount": 0}}}
    assert not IdempotencyKey.objects.exists()


def test_an_update_with_a_key_runs_as_without_one(send, pending_payout):
    update = """
    mutation($id: ID!) { updatePayout(id: $id, data: {description: "x"}) { __typename } }
    """
    response = send(update, {"id": global_id(pending_payout)})

    assert response.json() == {"data": {"updatePayout": {"__typename": "Payout"}}}
    assert not IdempotencyKey.objects.exists()


def test_without_a_key_every_create_creates_a_payout(send):
    send(key=None)
    send(key=None)

    assert Payout.objects.count() == 2


def test_without_an_operation_name_the_key_governs_the_first_operation_as_strawberry_runs_it(
    send, enqueued
):
    document = CREATE + "query Other { __typename }"

    first = send(document)
    retry = send(document)

    assert first.json()["data"]["createPayout"]["__typename"] == "Payout"
    assert retry["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1
    assert len(enqueued) == 1


def test_several_mutations_in_the_first_of_several_operations_are_refused(send):
    document = (
        "mutation Two($data: PayoutCreateInput!) { a: createPayout(data: $data) { __typename } "
        "b: createPayout(data: $data) { __typename } } query Other { __typename }"
    )

    response = send(document)

    assert_request_error(
        response, 400, "IDEMPOTENCY_KEY_MULTIPLE_MUTATIONS", MSG_MULTIPLE_MUTATIONS.format(count=2)
    )
    assert Payout.objects.count() == 0


def test_a_server_failure_below_the_create_never_shows_the_rolled_back_payout(send, monkeypatch):
    """A nullable field that fails keeps createPayout's data in GraphQL's answer; under a key the
    payout is rolled back with the key, so the answer must not name it."""
    real_create = services.payout_create

    def reference_fails_once_created(self: Payout) -> object:
        if self.__dict__.get("_created"):
            raise RuntimeError("a resolver below createPayout fails")
        return self.__dict__.get("reference")

    def create_then_break(*args: Any) -> Payout:
        payout = real_create(*args)
        payout.__dict__["_created"] = True
        return payout

    monkeypatch.setattr(
        Payout,
        "reference",
        property(
            reference_fails_once_created, lambda self, value: self.__dict__.update(reference=value)
        ),
    )
    monkeypatch.setattr(services, "payout_create", create_then_break)
    query = (
        "mutation($data: PayoutCreateInput!) "
        "{ createPayout(data: $data) { ... on Payout { payoutId reference } } }"
    )

    response = send(query)

    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVER_ERROR"
    assert Payout.objects.count() == 0
    assert not IdempotencyKey.objects.exists()
