"""GET /api/events/: a client's own events, oldest first, filtered, and read on from one."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from events.models import Event, EventType
from payouts import services
from payouts.providers import Paid
from tests.conftest import api_error, field_codes, payout_payload
from tests.processing import run_to_the_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger_client(stranger) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=stranger.authorization)
    return client


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["results"]]


def test_events_are_listed_oldest_first_in_the_webhook_body_shape(api_client, owner):
    payout = services.payout_create(owner.caller, payout_payload())
    services.payout_update(owner.caller, payout.id, {"description": "Changed"})

    body = api_client.get("/api/events/").json()

    assert body["count"] == 2
    first, second = body["results"]
    assert (first["type"], first["sequence"]) == (EventType.CREATED, 1)
    assert (second["type"], second["sequence"]) == (EventType.UPDATED, 2)
    assert set(first) == {"id", "type", "timestamp", "sequence", "data"}
    assert re.fullmatch(r"evt_[0-9a-f]{32}", first["id"])
    assert first["timestamp"].endswith("Z")
    assert second["data"] == api_client.get(f"/api/payouts/{payout.id}/").json()


def test_another_clients_events_are_not_listed(stranger_client, owner):
    services.payout_create(owner.caller, payout_payload())

    assert ids(stranger_client.get("/api/events/")) == []


def test_an_event_is_retrieved_by_its_id(api_client, owner):
    services.payout_create(owner.caller, payout_payload())
    event = Event.objects.get()

    response = api_client.get(f"/api/events/{event.public_id}/")

    assert response.status_code == 200
    assert response.json()["id"] == event.public_id


@pytest.mark.parametrize("event_id", ["another client's", "evt_nothex", "42"])
def test_an_event_that_is_not_the_callers_is_not_found(stranger_client, owner, event_id):
    services.payout_create(owner.caller, payout_payload())
    if event_id == "another client's":
        event_id = Event.objects.get().public_id

    response = stranger_client.get(f"/api/events/{event_id}/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", "Event not found.")


def test_events_filter_by_type(api_client, owner, provider):
    provider.script.append(Paid("pr_1"))
    run_to_the_end(services.payout_create(owner.caller, payout_payload()))

    response = api_client.get("/api/events/?type=payout.completed,payout.created")

    assert [event["type"] for event in response.json()["results"]] == [
        EventType.CREATED,
        EventType.COMPLETED,
    ]


def test_events_filter_by_payout(api_client, owner):
    services.payout_create(owner.caller, payout_payload())
    second = services.payout_create(owner.caller, payout_payload())

    response = api_client.get(f"/api/events/?payout={second.id}")

    assert [event["data"]["id"] for event in response.json()["results"]] == [str(second.id)]


def test_after_lists_only_the_events_written_since_that_one(api_client, owner):
    for _ in range(3):
        services.payout_create(owner.caller, payout_payload())
    everything = ids(api_client.get("/api/events/"))

    response = api_client.get(f"/api/events/?after={everything[0]}")

    assert ids(response) == everything[1:]


def test_after_the_latest_event_lists_nothing(api_client, owner):
    services.payout_create(owner.caller, payout_payload())
    latest = Event.objects.get().public_id

    assert ids(api_client.get(f"/api/events/?after={latest}")) == []


def test_after_an_event_of_another_client_is_refused(stranger_client, owner):
    services.payout_create(owner.caller, payout_payload())

    response = stranger_client.get(f"/api/events/?after={Event.objects.get().public_id}")

    assert response.status_code == 400
    assert field_codes(response) == {"after": ["not_found"]}


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("after=evt_123", "after", "invalid"),
        ("type=payout.paid", "type", "invalid_choice"),
        ("payout=not-a-uuid", "payout", "invalid"),
        ("after=evt_1&after=evt_2", "after", "repeated_parameter"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_it(api_client, query, field, code):
    response = api_client.get(f"/api/events/?{query}")

    assert response.status_code == 400
    assert field_codes(response) == {field: [code]}


def test_events_need_a_key(anonymous_client):
    assert anonymous_client.get("/api/events/").status_code == 401
