"""The Django admin: browse and search payouts; edits go through the services."""

from __future__ import annotations

from payouts.models import Payout, PayoutStatus


def change_form(**fields: str) -> dict[str, str]:
    """The POST body of the payout change page, with no history inline rows."""
    return {
        "amount": "100.00",
        "currency": "EUR",
        "recipient_details": '{"account_number": "X1"}',
        "description": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        **fields,
    }


def test_changelist_filters_by_status_and_currency(admin_client, make_payout):
    make_payout(status=PayoutStatus.COMPLETED, currency="USD")
    make_payout(currency="EUR")

    response = admin_client.get(
        "/admin/payouts/payout/", {"status__exact": "COMPLETED", "currency__exact": "USD"}
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_changelist_searches_by_account_number(admin_client, make_payout):
    wanted = make_payout(recipient_details={"account_number": "GB29NWBK60161331926819"})
    make_payout()

    response = admin_client.get("/admin/payouts/payout/", {"q": "NWBK6016"})

    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


def test_changelist_searches_by_id(admin_client, make_payout):
    wanted = make_payout()
    make_payout()

    response = admin_client.get("/admin/payouts/payout/", {"q": str(wanted.pk)})

    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


def test_status_and_timestamps_are_read_only(admin_client, pending_payout):
    response = admin_client.get(f"/admin/payouts/payout/{pending_payout.pk}/change/")

    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == {"amount", "currency", "recipient_details", "description"}
    readonly = set(response.context["adminform"].readonly_fields)
    assert {"status", "created_at", "updated_at", "failure_reason"} <= readonly


def test_admin_edit_is_validated_by_the_domain(admin_client, pending_payout):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/change/",
        change_form(amount="-5"),
    )

    assert response.status_code == 200
    assert "Amount must be greater than 0." in str(response.context["adminform"].form.errors)
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"


def test_admin_cannot_edit_a_payout_in_flight(admin_client, make_payout):
    payout = make_payout(status=PayoutStatus.PROCESSING)

    response = admin_client.post(
        f"/admin/payouts/payout/{payout.pk}/change/",
        change_form(amount="1.00"),
    )

    assert response.status_code == 200
    assert "Only PENDING payouts can be updated." in str(response.context["adminform"].form.errors)
    assert str(Payout.objects.get(pk=payout.pk).amount) == "250.00"


def test_payout_history_is_shown_read_only(admin_client, pending_payout):
    response = admin_client.get(f"/admin/payouts/payout/{pending_payout.pk}/change/")

    inline = response.context["inline_admin_formsets"][0]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is False
    assert b"PENDING" in response.content
