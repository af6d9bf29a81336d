"""The create baseline pays the API's key check and writes what the API writes."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from benchmarks.create import BARE_CREATE_PATH, PAYLOAD
from clients.authentication import MSG_NO_CREDENTIALS
from payouts.models import ActorKind, Payout, PayoutEvent

INSERT = re.compile(r'INSERT INTO "?(\w+)"? \(([^)]*)\)')


def inserted_columns(statements: list[str]) -> dict[str, set[str]]:
    """Each table an INSERT writes, with the columns it names."""
    return {
        table: {column.strip().strip('"') for column in columns.split(",")}
        for statement in statements
        for table, columns in INSERT.findall(statement)
    }


@pytest.mark.urls("benchmarks.urls")
def test_the_bare_view_refuses_a_request_without_a_key(db, anonymous_client):
    response = anonymous_client.post(BARE_CREATE_PATH, PAYLOAD, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": MSG_NO_CREDENTIALS, "code": "not_authenticated"}
    assert not Payout.objects.exists()


@pytest.mark.urls("benchmarks.urls")
def test_the_bare_view_writes_the_payout_as_the_keys_client(client, owner):
    response = client.post(BARE_CREATE_PATH, json.dumps(PAYLOAD), content_type="application/json")

    assert response.status_code == 201
    payout = Payout.objects.get(pk=response.json()["id"])
    assert payout.client == owner.client
    event = PayoutEvent.objects.get(payout=payout)
    assert (event.kind, event.actor_kind, event.actor) == (
        "created",
        ActorKind.CLIENT,
        owner.api_key.prefix,
    )


def test_the_bare_view_inserts_the_columns_post_api_payouts_inserts(client):
    def inserted(path):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, json.dumps(PAYLOAD), content_type="application/json")
        assert response.status_code == 201
        return inserted_columns([str(query["sql"]) for query in queries.captured_queries])

    api = inserted("/api/payouts/")
    with override_settings(ROOT_URLCONF="benchmarks.urls"):
        bare = inserted(BARE_CREATE_PATH)

    assert set(api) == {"payouts_payout", "payouts_payoutevent", "events_event"}
    assert bare == api
