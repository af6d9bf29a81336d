"""Reads with rules: the payout queryset every surface lists from, and lookups by id."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from payouts.errors import PayoutNotFound
from payouts.models import Payout, PayoutEvent

# Newest first; the id breaks ties between payouts created in the same microsecond so that
# pages never repeat or skip a row.
DEFAULT_ORDERING: tuple[str, ...] = ("-created_at", "-id")


def payout_ordering_tie_breakers(ordered_fields: set[str]) -> list[str]:
    """The default-order fields to append after a client's ordering so that it is total."""
    return [field for field in DEFAULT_ORDERING if field.lstrip("-") not in ordered_fields]


def parse_payout_id(value: object) -> uuid.UUID:
    """Return the UUID for value, or raise PayoutNotFound: a malformed id names no payout."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise PayoutNotFound() from None


def payout_list() -> QuerySet[Payout]:
    return Payout.objects.order_by(*DEFAULT_ORDERING)


def payout_get(payout_id: object) -> Payout:
    try:
        return Payout.objects.get(pk=parse_payout_id(payout_id))
    except Payout.DoesNotExist:
        raise PayoutNotFound() from None


def payout_get_or_none(payout_id: object) -> Payout | None:
    try:
        return payout_get(payout_id)
    except PayoutNotFound:
        return None


def payout_event_list(payout_id: uuid.UUID) -> QuerySet[PayoutEvent]:
    return PayoutEvent.objects.filter(payout_id=payout_id).order_by("created_at", "id")
