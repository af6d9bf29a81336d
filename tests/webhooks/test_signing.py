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
    PREVIOUS_SECRETS_MAX,
    new_secret,
    previous_secrets_after_rotation,
    sign,
    signature_header,
    signed_headers,
)

MSG_ID = "evt_0b5d3c1f9e8a4d2b8c7e6f5a4b3c2d1e"
BODY = json.dumps({"id": MSG_ID, "type": "payout.completed", "data": {"amount": "5.00"}}).encode()


def endpoint_with(secret: str, *previous: tuple[str, timedelta]) -> WebhookEndpoint:
    """An endpoint signing with `secret` and earlier secrets, each expiring in its timedelta."""
    return WebhookEndpoint(
        secret=secret,
        previous_secrets=[
            {"secret": earlier, "expires_at": (timezone.now() + expires_in).isoformat()}
            for earlier, expires_in in previous
        ],
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
    endpoint = endpoint_with(new, (old, PREVIOUS_SECRET_VALIDITY))

    headers = signed_headers(endpoint, MSG_ID, BODY, timezone.now())

    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_an_expired_previous_secret_no_longer_signs():
    old, new = new_secret(), new_secret()
    endpoint = endpoint_with(new, (old, timedelta(seconds=-1)))

    headers = signed_headers(endpoint, MSG_ID, BODY, timezone.now())

    assert headers["webhook-signature"] == sign(
        new, MSG_ID, int(headers["webhook-timestamp"]), BODY
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, headers)


def test_the_signature_header_depends_on_when_it_is_made():
    old, new = new_secret(), new_secret()
    endpoint = endpoint_with(new, (old, timedelta(hours=1)))
    timestamp = int(timezone.now().timestamp())

    during = signature_header(endpoint, MSG_ID, timestamp, BODY, timezone.now())
    after = signature_header(endpoint, MSG_ID, timestamp, BODY, timezone.now() + timedelta(hours=2))

    assert during.split(" ") == [sign(s, MSG_ID, timestamp, BODY) for s in (new, old)]
    assert after == sign(new, MSG_ID, timestamp, BODY)


def test_every_unexpired_earlier_secret_signs_newest_first():
    oldest, older, expired, new = (new_secret() for _ in range(4))
    endpoint = endpoint_with(
        new,
        (oldest, timedelta(hours=1)),
        (expired, timedelta(seconds=-1)),
        (older, timedelta(hours=2)),
    )
    timestamp = int(timezone.now().timestamp())

    header = signature_header(endpoint, MSG_ID, timestamp, BODY, timezone.now())

    assert header.split(" ") == [sign(s, MSG_ID, timestamp, BODY) for s in (new, older, oldest)]


def test_a_rotation_keeps_at_most_the_newest_earlier_secrets():
    earlier = [new_secret() for _ in range(PREVIOUS_SECRETS_MAX)]
    current = new_secret()
    endpoint = endpoint_with(current, *((s, timedelta(hours=1)) for s in earlier))

    kept = previous_secrets_after_rotation(endpoint, timezone.now())

    assert [entry["secret"] for entry in kept] == [*earlier[1:], current]
