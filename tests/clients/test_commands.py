"""The key commands scripts rely on: create_api_key prints the key last, revoke_api_key ends it."""

from __future__ import annotations

import math
import string
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from clients.models import ApiKey, Client

URL = "/api/payouts/"


def create_api_key(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def get_with(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(URL)


def test_create_api_key_prints_the_key_alone_on_the_last_line(db):
    *_, key = create_api_key("acme")

    assert key == key.strip()
    assert " " not in key
    assert get_with(key).status_code == 200


def test_create_api_key_creates_the_client_once_and_reuses_it(db):
    first = create_api_key("acme")[-1]
    second = create_api_key("acme")[-1]

    assert first != second
    assert Client.objects.filter(name="acme").count() == 1
    assert ApiKey.objects.filter(client__name="acme").count() == 2


def test_a_key_has_at_least_128_bits_of_entropy(db):
    key = create_api_key("acme")[-1]
    prefix, _, secret = key.partition(".")

    alphabet = string.ascii_letters + string.digits
    assert set(secret) <= set(alphabet)
    assert len(secret) * math.log2(len(alphabet)) >= 128
    assert len(prefix) == 8


def test_only_a_hash_of_the_key_is_stored(db):
    key = create_api_key("acme")[-1]
    prefix, _, secret = key.partition(".")

    stored = ApiKey.objects.get(prefix=prefix)
    assert secret not in stored.hashed_key
    assert secret not in stored.pk
    assert stored.hashed_key.startswith("sha512$$")


def test_create_api_key_can_set_an_expiry(db):
    key = create_api_key("acme", "--expires-in-days", "30")[-1]

    expiry = ApiKey.objects.get(prefix=key[:8]).expiry_date
    assert expiry is not None
    assert timedelta(days=29) < expiry - timezone.now() <= timedelta(days=30)


def test_create_api_key_refuses_a_client_name_longer_than_the_column(db):
    with pytest.raises(CommandError, match="CLIENT_NAME must be at most 100 characters"):
        call_command("create_api_key", "x" * 101, stdout=StringIO(), stderr=StringIO())

    assert not Client.objects.exists()


def test_a_long_client_name_gets_a_key_labelled_within_its_column(db):
    key = create_api_key("x" * 100)[-1]

    assert ApiKey.objects.get(prefix=key[:8]).name == "x" * 50


def test_create_api_key_warns_that_a_deactivated_clients_key_is_refused(db):
    Client.objects.create(name="acme", is_active=False)
    err = StringIO()

    call_command("create_api_key", "acme", stdout=StringIO(), stderr=err)

    assert "Client 'acme' is deactivated" in err.getvalue()


def test_create_api_key_refuses_an_empty_client_name(db):
    with pytest.raises(CommandError, match="CLIENT_NAME must not be empty"):
        call_command("create_api_key", "  ", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("named_by", ["prefix", "full key"])
def test_revoke_api_key_refuses_the_key_from_the_next_request(db, named_by):
    key = create_api_key("acme")[-1]
    out = StringIO()

    call_command("revoke_api_key", key[:8] if named_by == "prefix" else key, stdout=out)

    response = get_with(key)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"
    assert f"Revoked API key {key[:8]}" in out.getvalue()


def test_revoke_api_key_leaves_the_clients_other_keys_working(db):
    old = create_api_key("acme")[-1]
    new = create_api_key("acme")[-1]

    call_command("revoke_api_key", old[:8], stdout=StringIO())

    assert get_with(old).status_code == 401
    assert get_with(new).status_code == 200


def test_revoke_api_key_of_an_unknown_prefix_is_an_error(db):
    with pytest.raises(CommandError, match="No API key 'nope1234'"):
        call_command("revoke_api_key", "nope1234", stdout=StringIO())


def test_revoke_api_key_with_a_wrong_secret_revokes_nothing(db):
    key = create_api_key("acme")[-1]
    forged = key[:9] + "x" * 32

    with pytest.raises(CommandError):
        call_command("revoke_api_key", forged, stdout=StringIO())

    assert get_with(key).status_code == 200
