"""POST /api/payouts/: creation, validation and enqueueing."""

from __future__ import annotations

import json

import pytest

from payouts import errors
from payouts.models import Payout, PayoutEvent
from tests.conftest import api_error, field_codes, field_errors, payout_payload

URL = "/api/payouts/"


def post(api_client, body, **kwargs):
    return api_client.post(URL, body, format="json", **kwargs)


def test_create_returns_201_with_full_pending_representation(api_client, db):
    response = post(api_client, payout_payload())

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "amount",
        "currency",
        "recipient_details",
        "status",
        "description",
        "reference",
        "metadata",
        "failure_code",
        "failure_reason",
        "provider_reference",
        "created_at",
        "updated_at",
    }
    assert body["amount"] == "250.00"
    assert body["currency"] == "EUR"
    assert body["status"] == "PENDING"
    assert body["failure_reason"] == ""
    assert body["recipient_details"] == {
        "account_number": "DE89370400440532013000",
        "bank_name": "DB",
    }
    assert Payout.objects.get(pk=body["id"]).status == "PENDING"


def test_create_normalises_amount_to_two_places(api_client, db):
    response = post(api_client, payout_payload(amount=100))

    assert response.status_code == 201
    assert response.json()["amount"] == "100.00"


def test_create_without_description_stores_empty_text(api_client, db):
    body = payout_payload()
    del body["description"]

    response = post(api_client, body)

    assert response.status_code == 201
    assert response.json()["description"] == ""


def test_create_records_the_initial_pending_event(api_client, db):
    payout_id = post(api_client, payout_payload()).json()["id"]

    events = list(
        PayoutEvent.objects.filter(payout_id=payout_id).values_list("to_status", flat=True)
    )
    assert events == ["PENDING"]


