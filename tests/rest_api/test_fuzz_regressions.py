"""Inputs the schemathesis fuzzer found mishandled, each pinned to the answer it now gets."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest
import yaml

from payouts import errors
from payouts.models import Payout, PayoutStatus
from payouts.validation import MSG_TIMESTAMP_OUT_OF_RANGE
from rest_api.filters import MSG_EMPTY_SORT_KEY
from rest_api.pagination import MSG_INVALID_PAGE
from tests.conftest import api_error, field_errors

COMMITTED_SCHEMA = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_page_past_the_end_is_a_documented_404(api_client, pending_payout):
    response = api_client.get("/api/payouts/?page=499517207")

    list_responses = yaml.safe_load(COMMITTED_SCHEMA.read_text())["paths"]["/api/payouts/"]["get"]
    assert response.status_code == 404
    assert response.json() == api_error("not_found", MSG_INVALID_PAGE)
    assert "404" in list_responses["responses"]


@pytest.mark.parametrize("ordering", [",,,,,,", "amount,", ",-created_at", "amount,,created_at"])
def test_ordering_with_an_empty_sort_key_is_refused(api_client, pending_payout, ordering):
    response = api_client.get("/api/payouts/", {"ordering": ordering})

    assert response.status_code == 400
    assert field_errors(response) == {"ordering": [MSG_EMPTY_SORT_KEY]}


def test_empty_ordering_keeps_the_default_order(api_client, pending_payout):
    response = api_client.get("/api/payouts/", {"ordering": ""})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(pending_payout.id)]


@pytest.mark.parametrize("payout_id", ["y\u00ac.", "1.5", "..."])
def test_get_id_with_a_dot_is_the_json_404(api_client, db, payout_id):
    response = api_client.get(f"/api/payouts/{payout_id}/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)


def test_patch_id_with_a_dot_is_the_json_404_and_changes_nothing(api_client, pending_payout):
    response = api_client.patch("/api/payouts/1.5/", {"amount": "1.00"}, format="json")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"


def test_delete_id_with_a_dot_is_the_json_404_and_deletes_nothing(api_client, pending_payout):
    response = api_client.delete("/api/payouts/1.5/")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)
    assert Payout.objects.filter(status=PayoutStatus.PENDING).count() == 1


def test_created_bound_with_an_offset_postgresql_refuses_is_taken_in_utc(api_client, make_payout):
    payout = make_payout()
    bound = payout.created_at.astimezone(timezone(timedelta(hours=21, minutes=35)))

    response = api_client.get("/api/payouts/", {"created_before": bound.isoformat()})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(payout.id)]


@pytest.mark.parametrize("bound", ["0001-01-01T00:00:00+21:00", "9999-12-31T23:59:59-21:00"])
def test_created_bound_outside_utc_years_is_refused(api_client, db, bound):
    response = api_client.get("/api/payouts/", {"created_after": bound})

    assert response.status_code == 400
    assert field_errors(response) == {"created_after": [MSG_TIMESTAMP_OUT_OF_RANGE]}
