"""The one API key check behind REST and GraphQL: an Authorization header in, a Caller out."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
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
# Keys a process remembers at most; past it, it forgets them all and reads them again.
REMEMBERED_KEYS_MAX = 10_000

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


@dataclass
class _Verified:
    """A key this process found valid in the database, and when it looked."""

    caller: Caller
    expiry: datetime | None
    last_used_at: datetime | None
    key_pk: str
    read_at: float


# By the SHA-512 of the key: a request then costs a hash and a dictionary lookup, where reading
# the key costs a database round trip and the ORM's work around it (over 1 ms in `make bench`).
_verified: dict[str, _Verified] = {}


def forget_verified_keys(**_: object) -> None:
    """Read every key from the database again: a key or client of this process changed.

    Again once the change commits: another thread may have read the row before it did.
    """
    _verified.clear()
    transaction.on_commit(_verified.clear)


def caller_for_key(raw_key: str) -> Caller:
    """The caller a key authenticates.

    A valid key is remembered for PAYOUT_API_KEY_CACHE_SECONDS: a revocation or deactivation
    made in this process (the admin, the command) forgets it at once, one made elsewhere reaches
    this process within that time. Expiry is checked on every request.
    """
    if not KEY_FORMAT.fullmatch(raw_key):
        raise AuthenticationRefused(ErrorCode.AUTHENTICATION_FAILED, MSG_MALFORMED)
    digest = hashlib.sha512(raw_key.encode()).hexdigest()
    verified = _verified.get(digest)
    if verified is None or time.monotonic() - verified.read_at >= _cache_seconds():
        verified = _read(raw_key, digest)
    if verified.expiry is not None and verified.expiry <= timezone.now():
        _verified.pop(digest, None)
        raise AuthenticationRefused(
            ErrorCode.API_KEY_EXPIRED,
            MSG_EXPIRED.format(prefix=raw_key[:8], expiry=verified.expiry),
        )
    _note_use(verified)
    return verified.caller


def _cache_seconds() -> float:
    seconds: float = settings.PAYOUT_API_KEY_CACHE_SECONDS
    return seconds


def _read(raw_key: str, digest: str) -> _Verified:
    """Check the key against the database; remember it if it is valid."""
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
    if not api_key.client.is_active:
        raise AuthenticationRefused(
            ErrorCode.CLIENT_INACTIVE, MSG_CLIENT_INACTIVE.format(prefix=prefix)
        )
    verified = _Verified(
        caller=Caller.for_key(api_key.client, prefix),
        expiry=api_key.expiry_date,
        last_used_at=api_key.last_used_at,
        key_pk=api_key.pk,
        read_at=time.monotonic(),
    )
    if _cache_seconds() > 0:
        if len(_verified) >= REMEMBERED_KEYS_MAX:
            _verified.clear()
        _verified[digest] = verified
    return verified


def _note_use(verified: _Verified) -> None:
    now = timezone.now()
    if verified.last_used_at is None or now - verified.last_used_at >= LAST_USED_PRECISION:
        # Bookkeeping: a write that fails (a locked SQLite file) must not fail the request.
        try:
            ApiKey.objects.filter(pk=verified.key_pk).update(last_used_at=now)
        except DatabaseError:
            logger.warning("Could not record the use of API key %s", verified.caller.actor)
            return
        verified.last_used_at = now
