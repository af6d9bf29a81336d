"""POST and PATCH /api/payouts/ with bodies strict JSON or the payout rules refuse, end to end."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import pytest

from payouts import errors, strict_json
from payouts.errors import MSG_TOO_LARGE
from payouts.models import Payout
from payouts.validation import RECIPIENT_DETAILS_MAX_DEPTH
from payouts.validators import RECIPIENT_DETAILS_MAX_BYTES
from tests.conftest import api_error, field_codes, field_errors, payout_payload

URL = "/api/payouts/"
UPLOAD_LIMIT = 256 * 1024
TOO_DEEP = api_error("max_depth", errors.MSG_JSON_TOO_DEEP.format(limit=strict_json.MAX_DEPTH))
INVALID_TEXT = api_error("invalid_text", errors.MSG_JSON_INVALID_TEXT)
TOO_LARGE = api_error("payload_too_large", MSG_TOO_LARGE)


@pytest.fixture
def post_json(api_client, db, django_capture_on_commit_callbacks):
    """POST a body exactly as written; returns the response and the on-commit callbacks queued."""

    def post(body: str | bytes) -> tuple[Any, list[Any]]:
        with django_capture_on_commit_callbacks() as callbacks:
            response = api_client.post(URL, data=body, content_type="application/json")
        return response, callbacks

    return post


def nested_details(levels: int) -> dict[str, Any]:
    """recipient_details that is `levels` objects deep, itself the first."""
    details: dict[str, Any] = {"account_number": "DE89370400440532013000"}
    innermost = details
    for _ in range(levels - 1):
        innermost["a"] = {}
        innermost = innermost["a"]
    return details


def with_amount(literal: str) -> str:
    """A valid payout body whose amount is the JSON text `literal`, as written."""
    payload = payout_payload()
    del payload["amount"]
    return '{"amount": ' + literal + ", " + json.dumps(payload)[1:]


# Nesting


def test_recipient_details_nested_320_levels_is_400_max_depth_from_the_body_limit(post_json):
    body = json.dumps(payout_payload(recipient_details=nested_details(320)))
    assert len(body) < RECIPIENT_DETAILS_MAX_BYTES

    response, callbacks = post_json(body)

    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("closed", [False, True], ids=["unclosed", "closed"])
def test_a_body_nested_far_past_the_limit_is_400_max_depth_not_500(post_json, depth, closed):
    body = "[" * depth + ("]" * depth if closed else "")

    response, callbacks = post_json(body)

    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_recipient_details_one_level_too_deep_is_400_naming_the_field(post_json):
    details = nested_details(RECIPIENT_DETAILS_MAX_DEPTH + 1)

    response, callbacks = post_json(json.dumps(payout_payload(recipient_details=details)))

    assert response.status_code == 400
    assert field_errors(response) == {
        "recipient_details": [errors.MSG_RECIPIENT_TOO_DEEP % {"limit": 8}]
    }
    assert field_codes(response) == {"recipient_details": ["max_depth"]}
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_recipient_details_at_the_depth_limit_is_created_as_sent(post_json):
    details = nested_details(RECIPIENT_DETAILS_MAX_DEPTH)

    response, callbacks = post_json(json.dumps(payout_payload(recipient_details=details)))

    assert response.status_code == 201
    assert response.json()["recipient_details"] == details
    assert Payout.objects.get().recipient_details == details
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


# Text


@pytest.mark.parametrize(
    "payload",
    [
        payout_payload(description="\ud800"),
        payout_payload(recipient_details={"account_number": "\udc00"}),
        payout_payload(recipient_details={"account_number": "DE89", "\ud83d": "x"}),
    ],
    ids=["description", "recipient-details-value", "recipient-details-key"],
)
def test_a_lone_surrogate_escape_is_400_invalid_text(post_json, payload):
    # json.dumps writes a lone surrogate as its escape, e.g. the six characters \ud800.
    body = json.dumps(payload)
    assert "\\ud" in body

    response, callbacks = post_json(body)

    assert response.status_code == 400
    assert response.json() == INVALID_TEXT
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_an_escaped_surrogate_pair_is_stored_as_the_character(post_json):
    body = json.dumps(payout_payload(description="Thanks \N{GRINNING FACE}"))
    assert "\\ud83d\\ude00" in body

    response, callbacks = post_json(body)

    assert response.status_code == 201
    assert response.json()["description"] == "Thanks 😀"
    assert Payout.objects.get().description == "Thanks 😀"
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


# Duplicate keys


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (with_amount('"10.00", "amount": "20.00"'), "amount"),
        (
            json.dumps(payout_payload(recipient_details={"account_number": "DE89"})).replace(
                '"account_number": "DE89"', '"account_number": "DE89", "account_number": "GB29"'
            ),
            "account_number",
        ),
    ],
    ids=["top-level", "in-recipient-details"],
)
def test_a_duplicate_key_is_400_naming_the_key(post_json, body, key):
    response, callbacks = post_json(body)

    assert response.status_code == 400
    assert response.json() == api_error(
        "duplicate_key", errors.MSG_JSON_DUPLICATE_KEY.format(key=key)
    )
    assert Payout.objects.count() == 0
    assert callbacks == []


# Numbers and encoding


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_literal_is_400_parse_error(post_json, constant):
    response, callbacks = post_json(with_amount(constant))

    assert response.status_code == 400
    assert response.json() == api_error(
        "parse_error", errors.MSG_JSON_CONSTANT.format(constant=constant)
    )
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_a_body_that_is_not_utf8_is_400_parse_error(post_json):
    body = json.dumps(payout_payload(description="Café"), ensure_ascii=False).encode("latin-1")
    assert b"Caf\xe9" in body

    response, callbacks = post_json(body)

    assert response.status_code == 400
    assert response.json() == api_error("parse_error", errors.MSG_JSON_NOT_UTF8)
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.skipif(sys.get_int_max_str_digits() == 0, reason="int() has no digit limit here")
def test_an_integer_too_long_to_read_is_400_parse_error_not_500(post_json):
    limit = sys.get_int_max_str_digits()

    response, callbacks = post_json(with_amount("1" * (limit + 1)))

    assert response.status_code == 400
    assert response.json() == api_error(
        "parse_error", errors.MSG_JSON_INTEGER_TOO_LONG.format(limit=limit)
    )
    assert Payout.objects.count() == 0
    assert callbacks == []


# Size


def test_more_values_than_allowed_is_400_max_size(post_json):
    details = {"account_number": "DE89", "list": [0] * strict_json.MAX_VALUES}

    response, callbacks = post_json(json.dumps(payout_payload(recipient_details=details)))

    assert response.status_code == 400
    assert response.json() == api_error(
        "max_size", errors.MSG_JSON_TOO_MANY_VALUES.format(limit=strict_json.MAX_VALUES)
    )
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_a_body_of_exactly_the_upload_limit_is_read(post_json, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == UPLOAD_LIMIT
    body = json.dumps(payout_payload())
    body += " " * (UPLOAD_LIMIT - len(body))

    response, callbacks = post_json(body)

    assert response.status_code == 201
    assert Payout.objects.count() == 1
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


def test_a_body_one_byte_over_the_upload_limit_is_413(post_json):
    body = json.dumps(payout_payload())
    body += " " * (UPLOAD_LIMIT + 1 - len(body))

    response, callbacks = post_json(body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == TOO_LARGE
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_a_large_patch_is_413_and_changes_nothing(api_client, pending_payout):
    body = json.dumps({"description": "x" * UPLOAD_LIMIT})

    response = api_client.patch(
        f"{URL}{pending_payout.id}/", data=body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    pending_payout.refresh_from_db()
    assert pending_payout.description == "Contractor payment - March"
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created"]


# Amounts


@pytest.mark.parametrize(
    ("sent", "stored"), [("10", "10.00"), ("10.5", "10.50"), ("10.50", "10.50")]
)
def test_a_canonical_amount_string_is_stored_to_the_cent(post_json, sent, stored):
    response, callbacks = post_json(json.dumps(payout_payload(amount=sent)))

    assert response.status_code == 201
    assert response.json()["amount"] == stored
    assert Payout.objects.get().amount == Decimal(stored)
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


@pytest.mark.parametrize(
    ("literal", "stored"),
    [("10", "10.00"), ("10.5", "10.50"), ("10.25", "10.25"), ("1e2", "100.00")],
)
def test_an_exact_json_number_amount_is_stored_to_the_cent(post_json, literal, stored):
    response, callbacks = post_json(with_amount(literal))

    assert response.status_code == 201
    assert response.json()["amount"] == stored
    assert Payout.objects.get().amount == Decimal(stored)
    assert len(callbacks) == 2  # processing enqueued, payout.created announced


def test_a_json_number_amount_with_three_places_is_400_not_rounded(post_json):
    response, callbacks = post_json(with_amount("10.005"))

    assert response.status_code == 400
    assert field_errors(response) == {"amount": [errors.MSG_AMOUNT_TOO_MANY_DECIMALS]}
    assert field_codes(response) == {"amount": ["max_decimal_places"]}
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize("literal", ["-5", "-5.00", "-0.001", "-1234567890123", "-1e20"])
def test_a_negative_json_number_amount_is_400_not_positive_as_its_text_is(post_json, literal):
    response, callbacks = post_json(with_amount(literal))

    assert response.status_code == 400
    assert field_errors(response) == {"amount": [errors.MSG_AMOUNT_NOT_POSITIVE]}
    assert field_codes(response) == {"amount": ["min_value"]}
    assert Payout.objects.count() == 0
    assert callbacks == []


# PATCH


def test_patch_with_null_description_is_400_and_changes_nothing(api_client, pending_payout):
    response = api_client.patch(f"{URL}{pending_payout.id}/", {"description": None}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"description": [errors.MSG_NULL]}
    assert field_codes(response) == {"description": ["null"]}
    pending_payout.refresh_from_db()
    assert pending_payout.description == "Contractor payment - March"
    assert list(pending_payout.events.values_list("kind", flat=True)) == ["created"]
