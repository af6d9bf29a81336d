"""The admin lists clients and keys, creates a key (shown once) and revokes it."""

from __future__ import annotations

import re

from django.contrib import admin
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from clients.models import ApiKey


def status_with(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/payouts/").status_code


def test_the_key_list_shows_prefix_client_and_dates(admin_client, owner):
    response = admin_client.get("/admin/clients/apikey/")

    assert response.status_code == 200
    columns = response.context["cl"].list_display
    for column in ("prefix", "client", "created", "last_used_at", "expiry_date", "revoked"):
        assert column in columns
    assert owner.api_key.prefix in response.content.decode()


def test_the_client_list_counts_active_keys(admin_client, owner):
    response = admin_client.get("/admin/clients/client/")

    assert response.status_code == 200
    [row] = response.context["cl"].result_list
    assert (row.name, row.active_key_count) == ("acme", 1)


def test_adding_a_key_shows_it_once_and_it_works(admin_client, owner):
    response = admin_client.post(
        "/admin/clients/apikey/add/",
        {"client": owner.client.pk, "name": "ci", "expiry_date_0": "", "expiry_date_1": ""},
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    [shown] = [m for m in messages if "you will not be able to see it again" in m]
    match = re.search(r"is: (\S+)\.\s", shown)
    assert match is not None, shown
    key = match[1]
    assert ApiKey.objects.get(name="ci").client == owner.client
    assert status_with(key) == 200


def test_a_new_keys_message_never_travels_in_a_cookie(admin_client, owner):
    response = admin_client.post(
        "/admin/clients/apikey/add/",
        {"client": owner.client.pk, "name": "ci", "expiry_date_0": "", "expiry_date_1": ""},
    )

    assert response.status_code == 302
    assert "messages" not in response.cookies
    shown = [str(message) for message in admin_client.get(response["Location"]).context["messages"]]
    assert any("you will not be able to see it again" in message for message in shown)


def test_revoking_a_key_in_the_admin_refuses_it(admin_client, owner):
    page = f"/admin/clients/apikey/{owner.api_key.pk}/change/"

    response = admin_client.post(
        page,
        {"name": owner.api_key.name, "revoked": "on", "expiry_date_0": "", "expiry_date_1": ""},
    )

    assert response.status_code == 302
    assert status_with(owner.key) == 401


def test_keys_and_clients_cannot_be_deleted_only_revoked_or_deactivated(admin_client, owner):
    key_page = admin_client.get(f"/admin/clients/apikey/{owner.api_key.pk}/delete/")
    client_page = admin_client.get(f"/admin/clients/client/{owner.client.pk}/delete/")

    assert (key_page.status_code, client_page.status_code) == (403, 403)


def test_a_deactivated_client_is_refused(admin_client, owner):
    response = admin_client.post(
        f"/admin/clients/client/{owner.client.pk}/change/",
        {
            "name": "acme",
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-MIN_NUM_FORMS": "0",
            "api_keys-MAX_NUM_FORMS": "1000",
            "api_keys-0-id": owner.api_key.pk,
            "api_keys-0-client": owner.client.pk,
        },
    )

    assert response.status_code == 302
    assert status_with(owner.key) == 401


def test_the_librarys_own_key_model_is_not_in_the_admin():
    assert not admin.site.is_registered(APIKey)
    assert admin.site.is_registered(ApiKey)
