"""Operators look keys up in the admin: who sent it, for what, and what it was answered."""

from __future__ import annotations

from idempotency.models import IdempotencyKey
from tests.conftest import payout_payload
from tests.idempotency.conftest import KEY


def test_the_admin_lists_and_finds_a_clients_keys_with_their_answers(admin_client, api_client):
    api_client.post(
        "/api/payouts/", payout_payload(), format="json", headers={"Idempotency-Key": KEY}
    )
    record = IdempotencyKey.objects.get()

    listed = admin_client.get("/admin/idempotency/idempotencykey/", {"q": KEY})
    shown = admin_client.get(f"/admin/idempotency/idempotencykey/{record.pk}/change/")

    assert [row.key for row in listed.context["cl"].result_list] == [KEY]
    assert (str(record.client), record.response_status) == ("acme", 201)
    assert record.response_body.split('"id": "')[1][:36] in shown.content.decode()


def test_keys_are_never_added_edited_or_deleted_in_the_admin(admin_client, api_client):
    api_client.post(
        "/api/payouts/", payout_payload(), format="json", headers={"Idempotency-Key": KEY}
    )
    record = IdempotencyKey.objects.get()

    added = admin_client.get("/admin/idempotency/idempotencykey/add/")
    edited = admin_client.post(
        f"/admin/idempotency/idempotencykey/{record.pk}/change/", {"key": "other"}
    )

    deleted = admin_client.post(
        f"/admin/idempotency/idempotencykey/{record.pk}/delete/", {"post": "yes"}
    )

    assert added.status_code == 403
    assert edited.status_code == 403
    assert deleted.status_code == 403
    assert IdempotencyKey.objects.get().key == KEY
