"""Ownership: a client sees, filters, counts, changes and deletes only its own payouts.

One walk takes a second client's key through every REST operation the URL resolver serves and
every root field of the GraphQL schema, against the owner's payouts. The operations are found,
not listed: a route or a field the walk does not check fails it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.errors import MSG_EVENT_NOT_FOUND
from events.models import Event
from payouts import services
from payouts.errors import MSG_NOT_FOUND
from payouts.models import Payout, PayoutEvent, PayoutStatus
from tests.conftest import KeyHolder, api_error, payout_payload, post_graphql, rest_operations
from tests.graphql_api.conftest import global_id
from webhooks import errors as webhook_errors
from webhooks import services as webhook_services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

# An IP address in the URL: the endpoints need no DNS lookup.
ENDPOINT_URL = "https://93.184.215.14/hooks"


@dataclass
class World:
    """The owner's payouts, one PENDING and one COMPLETED, and the stranger's own payout, which
    matches every filter the walk sends so that an empty answer proves nothing by itself."""

    owner: KeyHolder
    stranger: KeyHolder
    owners: list[Payout]
    strangers: Payout
    owners_endpoint: WebhookEndpoint
    strangers_endpoint: WebhookEndpoint

    def rest(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        if query:
            path = f"{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
        return Client().generic(
            method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=self.stranger.headers,
        )

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = post_graphql(query, variables, headers=self.stranger.headers)
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    def owner_state(self) -> tuple[list[Any], list[int], list[Any]]:
        """The owner's payout rows, the ids of their events and the owner's webhook endpoints:
        what no walk step may change."""
        rows = list(Payout.objects.filter(client=self.owner.client).order_by("pk").values())
        events = list(
            PayoutEvent.objects.filter(payout__client=self.owner.client)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        endpoints = list(WebhookEndpoint.objects.filter(client=self.owner.client).values())
        return rows, events, endpoints


@pytest.fixture
def world(owner, stranger, make_payout) -> World:
    owners = [
        make_payout(amount=Decimal("100.00"), currency="EUR"),
        make_payout(status=PayoutStatus.COMPLETED, amount=Decimal("300.00"), currency="EUR"),
    ]
    strangers = services.payout_create(
        stranger.caller, payout_payload(amount=Decimal("200.00"), currency="EUR")
    )
    owners_endpoint, _ = webhook_services.endpoint_create(owner.caller, {"url": ENDPOINT_URL})
    strangers_endpoint, _ = webhook_services.endpoint_create(stranger.caller, {"url": ENDPOINT_URL})
    return World(owner, stranger, owners, strangers, owners_endpoint, strangers_endpoint)


# -- REST -----------------------------------------------------------------------------------

RestCheck = Callable[[World], None]
REST_WALK: dict[tuple[str, str], RestCheck] = {}


def rest_step(name: str, method: str) -> Callable[[RestCheck], RestCheck]:
    def register(check: RestCheck) -> RestCheck:
        REST_WALK[(name, method)] = check
        return check

    return register


def detail_path(payout: Payout) -> str:
    return reverse("payout-detail", kwargs={"pk": str(payout.pk)})


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.content
    assert response.json() == api_error("not_found", MSG_NOT_FOUND)


# Each filter selects the owner's PENDING payout and the stranger's alike.
REST_FILTERS: list[dict[str, str]] = [
    {},
    {"status": "PENDING"},
    {"currency": "EUR"},
    {"min_amount": "50.00", "max_amount": "500.00"},
    {"ordering": "amount"},
]


@rest_step("api-root", "GET")
def root_links_no_payout(world: World) -> None:
    response = world.rest("GET", reverse("api-root"))

    assert response.status_code == 200
    for payout in world.owners:
        assert str(payout.pk) not in response.content.decode()


@rest_step("payout-list", "GET")
def list_holds_and_counts_only_own_payouts(world: World) -> None:
    created_after = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    for query in [*REST_FILTERS, {"created_after": created_after}]:
        response = world.rest("GET", reverse("payout-list"), **query)

        assert response.status_code == 200, (query, response.content)
        body = response.json()
        assert [row["id"] for row in body["results"]] == [str(world.strangers.pk)], query
        assert body["count"] == 1, query


@rest_step("payout-list", "POST")
def create_makes_a_payout_of_the_creating_client(world: World) -> None:
    response = world.rest("POST", reverse("payout-list"), payout_payload())

    assert response.status_code == 201
    assert Payout.objects.get(pk=response.json()["id"]).client == world.stranger.client


@rest_step("payout-detail", "GET")
def retrieve_is_404(world: World) -> None:
    assert world.rest("GET", detail_path(world.strangers)).status_code == 200
    for payout in world.owners:
        assert_not_found(world.rest("GET", detail_path(payout)))
        assert world.rest("HEAD", detail_path(payout)).status_code == 404


@rest_step("payout-detail", "PATCH")
def patch_is_404(world: World) -> None:
    for payout in world.owners:
        assert_not_found(world.rest("PATCH", detail_path(payout), {"amount": "1.00"}))


@rest_step("payout-detail", "DELETE")
def delete_is_404(world: World) -> None:
    for payout in world.owners:
        assert_not_found(world.rest("DELETE", detail_path(payout)))


@rest_step("event-list", "GET")
def event_list_holds_only_own_events(world: World) -> None:
    owners_payout = world.owners[0]
    for query in ({}, {"payout": str(owners_payout.pk)}, {"type": "payout.created"}):
        response = world.rest("GET", reverse("event-list"), **query)

        assert response.status_code == 200
        payouts = {row["data"]["id"] for row in response.json()["results"]}
        assert str(world.strangers.pk) in payouts or "payout" in query, query
        assert payouts.isdisjoint(str(payout.pk) for payout in world.owners), query
    owners_event = Event.objects.filter(payout=owners_payout).first()
    assert owners_event is not None
    refused = world.rest("GET", reverse("event-list"), after=owners_event.public_id)
    assert refused.status_code == 400


@rest_step("event-detail", "GET")
def event_retrieve_is_404(world: World) -> None:
    owners_event = Event.objects.filter(payout=world.owners[0]).first()
    assert owners_event is not None
    response = world.rest("GET", reverse("event-detail", kwargs={"pk": owners_event.public_id}))

    assert response.status_code == 404
    assert response.json() == api_error("not_found", MSG_EVENT_NOT_FOUND)


def endpoint_path(endpoint: WebhookEndpoint, route: str = "webhook-endpoint-detail") -> str:
    return reverse(route, kwargs={"pk": str(endpoint.pk)})


def assert_endpoint_not_found(response: Any) -> None:
    assert response.status_code == 404, response.content
    assert response.json() == api_error("not_found", webhook_errors.MSG_NOT_FOUND)


@rest_step("webhook-endpoint-list", "GET")
def endpoint_list_holds_only_own_endpoints(world: World) -> None:
    response = world.rest("GET", reverse("webhook-endpoint-list"))

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(world.strangers_endpoint.pk)]


@rest_step("webhook-endpoint-list", "POST")
def endpoint_create_makes_an_endpoint_of_the_creating_client(world: World) -> None:
    response = world.rest("POST", reverse("webhook-endpoint-list"), {"url": ENDPOINT_URL})

    assert response.status_code == 201
    assert WebhookEndpoint.objects.get(pk=response.json()["id"]).client == world.stranger.client


@rest_step("webhook-endpoint-detail", "GET")
def endpoint_retrieve_is_404(world: World) -> None:
    assert world.rest("GET", endpoint_path(world.strangers_endpoint)).status_code == 200
    assert_endpoint_not_found(world.rest("GET", endpoint_path(world.owners_endpoint)))


@rest_step("webhook-endpoint-detail", "PATCH")
def endpoint_patch_is_404(world: World) -> None:
    path = endpoint_path(world.owners_endpoint)
    assert_endpoint_not_found(world.rest("PATCH", path, {"enabled": False}))


@rest_step("webhook-endpoint-detail", "DELETE")
def endpoint_delete_is_404(world: World) -> None:
    assert_endpoint_not_found(world.rest("DELETE", endpoint_path(world.owners_endpoint)))


@rest_step("webhook-endpoint-rotate-secret", "POST")
def endpoint_rotate_secret_is_404(world: World) -> None:
    path = endpoint_path(world.owners_endpoint, "webhook-endpoint-rotate-secret")
    assert_endpoint_not_found(world.rest("POST", path))


# -- GraphQL --------------------------------------------------------------------------------

GraphQLCheck = Callable[[World], None]
GRAPHQL_WALK: dict[str, GraphQLCheck] = {}


def graphql_step(field: str) -> Callable[[GraphQLCheck], GraphQLCheck]:
    def register(check: GraphQLCheck) -> GraphQLCheck:
        GRAPHQL_WALK[field] = check
        return check

    return register


def graphql_root_fields(world: World) -> set[str]:
    """Every field of Query and Mutation, as introspection shows them to the stranger."""
    schema = world.graphql(
        "{ __schema { queryType { name fields { name } } mutationType { name fields { name } } } }"
    )["__schema"]
    return {
        f"{root['name']}.{field['name']}"
        for root in (schema["queryType"], schema["mutationType"])
        for field in root["fields"]
    }


NOT_FOUND = {
    "__typename": "PayoutErrors",
    "errors": [{"code": "NOT_FOUND", "field": None, "message": MSG_NOT_FOUND}],
}
ERRORS = "__typename ... on PayoutErrors { errors { code field message } }"

# Each filter selects the owner's PENDING payout and the stranger's alike.
GRAPHQL_FILTERS: list[dict[str, Any]] = [
    {},
    {"status": {"exact": "PENDING"}},
    {"currency": {"inList": ["EUR"]}},
    {"amount": {"range": {"start": "50.00", "end": "500.00"}}},
    {"OR": {"status": {"exact": "COMPLETED"}}, "currency": {"exact": "EUR"}},
]


@graphql_step("Query.node")
def node_is_null(world: World) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    own = world.graphql(query, id=global_id(world.strangers))
    assert own == {"node": {"id": global_id(world.strangers)}}
    for payout in world.owners:
        assert world.graphql(query, id=global_id(payout)) == {"node": None}


@graphql_step("Query.payout")
def payout_is_null(world: World) -> None:
    query = "query($id: ID!) { payout(id: $id) { payoutId } }"
    own = world.graphql(query, id=global_id(world.strangers))
    assert own == {"payout": {"payoutId": str(world.strangers.pk)}}
    for payout in world.owners:
        assert world.graphql(query, id=global_id(payout)) == {"payout": None}


@graphql_step("Query.payouts")
def payouts_hold_and_count_only_own_payouts(world: World) -> None:
    query = """
    query($filters: PayoutFilter) {
      payouts(filters: $filters) { totalCount edges { node { payoutId } } }
    }
    """
    for filters in GRAPHQL_FILTERS:
        connection = world.graphql(query, filters=filters)["payouts"]

        assert connection == {
            "totalCount": 1,
            "edges": [{"node": {"payoutId": str(world.strangers.pk)}}],
        }, filters


@graphql_step("Mutation.createPayout")
def create_payout_makes_a_payout_of_the_creating_client(world: World) -> None:
    mutation = """
    mutation($data: PayoutCreateInput!) { createPayout(data: $data) { ... on Payout { payoutId } } }
    """
    data = {"amount": "5.00", "currency": "EUR", "recipientDetails": {"account_number": "X1"}}

    created = world.graphql(mutation, data=data)["createPayout"]

    assert Payout.objects.get(pk=created["payoutId"]).client == world.stranger.client


@graphql_step("Mutation.updatePayout")
def update_payout_is_not_found(world: World) -> None:
    mutation = f"""
    mutation($id: ID!) {{ updatePayout(id: $id, data: {{amount: "1.00"}}) {{ {ERRORS} }} }}
    """
    for payout in world.owners:
        assert world.graphql(mutation, id=global_id(payout)) == {"updatePayout": NOT_FOUND}


@graphql_step("Mutation.deletePayout")
def delete_payout_is_not_found(world: World) -> None:
    mutation = f"mutation($id: ID!) {{ deletePayout(id: $id) {{ {ERRORS} }} }}"
    for payout in world.owners:
        assert world.graphql(mutation, id=global_id(payout)) == {"deletePayout": NOT_FOUND}


def owners_failed_delivery(world: World) -> WebhookDelivery:
    """A delivery to the owner's endpoint, failed: one the owner could retry."""
    event = Event.objects.filter(payout=world.owners[0]).first()
    assert event is not None
    delivery, _ = WebhookDelivery.objects.get_or_create(
        endpoint=world.owners_endpoint,
        event=event,
        defaults={"status": DeliveryStatus.FAILED, "attempts": 1},
    )
    return delivery


