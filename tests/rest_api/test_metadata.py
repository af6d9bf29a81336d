"""A payout's metadata over REST: the client's own string-to-string map, returned as sent,
replaced whole by a PATCH."""

from __future__ import annotations

import pytest

from payouts import errors
from payouts.models import Payout
from tests.conftest import field_codes, field_errors, payout_payload

URL = "/api/payouts/"
METADATA = {"order_id": "A-1042", "team": "payroll"}


def create(api_client, **fields):
    return api_client.post(URL, payout_payload(**fields), format="json")


def patch(api_client, payout: Payout, body: dict):
    return api_client.patch(f"{URL}{payout.id}/", body, format="json")


def test_create_with_metadata_returns_it_as_sent(api_client, db):
    response = create(api_client, metadata=METADATA)

    assert response.status_code == 201
    assert response.json()["metadata"] == METADATA
    assert api_client.get(f"{URL}{response.json()['id']}/").json()["metadata"] == METADATA


def test_a_payout_created_without_metadata_has_an_empty_object(api_client, db):
    response = create(api_client)

    assert response.status_code == 201
    assert response.json()["metadata"] == {}
    assert Payout.objects.get().metadata == {}


def test_metadata_at_every_limit_is_accepted(api_client, db):
    metadata = {f"{index:02d}".ljust(40, "k"): "v" * 500 for index in range(20)}

    response = create(api_client, metadata=metadata)

    assert response.status_code == 201
    assert Payout.objects.get().metadata == metadata


def test_metadata_keeps_any_storable_text_newlines_included(api_client, db):
    metadata = {"note": "Zahlung für März\nZeile 2", "emoji": "💸"}

    response = create(api_client, metadata=metadata)

    assert response.status_code == 201
    assert response.json()["metadata"] == metadata


LONG_KEY = "k" * 41


@pytest.mark.parametrize(
    ("metadata", "code", "message"),
    [
        ("order A-1042", "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        (["A-1042"], "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        ([], "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        ("", "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        (42, "not_an_object", errors.MSG_METADATA_NOT_OBJECT),
        (None, "null", errors.MSG_NULL),
        (
            {f"key{index}": "v" for index in range(21)},
            "max_size",
            "Metadata must have at most 20 keys.",
        ),
        ({"": "v"}, "blank", errors.MSG_METADATA_KEY_BLANK),
        (
            {LONG_KEY: "v"},
            "max_length",
            f'Metadata key "{"k" * 40}…" must be at most 40 characters.',
        ),
        (
            {"note": "v" * 501},
            "max_length",
            'Metadata value of "note" must be at most 500 characters.',
        ),
        (
            {"order": {"id": "A-1042"}},
            "invalid",
            'Metadata value of "order" must be a string, not an object.',
        ),
        (
            {"lines": ["a", "b"]},
            "invalid",
            'Metadata value of "lines" must be a string, not an array.',
        ),
        ({"count": 3}, "invalid", 'Metadata value of "count" must be a string, not a number.'),
        ({"rate": 1.5}, "invalid", 'Metadata value of "rate" must be a string, not a number.'),
        ({"vip": True}, "invalid", 'Metadata value of "vip" must be a string, not a boolean.'),
        ({"team": None}, "invalid", 'Metadata value of "team" must be a string, not null.'),
        (
            {"note": "a\x00b"},
            "invalid_text",
            errors.MSG_METADATA_VALUE_INVALID_TEXT % {"key": "note"},
        ),
        ({"a\x00b": "v"}, "invalid_text", errors.MSG_METADATA_KEY_INVALID_TEXT),
    ],
    ids=repr,
)
def test_create_with_unacceptable_metadata_is_400_and_writes_nothing(
    api_client, db, django_capture_on_commit_callbacks, metadata, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(api_client, metadata=metadata)

    assert response.status_code == 400
    assert field_errors(response) == {"metadata": [message]}
    assert field_codes(response) == {"metadata": [code]}
    assert Payout.objects.count() == 0
    assert callbacks == []


def test_every_broken_metadata_entry_is_reported_at_once(api_client, db):
    response = create(api_client, metadata={"ok": "fine", "count": 3, "": "v", "note": "v" * 501})

    assert response.status_code == 400
    assert field_errors(response) == {
        "metadata": [
            'Metadata value of "count" must be a string, not a number.',
            errors.MSG_METADATA_KEY_BLANK,
            'Metadata value of "note" must be at most 500 characters.',
        ]
    }


def test_patch_metadata_replaces_the_whole_map(api_client, make_payout):
    payout = make_payout(metadata=METADATA)

    response = patch(api_client, payout, {"metadata": {"team": "treasury"}})

    assert response.status_code == 200
    assert response.json()["metadata"] == {"team": "treasury"}
    assert Payout.objects.get(pk=payout.id).metadata == {"team": "treasury"}


def test_patch_with_an_empty_object_clears_the_metadata(api_client, make_payout):
    payout = make_payout(metadata=METADATA)

    response = patch(api_client, payout, {"metadata": {}})

    assert response.status_code == 200
    assert response.json()["metadata"] == {}


def test_patch_without_metadata_keeps_it(api_client, make_payout):
    payout = make_payout(metadata=METADATA)

    response = patch(api_client, payout, {"description": "Corrected"})

    assert response.status_code == 200
    assert response.json()["metadata"] == METADATA


def test_patch_with_unacceptable_metadata_is_400_and_keeps_the_old(api_client, make_payout):
    payout = make_payout(metadata=METADATA)

    response = patch(api_client, payout, {"metadata": {"team": {"name": "treasury"}}})

    assert response.status_code == 400
    assert field_errors(response) == {
        "metadata": ['Metadata value of "team" must be a string, not an object.']
    }
    assert Payout.objects.get(pk=payout.id).metadata == METADATA


def test_patch_of_metadata_is_recorded_in_the_history(api_client, make_payout):
    payout = make_payout(metadata=METADATA)

    patch(api_client, payout, {"metadata": {"team": "treasury"}})

    assert payout.events.last().changes == {
        "metadata": {"from": METADATA, "to": {"team": "treasury"}}
    }
