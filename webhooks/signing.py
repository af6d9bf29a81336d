"""Stand-in (replaced by webhooks-a): Standard Webhooks signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    message = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signature_header(
    endpoint: WebhookEndpoint, msg_id: str, timestamp: int, body: bytes, now: datetime
) -> str:
    signatures = [sign(endpoint.secret, msg_id, timestamp, body)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        signatures.append(sign(endpoint.previous_secret, msg_id, timestamp, body))
    return " ".join(signatures)
