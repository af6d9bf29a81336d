"""An API key's last_used_at: set by a request it authenticates, written at most once a minute,
never by a request it does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import ApiKey
from tests.conftest import KeyHolder, post_graphql, refusal


def rest(holder: KeyHolder) -> None:
    assert Client().get("/api/payouts/", headers=holder.headers).status_code == 200


def graphql(holder: KeyHolder) -> None:
    assert post_graphql("{ payouts { totalCount } }", headers=holder.headers).status_code == 200


SURFACES = {"REST": rest, "GraphQL": graphql}


def last_used(holder: KeyHolder):
    return ApiKey.objects.get(pk=holder.api_key.pk).last_used_at


def apikey_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured if '"clients_apikey"' in query["sql"]]


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_request_with_a_key_records_when_the_key_was_used(owner, surface):
    assert last_used(owner) is None
    started = timezone.now()

    SURFACES[surface](owner)

    used = last_used(owner)
    assert used is not None
    assert started <= used <= timezone.now()


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_second_request_within_a_minute_does_not_touch_the_key_row(owner, surface):
    SURFACES[surface](owner)
    first = last_used(owner)

    with CaptureQueriesContext(connection) as captured:
        SURFACES[surface](owner)

    # Neither read nor written: the process remembers the key it checked a moment ago.
    assert apikey_queries(captured) == []
    assert last_used(owner) == first


def test_a_request_a_minute_after_the_last_records_the_new_time(owner):
    a_minute_ago = timezone.now() - timedelta(minutes=1, seconds=1)
    ApiKey.objects.filter(pk=owner.api_key.pk).update(last_used_at=a_minute_ago)

    with CaptureQueriesContext(connection) as captured:
        rest(owner)

    assert [sql.split()[0] for sql in apikey_queries(captured)] == ["SELECT", "UPDATE"]
    assert last_used(owner) > a_minute_ago + timedelta(minutes=1)


@pytest.mark.parametrize("case", ["wrong secret", "revoked key", "expired key", "inactive client"])
def test_a_refused_request_does_not_count_as_a_use_of_the_key(owner, case):
    refused = refusal(case, owner)

    response = Client().get("/api/payouts/", headers={"Authorization": refused.authorization})

    assert response.status_code == 401
    assert last_used(owner) is None
