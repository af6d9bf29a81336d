"""Webhook signatures as the Standard Webhooks specification writes them (standardwebhooks.com),
so that receivers verify them with an off-the-shelf library.

A secret is `whsec_` and the base64 of its key; a signature is `v1,` and the base64 of
HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}", keyed with the decoded key. The
`webhook-signature` header holds one or more signatures, space-separated: a receiver accepts the
message when any of them verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"
# The specification asks for 24 to 64 random bytes.
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
# How long a secret replaced by a rotation still signs, beside the new one: a day for the
# receiver to deploy the new secret without refusing a single webhook meanwhile.
PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)
# At most this many replaced secrets sign beside the current one (the newest kept): each adds a
# signature to every webhook's header, and rotations are the client's to repeat at will.
PREVIOUS_SECRETS_MAX = 10

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


def new_secret() -> str:
    """A new signing secret in the specification's form, `whsec_<base64 of 32 random bytes>`."""
    key = secrets.token_bytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A signing secret starts with whsec_.")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The signature `v1,<base64>` of one message: its id, its Unix timestamp and its body
    exactly as sent."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def _unexpired(previous_secrets: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    return [
        entry for entry in previous_secrets if now < datetime.fromisoformat(entry["expires_at"])
    ]


def previous_secrets_after_rotation(
    endpoint: WebhookEndpoint, now: datetime
) -> list[dict[str, Any]]:
    """The endpoint's `previous_secrets` once a rotation at `now` replaces its secret: the
    unexpired ones, then its current secret, valid for PREVIOUS_SECRET_VALIDITY.

    Every unexpired one is kept: a receiver may have deployed any secret handed out within the
    day (rotate A to B, B deployed, rotate B to C: B must still sign), or none of them (the
    answer that carried B was lost: A must still sign).
    """
    kept = _unexpired(endpoint.previous_secrets, now)
    kept.append(
        {"secret": endpoint.secret, "expires_at": (now + PREVIOUS_SECRET_VALIDITY).isoformat()}
    )
    return kept[-PREVIOUS_SECRETS_MAX:]


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign the endpoint's messages at `now`: its secret, then each secret a
    rotation replaced that has not expired, newest first."""
    earlier = _unexpired(endpoint.previous_secrets, now)
    return [endpoint.secret, *(entry["secret"] for entry in reversed(earlier))]


def signature_header(
    endpoint: WebhookEndpoint, msg_id: str, timestamp: int, body: bytes, now: datetime
) -> str:
    """The `webhook-signature` value: a signature with each of the endpoint's secrets at `now`."""
    return " ".join(
        sign(secret, msg_id, timestamp, body) for secret in signing_secrets(endpoint, now)
    )


def signed_headers(
    endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime
) -> dict[str, str]:
    """The three headers of a webhook POST sent at `now`: its id (the same on every retry), its
    timestamp (this attempt's) and the signatures over both and the body."""
    timestamp = int(now.timestamp())
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature_header(endpoint, msg_id, timestamp, body, now),
    }
