"""Creating and revoking API keys: what the management commands and the admin call."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.db import IntegrityError, transaction

from clients.models import ApiKey, Client

# Prefixes are 8 random characters of 62; a clash with an existing key is possible, if rare.
_PREFIX_ATTEMPTS = 5


class KeyNotFound(Exception):
    pass


def api_key_create(
    client_name: str, *, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key for the client of that name, creating the client if it is new.

    Returns the stored key and the raw key, which exists nowhere else: show it once.
    """
    client, _ = Client.objects.get_or_create(name=client_name)
    for attempt in range(_PREFIX_ATTEMPTS):
        try:
            with transaction.atomic():
                # The key's label defaults to its client's name, cut to the label's length.
                label_length = ApiKey._meta.get_field("name").max_length or 0
                api_key, key = ApiKey.objects.create_key(
                    client=client, name=(name or client_name)[:label_length], expiry_date=expires_at
                )
                return cast(ApiKey, api_key), key
        except IntegrityError:
            if attempt == _PREFIX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def api_key_find(key_or_prefix: str) -> ApiKey:
    """The key a full key or its prefix names."""
    prefix, dot, _ = key_or_prefix.strip().partition(".")
    api_key: ApiKey | None = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is None or (dot and not api_key.is_valid(key_or_prefix.strip())):
        raise KeyNotFound(f"No API key {prefix!r}.")
    return api_key


def api_key_revoke(key_or_prefix: str) -> ApiKey:
    """Revoke the key a full key or its prefix names; revoking twice is harmless."""
    api_key = api_key_find(key_or_prefix)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key
