"""The Django admin: browse and search payouts; edits go through the services."""

from __future__ import annotations

import pytest

from payouts import errors, services
from payouts.models import Payout, PayoutStatus
from payouts.strict_json import MAX_DEPTH


def change_form(**fields: str) -> dict[str, str]:
    """The POST body of the payout add and change pages."""
    return {
        "amount": "100.00",
        "currency": "EUR",
        "recipient_details": '{"account_number": "X1"}',
        "description": "",
        **fields,
    }


def add_form(owner, **fields: str) -> dict[str, str]:
    """The POST body of the payout add page: a staff user picks the client it is for."""
    return {"client": str(owner.client.pk), **change_form(**fields)}


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


def test_changelist_flags_the_payouts_whose_provider_outcome_is_unknown(admin_client, make_payout):
    flagged = make_payout(status=PayoutStatus.FAILED)
    Payout.objects.filter(pk=flagged.pk).update(failure_code="provider_unknown_outcome")
    make_payout(status=PayoutStatus.FAILED)
    make_payout()

    response = admin_client.get("/admin/payouts/payout/", {"outcome": "unknown"})

    assert [p.pk for p in response.context["cl"].result_list] == [flagged.pk]
    assert b"Unknown: check with the provider" in response.content


def test_changelist_searches_by_provider_reference(admin_client, make_payout):
    wanted = make_payout()
    services.payout_start_attempt(wanted.id, 1)
    services.payout_complete(wanted.id, 1, "pr_wanted_42")
    make_payout()

    response = admin_client.get("/admin/payouts/payout/", {"q": "pr_wanted_42"})

    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]


def test_status_reference_and_timestamps_are_read_only(admin_client, pending_payout):
    response = admin_client.get(f"/admin/payouts/payout/{pending_payout.pk}/change/")

    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == {"amount", "currency", "recipient_details", "description", "metadata"}
    readonly = set(response.context["adminform"].readonly_fields)
    assert {"reference", "status", "created_at", "updated_at", "failure_reason"} <= readonly


def test_admin_edit_is_validated_by_the_domain(admin_client, pending_payout):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/change/",
        change_form(amount="-5"),
    )

    assert response.status_code == 200
    assert "Amount must be greater than 0." in str(response.context["adminform"].form.errors)
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "100.00"


@pytest.mark.parametrize(
    "status", [PayoutStatus.PROCESSING, PayoutStatus.COMPLETED, PayoutStatus.FAILED]
)
def test_a_payout_that_left_pending_is_shown_read_only(admin_client, make_payout, status):
    payout = make_payout(status=status)

    response = admin_client.get(f"/admin/payouts/payout/{payout.pk}/change/")

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert b'name="_save"' not in response.content
    assert b"deletelink" not in response.content


def test_admin_cannot_edit_a_payout_in_flight(admin_client, make_payout):
    payout = make_payout(status=PayoutStatus.PROCESSING)

    response = admin_client.post(
        f"/admin/payouts/payout/{payout.pk}/change/", change_form(amount="1.00")
    )

    assert response.status_code == 403
    assert str(Payout.objects.get(pk=payout.pk).amount) == "250.00"


def test_admin_adds_a_payout_through_the_service(
    admin_client, owner, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/admin/payouts/payout/add/",
            add_form(owner, amount="12.50", description="From the console"),
        )

    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (str(payout.amount), payout.status, payout.description) == (
        "12.50",
        PayoutStatus.PENDING,
        "From the console",
    )
    assert list(payout.events.values_list("kind", flat=True)) == ["created"]
    assert len(callbacks) == 2  # processing is enqueued, payout.created announced on commit


def add_refused(admin_client, owner, django_capture_on_commit_callbacks, **fields: str):
    """POST the add page with `fields`; return the errors shown as {field: [(code, message)]},
    after checking that nothing was written or queued."""
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/admin/payouts/payout/add/", add_form(owner, **fields))

    assert response.status_code == 200
    assert Payout.objects.count() == 0
    assert callbacks == []
    shown = response.context["adminform"].form.errors.as_data()
    return {
        field: [(error.code, error.messages[0]) for error in found]
        for field, found in shown.items()
    }


@pytest.mark.parametrize("amount", ["1e3", "1_000", "+10", " 10", "10.", "\uff11\uff10"])
def test_admin_refuses_an_amount_the_apis_refuse(
    admin_client, owner, django_capture_on_commit_callbacks, amount
):
    shown = add_refused(admin_client, owner, django_capture_on_commit_callbacks, amount=amount)

    assert shown == {"amount": [("invalid", errors.MSG_AMOUNT_INVALID)]}


