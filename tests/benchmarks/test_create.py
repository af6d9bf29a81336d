"""The create baseline pays the API's key check."""

from __future__ import annotations

import json

import pytest

from benchmarks.create import PAYLOAD
from benchmarks.protocol import BARE_CREATE_PATH
from clients.authentication import MSG_NO_CREDENTIALS
from payouts.models import ActorKind, Payout, PayoutEvent


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
