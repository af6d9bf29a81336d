"""Each event of a payout's history records who caused it: a client by its key prefix, a staff
user by username, or the worker."""

from __future__ import annotations

import pytest
from django.test import Client

from payouts.models import Payout, PayoutEvent, PayoutEventKind
from tests.conftest import payout_payload, post_graphql
from tests.graphql_api.conftest import global_id

GRAPHQL_WRITES = {
    "create": """
        mutation {
          createPayout(
            data: {amount: "5.00", currency: EUR, recipientDetails: {account_number: "X"}}
          ) { ... on Payout { payoutId } }
        }
    """,
    "update": """
        mutation($id: ID!) { updatePayout(id: $id, data: {amount: "7.00"}) { __typename } }
    """,
    "delete": "mutation($id: ID!) { deletePayout(id: $id) { __typename } }",
}
KINDS = {
    "create": PayoutEventKind.CREATED,
    "update": PayoutEventKind.UPDATED,
    "delete": PayoutEventKind.DELETED,
}


def rest_write(client: Client, write: str, payout: Payout, headers: dict[str, str]) -> None:
    if write == "create":
        response = client.post(
            "/api/payouts/", payout_payload(), "application/json", headers=headers
        )
        assert response.status_code == 201, response.content
    elif write == "update":
        response = client.patch(
            f"/api/payouts/{payout.pk}/", {"amount": "7.00"}, "application/json", headers=headers
        )
        assert response.status_code == 200, response.content
    else:
        response = client.delete(f"/api/payouts/{payout.pk}/", headers=headers)
        assert response.status_code == 204, response.content


def graphql_write(client: Client, write: str, payout: Payout, headers: dict[str, str]) -> None:
    variables = {} if write == "create" else {"id": global_id(payout)}
    response = post_graphql(GRAPHQL_WRITES[write], variables, headers=headers, client=client)
    assert response.status_code == 200, response.content
    assert "errors" not in response.json(), response.content


WRITERS = {"REST": rest_write, "GraphQL": graphql_write}


def events_after(last_id: int) -> list[tuple[str, str, str]]:
    """(kind, actor_kind, actor) of each event recorded after the event `last_id`."""
    return [
        (event.kind, event.actor_kind, event.actor)
        for event in PayoutEvent.objects.filter(id__gt=last_id).order_by("id")
    ]


def last_event_id() -> int:
    return PayoutEvent.objects.order_by("id").values_list("id", flat=True).last() or 0


@pytest.mark.parametrize("write", list(KINDS))
@pytest.mark.parametrize("surface", list(WRITERS))
def test_a_write_with_a_key_records_the_client_and_the_key_prefix(
    owner, pending_payout, surface, write
):
    before = last_event_id()

    WRITERS[surface](Client(), write, pending_payout, owner.headers)

    assert events_after(before) == [(KINDS[write], "client", owner.api_key.prefix)]


@pytest.mark.parametrize("write", ["update", "delete"])
@pytest.mark.parametrize("surface", list(WRITERS))
def test_a_write_in_a_staff_session_records_the_staff_user(
    admin_client, admin_user, pending_payout, surface, write
):
    before = last_event_id()

    WRITERS[surface](admin_client, write, pending_payout, {})

    assert events_after(before) == [(KINDS[write], "staff", admin_user.username)]


def test_processing_events_record_the_worker(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rest_write(Client(), "create", Payout(), owner.headers)

    assert events_after(0) == [
        (PayoutEventKind.CREATED, "client", owner.api_key.prefix),
        (PayoutEventKind.PROCESSING, "worker", ""),
        (PayoutEventKind.COMPLETED, "worker", ""),
    ]