def test_admin_refuses_an_amount_with_three_places_as_the_apis_do(
    admin_client, owner, django_capture_on_commit_callbacks
):
    shown = add_refused(admin_client, owner, django_capture_on_commit_callbacks, amount="10.005")

    assert shown == {"amount": [("max_decimal_places", errors.MSG_AMOUNT_TOO_MANY_DECIMALS)]}


@pytest.mark.parametrize(
    ("recipient_details", "code", "message"),
    [
        (
            '{"a": ' * 5_000 + "1" + "}" * 5_000,
            "max_depth",
            errors.MSG_JSON_TOO_DEEP.format(limit=MAX_DEPTH),
        ),
        (
            '{"account_number": "X1", "account_number": "X2"}',
            "duplicate_key",
            errors.MSG_JSON_DUPLICATE_KEY.format(key="account_number"),
        ),
        ('{"account_number": "\\ud800"}', "invalid_text", errors.MSG_JSON_INVALID_TEXT),
        (
            '{"account_number": "X1", "fee": NaN}',
            "parse_error",
            errors.MSG_JSON_CONSTANT.format(constant="NaN"),
        ),
    ],
    ids=["deep", "duplicate-key", "lone-surrogate", "nan"],
)
def test_admin_refuses_recipient_details_the_apis_refuse(
    admin_client, owner, django_capture_on_commit_callbacks, recipient_details, code, message
):
    shown = add_refused(
        admin_client, owner, django_capture_on_commit_callbacks, recipient_details=recipient_details
    )

    assert shown == {"recipient_details": [(code, message)]}


def test_admin_adds_recipient_details_with_a_fraction_as_a_number(admin_client, owner, db):
    response = admin_client.post(
        "/admin/payouts/payout/add/",
        add_form(owner, recipient_details='{"account_number": "X1", "fee": 1.5}'),
    )

    assert response.status_code == 302
    assert Payout.objects.get().recipient_details == {"account_number": "X1", "fee": 1.5}


def test_a_refused_form_shows_the_recipient_details_as_typed_back(
    admin_client, owner, db, django_capture_on_commit_callbacks
):
    deep = "[" * 5_000 + "]" * 5_000
    response = admin_client.post(
        "/admin/payouts/payout/add/", add_form(owner, amount="1e3", recipient_details=deep)
    )

    assert response.status_code == 200
    assert deep.encode() in response.content


def test_admin_changes_a_pending_payout_through_the_service(admin_client, pending_payout):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/change/",
        change_form(
            amount="42.00",
            recipient_details='{"account_number": "DE89370400440532013000", "bank_name": "DB"}',
            description="Contractor payment - March",
        ),
    )

    assert response.status_code == 302
    pending_payout.refresh_from_db()
    assert str(pending_payout.amount) == "42.00"
    assert pending_payout.events.last().changes == {"amount": {"from": "100.00", "to": "42.00"}}


def test_admin_deletes_a_pending_payout_as_a_tombstone(admin_client, pending_payout):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    payout = Payout.objects.get(pk=pending_payout.pk)
    assert payout.deleted_at is not None
    assert list(payout.events.values_list("kind", flat=True)) == ["created", "deleted"]


def test_admin_cannot_delete_a_payout_in_flight(admin_client, make_payout):
    payout = make_payout(status=PayoutStatus.PROCESSING)

    response = admin_client.post(f"/admin/payouts/payout/{payout.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Payout.objects.get(pk=payout.pk).deleted_at is None


@pytest.fixture
def picked_up_meanwhile(monkeypatch):
    """A worker claims the payout after the admin checked it and before the service writes."""

    def claim_first(write):
        def racing(caller, payout_id, *args):
            services.payout_start_attempt(payout_id, attempt=1)
            return write(caller, payout_id, *args)

        return racing

    monkeypatch.setattr(services, "payout_update", claim_first(services.payout_update))
    monkeypatch.setattr(services, "payout_delete", claim_first(services.payout_delete))


def test_an_edit_racing_a_worker_is_refused_on_the_form(
    admin_client, pending_payout, picked_up_meanwhile
):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/change/", change_form(amount="1.00")
    )

    assert response.status_code == 200
    assert "Only PENDING payouts can be updated." in str(response.context["adminform"].form.errors)
    assert str(Payout.objects.get(pk=pending_payout.pk).amount) == "100.00"


