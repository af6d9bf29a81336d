"""Signatures as Standard Webhooks specifies them, checked by its own library: they verify, and
fail when the body, the timestamp or the secret is not the one signed."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.models import WebhookEndpoint
from webhooks.signing import (
    PREVIOUS_SECRET_VALIDITY,
    new_secret,
    sign,
    signature_header,
    signed_headers,
)

MSG_ID = "evt_0b5d3c1f9e8a4d2b8c7e6f5a4b3c2d1e"
BODY = json.dumps({"id": MSG_ID, "type": "payout.completed", "data": {"amount": "5.00"}}).encode()


def endpoint_with(secret: str, previous: str = "", expires_in: timedelta | None = None):
    expires_at = None if expires_in is None else timezone.now() + expires_in
    return WebhookEndpoint(
        secret=secret, previous_secret=previous, previous_secret_expires_at=expires_at
    )


def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    secret = new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_a_signature_is_the_one_the_library_makes():
    secret = new_secret()
    now = timezone.now().replace(microsecond=0)

    ours = sign(secret, MSG_ID, int(now.timestamp()), BODY)

    assert ours == Webhook(secret).sign(MSG_ID, now, BODY.decode())


def test_signed_headers_verify_with_the_library():
    secret = new_secret()
    headers = signed_headers(endpoint_with(secret), MSG_ID, BODY, timezone.now())

    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-id"] == MSG_ID


@pytest.mark.parametrize("tampered", ["body", "timestamp", "secret", "id"])
def test_a_signature_fails_when_what_it_signs_changes(tampered):
    secret = new_secret()
    headers = signed_headers(endpoint_with(secret), MSG_ID, BODY, timezone.now())
    body = BODY
    if tampered == "body":
        body = BODY.replace(b"5.00", b"500.00")
    elif tampered == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    elif tampered == "secret":
        secret = new_secret()
    else:
        headers["webhook-id"] = "evt_another"

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_during_a_rotation_both_secrets_sign_and_each_verifies():
    old, new = new_secret(), new_secret()
    endpoint = endpoint_with(new, previous=old, expires_in=PREVIOUS_SECRET_VALIDITY)

    headers = signed_headers(endpoint, MSG_ID, BODY, timezone.now())

    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_an_expired_previous_secret_no_longer_signs():
    old, new = new_secret(), new_secret()
    endpoint = endpoint_with(new, previous=old, expires_in=timedelta(seconds=-1))

    headers = signed_headers(endpoint, MSG_ID, BODY, timezone.now())

    assert headers["webhook-signature"] == sign(
        new, MSG_ID, int(headers["webhook-timestamp"]), BODY
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, headers)


def test_the_signature_header_depends_on_when_it_is_made():
    old, new = new_secret(), new_secret()
    endpoint = endpoint_with(new, previous=old, expires_in=timedelta(hours=1))
    timestamp = int(timezone.now().timestamp())

    during = signature_header(endpoint, MSG_ID, timestamp, BODY, timezone.now())
    after = signature_header(endpoint, MSG_ID, timestamp, BODY, timezone.now() + timedelta(hours=2))

    assert during.split(" ") == [sign(s, MSG_ID, timestamp, BODY) for s in (new, old)]
    assert after == sign(new, MSG_ID, timestamp, BODY)