def test_create_enqueues_processing_only_after_commit(
    api_client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(api_client, payout_payload())

    assert response.status_code == 201
    assert len(callbacks) == 2  # processing enqueued, payout.created announced
    assert Payout.objects.get(pk=response.json()["id"]).status == "PENDING"


def test_created_payout_is_processed_to_completed_once_committed(
    api_client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payout_id = post(api_client, payout_payload()).json()["id"]

    assert api_client.get(f"{URL}{payout_id}/").json()["status"] == "COMPLETED"


def test_create_answers_201_when_the_queue_is_unreachable(
    api_client, db, django_capture_on_commit_callbacks, monkeypatch
):
    from payouts import tasks

    def queue_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(tasks, "enqueue_processing", queue_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client, payout_payload())

    assert response.status_code == 201
    assert Payout.objects.get(pk=response.json()["id"]).status == "PENDING"


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        ("amount", "0", "min_value", errors.MSG_AMOUNT_NOT_POSITIVE),
        ("amount", "-5.00", "min_value", errors.MSG_AMOUNT_NOT_POSITIVE),
        ("amount", "1000000.01", "max_value", "Amount must be less than or equal to 1000000.00."),
        ("amount", "10.123", "max_decimal_places", errors.MSG_AMOUNT_TOO_MANY_DECIMALS),
        ("amount", "NaN", "not_finite", errors.MSG_AMOUNT_NOT_FINITE),
        ("amount", "Infinity", "not_finite", errors.MSG_AMOUNT_NOT_FINITE),
        ("amount", "-Infinity", "not_finite", errors.MSG_AMOUNT_NOT_FINITE),
        ("amount", "ten", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", True, "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", [1], "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", None, "null", errors.MSG_NULL),
        ("amount", "10_000", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "+10", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", " 10", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "10 ", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "1e3", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "10.", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", ".5", "invalid", errors.MSG_AMOUNT_INVALID),
        ("amount", "\uff11\uff10", "invalid", errors.MSG_AMOUNT_INVALID),  # fullwidth "10"
        ("amount", "\u0661\u0660", "invalid", errors.MSG_AMOUNT_INVALID),  # Arabic-Indic "10"
        (
            "currency",
            "usd",
            "invalid_choice",
            'Unsupported currency "usd". Use one of: USD, EUR, GBP, RUB.',
        ),
        (
            "currency",
            "JPY",
            "invalid_choice",
            'Unsupported currency "JPY". Use one of: USD, EUR, GBP, RUB.',
        ),
        ("currency", 840, "invalid", errors.MSG_CURRENCY_NOT_TEXT),
        ("currency", None, "null", errors.MSG_NULL),
        ("recipient_details", "DE89", "not_an_object", errors.MSG_RECIPIENT_NOT_OBJECT),
        ("recipient_details", ["DE89"], "not_an_object", errors.MSG_RECIPIENT_NOT_OBJECT),
        ("recipient_details", [], "not_an_object", errors.MSG_RECIPIENT_NOT_OBJECT),
        ("recipient_details", "", "not_an_object", errors.MSG_RECIPIENT_NOT_OBJECT),
        ("recipient_details", 1.5, "not_an_object", errors.MSG_RECIPIENT_NOT_OBJECT),
        ("recipient_details", None, "null", errors.MSG_NULL),
        ("recipient_details", {}, "account_number_required", errors.MSG_ACCOUNT_NUMBER_MISSING),
        (
            "recipient_details",
            {"account_number": ""},
            "account_number_required",
            errors.MSG_ACCOUNT_NUMBER_MISSING,
        ),
        (
            "recipient_details",
            {"account_number": "   "},
            "account_number_required",
            errors.MSG_ACCOUNT_NUMBER_MISSING,
        ),
        (
            "recipient_details",
            {"account_number": 12345},
            "account_number_required",
            errors.MSG_ACCOUNT_NUMBER_MISSING,
        ),
        ("description", 42, "invalid", errors.MSG_DESCRIPTION_INVALID),
        ("description", None, "null", errors.MSG_NULL),
        ("description", "x" * 1001, "max_length", "Description must be at most 1000 characters."),
        ("description", "nul\x00byte", "invalid_text", errors.MSG_INVALID_TEXT),
    ],
)
def test_create_with_invalid_field_is_400_and_writes_nothing(
    api_client, db, django_capture_on_commit_callbacks, field, value, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(api_client, payout_payload(**{field: value}))

    assert response.status_code == 400
    assert field_errors(response) == {field: [message]}
    assert field_codes(response) == {field: [code]}
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize("missing", ["amount", "currency", "recipient_details"])
def test_create_without_required_field_is_400(api_client, db, missing):
    body = payout_payload()
    del body[missing]

    response = post(api_client, body)

    assert response.status_code == 400
    assert field_errors(response) == {missing: ["This field is required."]}
    assert Payout.objects.count() == 0


def test_create_with_too_many_digits_names_the_digits_rule(api_client, db):
    response = post(api_client, payout_payload(amount="12345678901234"))

    assert field_errors(response) == {"amount": [errors.MSG_AMOUNT_TOO_MANY_DIGITS]}
    assert field_codes(response) == {"amount": ["max_digits"]}


def test_create_reports_every_invalid_field_at_once(api_client, db):
    response = post(api_client, payout_payload(amount="0", currency="XXX"))

    assert response.status_code == 400
    assert set(field_errors(response)) == {"amount", "currency"}


def test_create_respects_a_configured_maximum(api_client, db, settings):
    from decimal import Decimal

    settings.PAYOUT_MAX_AMOUNT = Decimal("500.00")

    response = post(api_client, payout_payload(amount="500.01"))

    assert response.status_code == 400
    assert field_errors(response) == {"amount": ["Amount must be less than or equal to 500.00."]}


@pytest.mark.parametrize("field", ["status", "id", "created_at", "updated_at", "failure_reason"])
def test_create_with_read_only_field_is_400_naming_it(api_client, db, field):
    response = post(api_client, payout_payload(**{field: "COMPLETED"}))

    assert response.status_code == 400
    assert field_errors(response) == {field: ["This field is read-only."]}
    assert Payout.objects.count() == 0


def test_create_with_unknown_field_is_400_naming_it(api_client, db):
    response = post(api_client, payout_payload(ammount="5.00"))

    assert response.status_code == 400
    assert field_errors(response) == {"ammount": ["Unknown field."]}
    assert Payout.objects.count() == 0


@pytest.mark.parametrize("body", [[], ["amount"], "text", 42, None])
def test_create_with_a_body_that_is_not_an_object_is_400(api_client, db, body):
    response = api_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert field_errors(response) == {None: [errors.MSG_NOT_AN_OBJECT_BODY]}
    assert field_codes(response) == {None: ["not_an_object"]}
    assert Payout.objects.count() == 0


def test_create_with_malformed_json_is_400(api_client, db):
    response = api_client.post(URL, data='{"amount": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == api_error(
        "parse_error", "Malformed JSON: Expecting value at line 1 column 12."
    )
    assert Payout.objects.count() == 0


def test_create_with_nan_literal_in_json_is_400(api_client, db):
    body = '{"amount": NaN, "currency": "USD", "recipient_details": {"account_number": "1"}}'

    response = api_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert Payout.objects.count() == 0


def test_create_with_form_encoding_is_415(api_client, db):
    response = api_client.post(URL, data={"amount": "1.00"})

    assert response.status_code == 415
    assert Payout.objects.count() == 0