def test_a_delete_racing_a_worker_is_refused(admin_client, pending_payout, picked_up_meanwhile):
    response = admin_client.post(
        f"/admin/payouts/payout/{pending_payout.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert Payout.objects.get(pk=pending_payout.pk).deleted_at is None


def shown_history(response) -> str:
    """The History field of a payout change page, as rendered."""
    for fieldset in response.context["adminform"]:
        for line in fieldset:
            for field in line:
                if field.is_readonly and field.field["name"] == "history":
                    return str(field.contents())
    raise AssertionError("no History field on the page")


def test_payout_history_is_shown_with_account_numbers_masked(owner, admin_client, pending_payout):
    services.payout_update(
        owner.caller,
        pending_payout.pk,
        {"recipient_details": {"account_number": "GB29NWBK60161331926819"}},
    )

    response = admin_client.get(f"/admin/payouts/payout/{pending_payout.pk}/change/")

    history = shown_history(response)
    assert "Created" in history
    assert "Updated" in history
    assert "••••6819" in history
    assert "GB29NWBK60161331926819" not in history


def test_changelist_shows_and_searches_by_reference(admin_client, make_payout):
    wanted = make_payout(reference="INV-2025-0042")
    make_payout(reference="INV-2024-0001")
    make_payout()

    response = admin_client.get("/admin/payouts/payout/", {"q": "2025-00"})

    assert [p.pk for p in response.context["cl"].result_list] == [wanted.pk]
    assert b"INV-2025-0042" in response.content


def test_change_page_shows_reference_and_metadata(admin_client, make_payout):
    payout = make_payout(reference="INV-2025-0042", metadata={"order_id": "A-1042"})

    response = admin_client.get(f"/admin/payouts/payout/{payout.pk}/change/")

    assert b"INV-2025-0042" in response.content
    assert b"A-1042" in response.content


def test_admin_adds_a_payout_with_a_reference_and_metadata(admin_client, owner, db):
    response = admin_client.post(
        "/admin/payouts/payout/add/",
        add_form(owner, reference="INV-1", metadata='{"order_id": "A-1042"}'),
    )

    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.reference, payout.metadata) == ("INV-1", {"order_id": "A-1042"})


def test_admin_adds_a_payout_left_without_reference_or_metadata_with_none(admin_client, owner, db):
    response = admin_client.post(
        "/admin/payouts/payout/add/", add_form(owner, reference="", metadata="")
    )

    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.reference, payout.metadata) == (None, {})


def test_admin_refuses_a_reference_the_client_holds_on_its_field(
    admin_client, owner, make_payout, django_capture_on_commit_callbacks
):
    holder = make_payout(reference="INV-1")

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/admin/payouts/payout/add/", add_form(owner, reference="INV-1")
        )

    assert response.status_code == 200
    shown = response.context["adminform"].form.errors.as_data()
    assert [(error.code, error.messages[0]) for error in shown["reference"]] == [
        (
            "reference_in_use",
            errors.MSG_REFERENCE_IN_USE.format(reference="INV-1", payout_id=holder.id),
        )
    ]
    assert Payout.objects.count() == 1
    assert callbacks == []


@pytest.mark.parametrize(
    ("fields", "field", "code", "message"),
    [
        (
            {"reference": "INV\t1"},
            "reference",
            "invalid_text",
            errors.MSG_REFERENCE_CONTROL_CHARACTER,
        ),
        (
            {"reference": "R" * 65},
            "reference",
            "max_length",
            "Reference must be at most 64 characters.",
        ),
        (
            {"metadata": '{"order": {"id": "A"}}'},
            "metadata",
            "invalid",
            'Metadata value of "order" must be a string, not an object.',
        ),
        (
            {"metadata": '{"rate": 1.5}'},
            "metadata",
            "invalid",
            'Metadata value of "rate" must be a string, not a number.',
        ),
        ({"metadata": '["A-1042"]'}, "metadata", "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        (
            {"metadata": '{"a": "1", "a": "2"}'},
            "metadata",
            "duplicate_key",
            errors.MSG_JSON_DUPLICATE_KEY.format(key="a"),
        ),
    ],
    ids=["control-character", "long-reference", "nested", "number", "list", "duplicate-key"],
)
def test_admin_refuses_a_reference_or_metadata_the_apis_refuse(
    admin_client, owner, django_capture_on_commit_callbacks, fields, field, code, message
):
    shown = add_refused(admin_client, owner, django_capture_on_commit_callbacks, **fields)

    assert shown == {field: [(code, message)]}


def test_a_refused_form_shows_the_metadata_as_typed_back(admin_client, owner, db):
    typed = '{"rate": 1.5, "note": "kept"}'

    response = admin_client.post("/admin/payouts/payout/add/", add_form(owner, metadata=typed))

    assert response.status_code == 200
    assert b"1.5" in response.content
    assert b"kept" in response.content


def test_admin_edit_replaces_the_metadata(admin_client, make_payout):
    payout = make_payout(amount="100.00", metadata={"order_id": "A-1042"})

    response = admin_client.post(
        f"/admin/payouts/payout/{payout.pk}/change/",
        change_form(metadata='{"team": "payroll"}'),
    )

    assert response.status_code == 302
    assert Payout.objects.get(pk=payout.pk).metadata == {"team": "payroll"}