@rest_step("webhook-delivery-list", "GET")
def deliveries_of_an_owners_endpoint_are_404(world: World) -> None:
    delivery = owners_failed_delivery(world)
    path = reverse("webhook-delivery-list", kwargs={"endpoint_id": str(delivery.endpoint_id)})

    response = world.rest("GET", path)

    assert response.status_code == 404, response.content
    assert response.json() == api_error("not_found", webhook_errors.MSG_NOT_FOUND)


@rest_step("webhook-delivery-retry", "POST")
def retry_of_an_owners_delivery_is_404(world: World) -> None:
    delivery = owners_failed_delivery(world)
    kwargs = {"endpoint_id": str(delivery.endpoint_id), "delivery_id": str(delivery.pk)}

    response = world.rest("POST", reverse("webhook-delivery-retry", kwargs=kwargs))

    assert response.status_code == 404, response.content
    assert response.json() == api_error("not_found", webhook_errors.MSG_NOT_FOUND)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.manual) == (DeliveryStatus.FAILED, False)


# -- The walk -------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", ["REST", "GraphQL"])
def test_another_clients_key_reaches_none_of_the_owners_payouts(
    world, surface, django_capture_on_commit_callbacks
):
    walk: dict[Any, Callable[[World], None]]
    served: set[Any]
    if surface == "REST":
        walk, served = dict(REST_WALK), rest_operations()
    else:
        walk, served = dict(GRAPHQL_WALK), graphql_root_fields(world)
    assert set(walk) == served, "every operation the API serves is walked, and only those"
    before = world.owner_state()

    for operation, check in walk.items():
        with django_capture_on_commit_callbacks(execute=True):
            check(world)

        assert world.owner_state() == before, operation


@pytest.mark.parametrize("surface", ["REST", "GraphQL"])
def test_a_created_payout_belongs_to_the_creating_keys_client(owner, stranger, surface):
    if surface == "REST":
        response = Client().post(
            "/api/payouts/", payout_payload(), "application/json", headers=owner.headers
        )
        assert response.status_code == 201
        payout_id = response.json()["id"]
    else:
        mutation = """
        mutation($data: PayoutCreateInput!) {
          createPayout(data: $data) { ... on Payout { payoutId } }
        }
        """
        data = {"amount": "5.00", "currency": "EUR", "recipientDetails": {"account_number": "X"}}
        response = post_graphql(mutation, {"data": data}, headers=owner.headers)
        payout_id = response.json()["data"]["createPayout"]["payoutId"]

    payout = Payout.objects.get(pk=payout_id)
    assert payout.client == owner.client
    theirs = Client().get(f"/api/payouts/{payout_id}/", headers=stranger.headers)
    assert theirs.status_code == 404
