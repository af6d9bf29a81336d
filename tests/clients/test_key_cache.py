"""A web process remembers a key it checked for PAYOUT_API_KEY_CACHE_SECONDS: changes made in
another process reach it within that time, changes made in it at once, expiry on every request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clients.models import ApiKey
from clients.services import api_key_create

URL = "/api/payouts/"


def status_with(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(URL).status_code


def revoke_elsewhere(owner) -> None:
    """Revoke the key as another process does: in the database, with no signal to this one."""
    ApiKey.objects.filter(pk=owner.api_key.pk).update(revoked=True)


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock the key cache reads, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr("clients.authentication.time.monotonic", lambda: now[0])
    return now


def test_a_key_revoked_elsewhere_is_refused_once_the_cache_time_has_passed(owner, settings, clock):
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 5
    assert status_with(owner.key) == 200
    revoke_elsewhere(owner)

    clock[0] += 4.9
    still_remembered = status_with(owner.key)
    clock[0] += 0.2
    read_again = status_with(owner.key)

    assert (still_remembered, read_again) == (200, 401)


def test_without_a_cache_time_every_request_reads_the_key(owner, settings):
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 0
    assert status_with(owner.key) == 200

    revoke_elsewhere(owner)

    assert status_with(owner.key) == 401


def test_a_key_revoked_in_this_process_is_refused_at_once(owner, settings):
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 3600
    assert status_with(owner.key) == 200

    owner.api_key.revoked = True
    owner.api_key.save()

    assert status_with(owner.key) == 401


def test_a_remembered_key_is_refused_from_its_expiry_on(db, settings, monkeypatch):
    settings.PAYOUT_API_KEY_CACHE_SECONDS = 3600
    _, key = api_key_create("acme", expires_at=timezone.now() + timedelta(hours=1))
    assert status_with(key) == 200
    later = timezone.now() + timedelta(hours=2)

    monkeypatch.setattr("clients.authentication.timezone.now", lambda: later)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "api_key_expired"
