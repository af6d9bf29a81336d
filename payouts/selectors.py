"""Reads with rules: the payout queryset every surface lists from, and lookups by id."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from payouts.callers import Caller
from payouts.errors import PayoutNotFound
from payouts.models import Payout, PayoutStatus
from payouts.states import ATTEMPT_STATUS, NOT_STARTED_STATUSES

# Newest first; the id breaks ties between payouts created in the same microsecond so that
# pages never repeat or skip a row.
DEFAULT_ORDERING: tuple[str, ...] = ("-created_at", "-id")
# The most payouts one page of a list holds, over REST and GraphQL alike.
PAYOUT_PAGE_MAX = 100


def payout_ordering_tie_breakers(ordered_fields: set[str]) -> list[str]:
    """The default-order fields to append after a client's ordering so that it is total."""
    return [field for field in DEFAULT_ORDERING if field.lstrip("-") not in ordered_fields]


def parse_payout_id(value: object) -> uuid.UUID:
    """The UUID an id names, or PayoutNotFound. Only the canonical lowercase hyphenated form
    names a payout (as REST and GraphQL write it), so one payout has one URL."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        parsed = uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value:
        raise PayoutNotFound()
    return parsed


def payout_list(caller: Caller) -> QuerySet[Payout]:
    """The payouts the caller may see: its client's own, or every client's for staff."""
    return Payout.objects.live().filter(caller.scope()).order_by(*DEFAULT_ORDERING)


def _planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's own estimate of the rows a query returns, from its statistics."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def payout_count(queryset: QuerySet[Any]) -> int:
    """How many payouts a list holds: exact up to PAYOUT_LIST_EXACT_COUNT_LIMIT, else estimated.

    An exact COUNT(*) reads every matching row: over a million payouts that is the slowest part
    of a page. Counting stops after the limit; past it PostgreSQL's planner estimate (never
    below the limit) is close enough for "about N results", and `next` links never depend on it.
    """
    limit: int = settings.PAYOUT_LIST_EXACT_COUNT_LIMIT
    counted = queryset.order_by().values("pk")[: limit + 1].count()
    if counted <= limit:
        return counted
    estimate = _planner_estimate(queryset)
    if estimate is None:
        return queryset.count()
    return max(estimate, limit + 1)


def payout_get(caller: Caller, payout_id: object) -> Payout:
    """A payout the caller may see; another client's payout is not found, never forbidden,
    which would confirm that it exists."""
    try:
        return payout_list(caller).get(pk=parse_payout_id(payout_id))
    except Payout.DoesNotExist:
        raise PayoutNotFound() from None


def payout_get_or_none(caller: Caller, payout_id: object) -> Payout | None:
    try:
        return payout_get(caller, payout_id)
    except PayoutNotFound:
        return None


def payout_list_stalled(now: datetime | None = None) -> QuerySet[Payout]:
    """Unfinished payouts untouched long enough that their task may be gone: not started for
    PAYOUT_RECOVERY_PENDING_AFTER_SECONDS, or started and quiet past
    PAYOUT_PROCESSING_LEASE_SECONDS. The candidates of the recovery sweep and of an operator's
    re-enqueue; what decides is whether a message for them still waits in the queue."""
    now = now or timezone.now()
    pending_cutoff = now - timedelta(seconds=settings.PAYOUT_RECOVERY_PENDING_AFTER_SECONDS)
    lease_cutoff = now - timedelta(seconds=settings.PAYOUT_PROCESSING_LEASE_SECONDS)
    return Payout.objects.live().filter(
        Q(status__in=NOT_STARTED_STATUSES, updated_at__lt=pending_cutoff)
        | Q(status=ATTEMPT_STATUS, updated_at__lt=lease_cutoff)
    )


def payout_counts_by_status() -> dict[str, int]:
    """How many live payouts each status holds, each bounded as `payout_count` bounds a list."""
    live = Payout.objects.live()
    return {status: payout_count(live.filter(status=status)) for status in PayoutStatus.values}


def payout_oldest_pending_created_at() -> datetime | None:
    """When the oldest payout still waiting for its first attempt was created; None if none."""
    oldest: datetime | None = (
        Payout.objects.live()
        .filter(status=PayoutStatus.PENDING)
        .aggregate(oldest=Min("created_at"))["oldest"]
    )
    return oldest


@dataclass(frozen=True)
class PayoutCriteria:
    """Conditions on a payout in hand (a live event's), where lists filter in their query.
    None: any value."""

    statuses: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def matches(self, payout: Payout) -> bool:
        return (
            (self.statuses is None or payout.status in self.statuses)
            and (self.currencies is None or payout.currency in self.currencies)
            and (self.min_amount is None or payout.amount >= self.min_amount)
            and (self.max_amount is None or payout.amount <= self.max_amount)
        )
