"""Payout data and the invariants the database itself enforces."""

from __future__ import annotations

import uuid

from django.db import models


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
