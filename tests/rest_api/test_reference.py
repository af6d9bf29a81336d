"""A payout's reference over REST: the client's own id for it, set on create, unique among the
client's live payouts (409 naming the payout that holds it), filterable, never changed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from payouts import errors, services
from payouts.models import Payout, PayoutStatus
from tests.conftest import field_codes, field_errors, payout_payload

URL = "/api/payouts/"


def create(client: APIClient, **fields):
    return client.post(URL, payout_payload(**fields), format="json")


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def in_use(reference: str, holder: Payout) -> dict:
    message = errors.MSG_REFERENCE_IN_USE.format(reference=reference, payout_id=holder.id)
    return {
        "detail": message,
        "code": "reference_in_use",
        "errors": [{"field": "reference", "code": "reference_in_use", "message": message}],
        "existing_payout_id": str(holder.id),
    }


def test_create_with_a_reference_returns_and_stores_it(api_client, db):
    response = create(api_client, reference="INV-2025-0042")

    assert response.status_code == 201
    assert response.json()["reference"] == "INV-2025-0042"
    assert Payout.objects.get(pk=response.json()["id"]).reference == "INV-2025-0042"


def test_a_payout_created_without_a_reference_has_none(api_client, db):
    response = create(api_client)

    assert response.status_code == 201
    assert response.json()["reference"] is None
    assert Payout.objects.get(pk=response.json()["id"]).reference is None


def test_a_reference_of_64_characters_is_accepted(api_client, db):
    response = create(api_client, reference="R" * 64)

    assert response.status_code == 201
    assert response.json()["reference"] == "R" * 64


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        ("R" * 65, "max_length", "Reference must be at most 64 characters."),
        ("", "blank", errors.MSG_BLANK),
        ("   ", "blank", errors.MSG_BLANK),
        (None, "null", errors.MSG_NULL),
        (42, "invalid", errors.MSG_REFERENCE_NOT_TEXT),
        (["INV-1"], "invalid", errors.MSG_REFERENCE_NOT_TEXT),
        ({"id": "INV-1"}, "invalid", errors.MSG_REFERENCE_NOT_TEXT),
        ("INV\n1", "invalid_text", errors.MSG_REFERENCE_CONTROL_CHARACTER),
        ("INV\t1", "invalid_text", errors.MSG_REFERENCE_CONTROL_CHARACTER),
        ("INV\x7f", "invalid_text", errors.MSG_REFERENCE_CONTROL_CHARACTER),
        ("INV\x9b1", "invalid_text", errors.MSG_REFERENCE_CONTROL_CHARACTER),
        ("INV\x001", "invalid_text", errors.MSG_INVALID_TEXT),
    ],
    ids=repr,
)
def test_create_with_an_unacceptable_reference_is_400_and_writes_nothing(
    api_client, db, django_capture_on_commit_callbacks, reference, code, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(api_client, reference=reference)

    assert response.status_code == 400
    assert field_errors(response) == {"reference": [message]}
    assert field_codes(response) == {"reference": [code]}
    assert Payout.objects.count() == 0
    assert callbacks == []


@pytest.mark.parametrize("status", PayoutStatus.values)
def test_create_with_a_reference_the_client_holds_is_409_naming_its_payout(
    api_client, make_payout, django_capture_on_commit_callbacks, status
):
    holder = make_payout(status=status, reference="INV-1")

    with django_capture_on_commit_callbacks() as callbacks:
        response = create(api_client, reference="INV-1", amount="99.00")

    assert response.status_code == 409
    assert response.json() == in_use("INV-1", holder)
    assert Payout.objects.count() == 1
    assert callbacks == []


def test_a_retried_create_finds_the_payout_its_first_attempt_made(api_client, db):
    first = create(api_client, reference="INV-1")

    retry = create(api_client, reference="INV-1")

    existing = api_client.get(f"{URL}{retry.json()['existing_payout_id']}/")
    assert (first.status_code, retry.status_code, existing.status_code) == (201, 409, 200)
    assert existing.json() == first.json()


def test_a_reference_is_compared_exactly(api_client, make_payout):
    make_payout(reference="INV-1")

    responses = [create(api_client, reference=other) for other in ("inv-1", "INV-1 ", "INV-10")]

    assert [response.status_code for response in responses] == [201, 201, 201]


def test_another_client_may_use_the_same_reference(api_client, stranger, db):
    create(api_client, reference="INV-1")
    stranger_client = APIClient()
    stranger_client.credentials(HTTP_AUTHORIZATION=stranger.authorization)

    response = create(stranger_client, reference="INV-1")

    assert response.status_code == 201
    assert Payout.objects.filter(reference="INV-1").count() == 2


def test_a_deleted_payouts_reference_can_be_used_again(api_client, make_payout):
    deleted = make_payout(reference="INV-1")
    assert api_client.delete(f"{URL}{deleted.id}/").status_code == 204

    response = create(api_client, reference="INV-1")

    assert response.status_code == 201
    assert response.json()["id"] != str(deleted.id)
    assert Payout.objects.get(pk=deleted.id).reference == "INV-1"  # the tombstone keeps it


def test_patch_with_a_reference_is_400_and_keeps_the_reference(api_client, make_payout):
    payout = make_payout(reference="INV-1")

    response = api_client.patch(f"{URL}{payout.id}/", {"reference": "INV-2"}, format="json")

    assert response.status_code == 400
    assert field_errors(response) == {"reference": [errors.MSG_CREATE_ONLY_FIELD]}
    assert field_codes(response) == {"reference": ["read_only_field"]}
    assert Payout.objects.get(pk=payout.id).reference == "INV-1"


def test_list_filters_by_reference_exactly(api_client, make_payout):
    wanted = make_payout(reference="INV-1")
    for other in ("INV-10", "inv-1", None):
        make_payout(**({"reference": other} if other else {}))

    response = api_client.get(URL, {"reference": "INV-1"})

    assert response.status_code == 200
    assert ids(response) == [str(wanted.id)]


def test_the_reference_filter_never_shows_another_clients_payout(api_client, stranger, db):
    services.payout_create(stranger.caller, payout_payload(reference="INV-1"))

    response = api_client.get(URL, {"reference": "INV-1"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        ("R" * 65, "max_length", "Reference must be at most 64 characters."),
        ("  ", "blank", errors.MSG_BLANK),
        ("INV\x001", "invalid_text", errors.MSG_INVALID_TEXT),
        ("INV\n1", "invalid_text", errors.MSG_REFERENCE_CONTROL_CHARACTER),
    ],
    ids=repr,
)
def test_a_reference_filter_no_reference_could_match_is_400_naming_it(
    api_client, db, reference, code, message
):
    response = api_client.get(URL, {"reference": reference})

    assert response.status_code == 400
    assert field_errors(response) == {"reference": [message]}
    assert field_codes(response) == {"reference": [code]}
