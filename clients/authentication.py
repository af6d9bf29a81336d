"""The one API key check behind REST and GraphQL: an Authorization header in, a Caller out."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.utils import timezone

from clients.models import ApiKey
from payouts.callers import Caller
from payouts.errors import ErrorCode, PayoutError

logger = logging.getLogger(__name__)

SCHEME = "Bearer"
# What create_api_key prints: an 8-character prefix, a dot and a 32-character secret.
KEY_FORMAT = re.compile(r"[0-9A-Za-z]{8}\.[0-9A-Za-z]{32}")
# last_used_at is written at most this often per key: "last used" needs no more precision, and
# a write on every request would cost more than the rest of the check.
LAST_USED_PRECISION = timedelta(minutes=1)

MSG_NO_CREDENTIALS = (
    "Authentication credentials were not provided: send Authorization: Bearer <key>."
)
MSG_WRONG_SCHEME = "Unsupported authorization scheme: send Authorization: Bearer <key>."
MSG_MALFORMED = "Malformed API key: send the key exactly as it was shown when it was created."
MSG_INVALID = "Invalid API key {prefix}…: no such key."
MSG_REVOKED = "API key {prefix} has been revoked."
MSG_EXPIRED = "API key {prefix} expired at {expiry:%Y-%m-%dT%H:%M:%SZ}."
MSG_CLIENT_INACTIVE = "API key {prefix} belongs to a deactivated client."


class AuthenticationRefused(PayoutError):
    """No valid API key: missing, malformed, unknown, revoked, expired or of an inactive client."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code = code
        super().__init__(message)


def caller_for_authorization(header: str | None) -> Caller:
    """The client caller an `Authorization: Bearer <key>` header authenticates."""
    if not header:
        raise AuthenticationRefused(ErrorCode.NOT_AUTHENTICATED, MSG_NO_CREDENTIALS)
    scheme, _, credentials = header.strip().partition(" ")
    # RFC 9110: the scheme is case-insensitive.
    if scheme.lower() != SCHEME.lower():
        raise AuthenticationRefused(ErrorCode.NOT_AUTHENTICATED, MSG_WRONG_SCHEME)
    return caller_for_key(credentials.strip())


def caller_for_key(raw_key: str) -> Caller:
    if not KEY_FORMAT.fullmatch(raw_key):
        raise AuthenticationRefused(ErrorCode.AUTHENTICATION_FAILED, MSG_MALFORMED)
    prefix = raw_key[:8]
    try:
        api_key = ApiKey.objects.select_related("client").get(prefix=prefix)
    except ApiKey.DoesNotExist:
        api_key = None
    # The hash decides before anything about the key is told: only its holder learns that it
    # was revoked or has expired.
    if api_key is None or not api_key.is_valid(raw_key):
        raise AuthenticationRefused(
            ErrorCode.AUTHENTICATION_FAILED, MSG_INVALID.format(prefix=prefix)
        )
    if api_key.revoked:
        raise AuthenticationRefused(ErrorCode.API_KEY_REVOKED, MSG_REVOKED.format(prefix=prefix))
    if api_key.has_expired:
        raise AuthenticationRefused(
            ErrorCode.API_KEY_EXPIRED, MSG_EXPIRED.format(prefix=prefix, expiry=api_key.expiry_date)
        )
    if not api_key.client.is_active:
        raise AuthenticationRefused(
            ErrorCode.CLIENT_INACTIVE, MSG_CLIENT_INACTIVE.format(prefix=prefix)
        )
    _note_use(api_key)
    return Caller.for_key(api_key.client, prefix)


def _note_use(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
