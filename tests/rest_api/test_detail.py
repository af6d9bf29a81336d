"""GET, PATCH, PUT and DELETE on /api/payouts/{id}/."""

from __future__ import annotations

import uuid

import pytest

from payouts import errors, services
from payouts.models import Payout, PayoutStatus
from tests.conftest import api_error, field_errors


def detail_url(payout_id) -> str:
    return f"/api/payouts/{payout_id}/"


def test_get_returns_the_payout(api_client, pending_payout):
    response = api_client.get(detail_url(pending_payout.id))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(pending_payout.id)
    assert body["amount"] == "100.00"
    assert body["status"] == "PENDING"


def test_get_failed_payout_shows_the_failure_code_and_reason(api_client, make_payout):
    payout = make_payout(status=PayoutStatus.FAILED)

    body = api_client.get(detail_url(payout.id)).json()

    assert body["status"] == "FAILED"
    assert body["failure_code"] == "provider_unavailable"
    assert body["failure_reason"] == "Failed after 1 attempt(s): declined"
    assert body["provider_reference"] == ""


def test_get_completed_payout_shows_the_provider_reference(api_client, pending_payout):
    services.payout_start_attempt(pending_payout.id, 1)
    services.payout_complete(pending_payout.id, 1, "pr_abc")

    body = api_client.get(detail_url(pending_payout.id)).json()

    assert (body["status"], body["provider_reference"]) == ("COMPLETED", "pr_abc")
    assert (body["failure_code"], body["failure_reason"]) == ("", "")


@pytest.mark.parametrize("payout_id", [uuid.uuid4(), "not-a-uuid", "123", "%20"])
def test_get_unknown_or_malformed_id_is_404(api_client, db, payout_id):
    response = api_client.get(detail_url(payout_id))

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)


def test_patch_changes_editable_fields_of_a_pending_payout(api_client, pending_payout):
    response = api_client.patch(
        detail_url(pending_payout.id),
        {"amount": "75.50", "currency": "GBP", "description": "Corrected"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["currency"], body["description"]) == ("75.50", "GBP", "Corrected")
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "75.50"
    assert pending_payout.currency == "GBP"


def test_patch_replaces_recipient_details(api_client, pending_payout):
    response = api_client.patch(
        detail_url(pending_payout.id),
        {"recipient_details": {"account_number": "GB29NWBK60161331926819"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["recipient_details"] == {"account_number": "GB29NWBK60161331926819"}


def test_patch_with_empty_body_changes_nothing(api_client, pending_payout):
    response = api_client.patch(detail_url(pending_payout.id), {}, format="json")

    assert response.status_code == 200
    assert response.json()["amount"] == "100.00"
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created"]


def test_patch_records_what_changed_in_the_history(api_client, pending_payout):
    api_client.patch(
        detail_url(pending_payout.id),
        {"amount": "75.50", "description": "Contractor payment - March"},
        format="json",
    )

    event = pending_payout.events.last()
    assert (event.kind, event.from_status, event.to_status) == ("updated", "PENDING", "PENDING")
    # The description sent is the one it had: only the amount changed.
    assert event.changes == {"amount": {"from": "100.00", "to": "75.50"}}


def test_patch_history_never_shows_an_account_number_in_clear(api_client, pending_payout):
    api_client.patch(
        detail_url(pending_payout.id),
        {"recipient_details": {"account_number": "GB29NWBK60161331926819", "bank_name": "DB"}},
        format="json",
    )

    event = pending_payout.events.last()
    assert event.changes == {
        "recipient_details": {
            "from": {"account_number": "••••3000", "bank_name": "••••"},
            "to": {"account_number": "••••6819", "bank_name": "••••"},
        }
    }
    assert "GB29NWBK" not in str(event.changes)
    assert "DE8937" not in str(event.changes)


@pytest.mark.parametrize(
    "status", [PayoutStatus.PROCESSING, PayoutStatus.COMPLETED, PayoutStatus.FAILED]
)
def test_patch_after_processing_started_is_forbidden(api_client, make_payout, status):
    payout = make_payout(status=status)

    response = api_client.patch(detail_url(payout.id), {"amount": "1.00"}, format="json")

    assert response.status_code == 403
    assert response.json() == api_error("not_editable", "Only PENDING payouts can be updated.")
    payout.refresh_from_db()
    assert str(payout.amount) == "250.00"


def test_patch_with_invalid_amount_is_400_and_keeps_the_row(api_client, pending_payout):
    response = api_client.patch(detail_url(pending_payout.id), {"amount": "-1"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"amount": [errors.MSG_AMOUNT_NOT_POSITIVE]}
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"


def test_patch_status_is_400_naming_the_field(api_client, pending_payout):
    response = api_client.patch(
        detail_url(pending_payout.id), {"status": "COMPLETED"}, format="json"
    )

    assert response.status_code == 400
    assert field_errors(response) == {"status": ["This field is read-only."]}
    pending_payout.refresh_from_db()
    assert pending_payout.status == PayoutStatus.PENDING


def test_patch_unknown_field_is_400_naming_it(api_client, pending_payout):
    response = api_client.patch(detail_url(pending_payout.id), {"currncy": "USD"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"currncy": ["Unknown field."]}


def test_patch_unknown_payout_is_404(api_client, db):
    response = api_client.patch(detail_url(uuid.uuid4()), {"amount": "1.00"}, format="json")

    assert response.status_code == 404
    assert response.json() == api_error("not_found", errors.MSG_NOT_FOUND)


def test_put_is_not_allowed(api_client, pending_payout):
    response = api_client.put(detail_url(pending_payout.id), {"amount": "1.00"}, format="json")

    assert response.status_code == 405


def test_delete_pending_payout_is_204_then_404(api_client, pending_payout):
    response = api_client.delete(detail_url(pending_payout.id))

    assert response.status_code == 204
    for method in (api_client.get, api_client.patch, api_client.delete):
        gone = method(detail_url(pending_payout.id))
        not_found = api_error("not_found", errors.MSG_NOT_FOUND)
        assert (gone.status_code, gone.json()) == (404, not_found)
    assert api_client.get("/api/payouts/").json()["count"] == 0


def test_a_deleted_payout_stays_as_a_tombstone_with_its_history(api_client, pending_payout):
    api_client.delete(detail_url(pending_payout.id))

    tombstone = Payout.objects.get(pk=pending_payout.id)
    assert tombstone.deleted_at is not None
    assert list(tombstone.events.values_list("kind", "from_status", "to_status")) == [
        ("created", "", "PENDING"),
        ("deleted", "PENDING", "PENDING"),
    ]


@pytest.mark.parametrize(
    "status", [PayoutStatus.PROCESSING, PayoutStatus.COMPLETED, PayoutStatus.FAILED]
)
def test_delete_after_processing_started_is_forbidden(api_client, make_payout, status):
    payout = make_payout(status=status)

    response = api_client.delete(detail_url(payout.id))

    assert response.status_code == 403
    assert response.json() == api_error("not_deletable", "Only PENDING payouts can be deleted.")
    assert Payout.objects.filter(pk=payout.id).exists()


@pytest.mark.parametrize("payout_id", [uuid.uuid4(), "not-a-uuid"])
def test_delete_unknown_or_malformed_id_is_404(api_client, db, payout_id):
    response = api_client.delete(detail_url(payout_id))

    assert response.status_code == 404
