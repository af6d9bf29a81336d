"""Payout data and the invariants the database itself enforces."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models.query import ModelIterable


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    RUB = "RUB", "Russian rouble"


class PayoutStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


# Below this offset a page is read straight from the index scan; from it on, the ids of the
# page are found first (an index-only scan) and only those rows are read.
DEFERRED_JOIN_MIN_OFFSET = 1000


class PayoutQuerySet(models.QuerySet["Payout"]):
    def __getitem__(self, k: Any) -> Any:
        """Slice deep pages with a deferred join, so OFFSET skips index entries, not rows.

        `qs[100000:100101]` becomes `WHERE id IN (SELECT id ... OFFSET 100000 LIMIT 101)`:
        PostgreSQL walks the skipped part of an index that holds the order and the id without
        visiting the table, then reads 101 rows. Every caller that slices (Django's paginator
        for REST, strawberry's connection for GraphQL) gets it without knowing.
        """
        deep = (
            isinstance(k, slice)
            and (k.start or 0) >= DEFERRED_JOIN_MIN_OFFSET
            and self._result_cache is None
            and not self.query.is_sliced
            and self._iterable_class is ModelIterable
        )
        if not deep:
            return super().__getitem__(k)
        page_ids = self.values("pk")[k]
        return self.filter(pk__in=page_ids)


class Payout(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    recipient_details = models.JSONField()
    description = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    failure_reason = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(
        default=0, help_text="Provider calls started for this payout."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PayoutQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The default newest-first order with its tie-breaker, and each list filter
            # combined with that order, so a filtered first page is an index range scan.
            models.Index(fields=["-created_at", "-id"], name="payout_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="payout_status_created_idx"),
            models.Index(
                fields=["currency", "-created_at", "-id"], name="payout_currency_created_idx"
            ),
            # Status and currency together, newest first, with the amount in the key: a page
            # or a count filtered on all four list filters reads only this index.
            models.Index(
                fields=["status", "currency", "-created_at", "-id", "amount"],
                name="payout_status_currency_idx",
            ),
            models.Index(fields=["amount"], name="payout_amount_idx"),
            # The recovery sweep looks only at unfinished payouts, a small slice of the table.
            models.Index(
                fields=["updated_at"],
                name="payout_unfinished_idx",
                condition=models.Q(status__in=["PENDING", "PROCESSING"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(currency__in=Currency.values), name="payout_currency_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PayoutStatus.values), name="payout_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status=PayoutStatus.FAILED) | models.Q(failure_reason=""),
                name="payout_failure_reason_only_when_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.id} {self.amount} {self.currency} {self.status}"


class PayoutEvent(models.Model):
    """One status change of a payout; rows are only ever added, never changed."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=PayoutStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=PayoutStatus.choices)
    attempt = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payout", "created_at"], name="payout_event_payout_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} (attempt {self.attempt})"
