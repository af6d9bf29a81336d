"""Payout data and the invariants the database itself enforces."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models

from clients.models import Client
from payouts import errors, validators


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


class FailureCode(models.TextChoices):
    """The service's own failure codes; a provider's decline code is stored as it sent it."""

    PROVIDER_DECLINED = "provider_declined", "Declined by the provider, which gave no code"
    PROVIDER_REJECTED = "provider_rejected", "Rejected by the provider (a 4xx other than a decline)"
    PROVIDER_UNAVAILABLE = "provider_unavailable", "Every attempt failed before the provider paid"
    PROVIDER_UNKNOWN_OUTCOME = (
        "provider_unknown_outcome",
        "No attempt got an answer and the provider may have paid: reconcile by hand",
    )


# Every list reads live payouts only, so the list indexes leave deleted ones out: a page and a
# bounded count stay index-only scans however many tombstones the table holds.
LIVE = models.Q(deleted_at__isnull=True)


class PayoutQuerySet(models.QuerySet["Payout"]):
    def live(self) -> PayoutQuerySet:
        """Payouts the APIs show: a deleted payout stays as a tombstone, with its history."""
        return self.filter(LIVE)


AMOUNT_MAX_DIGITS = 12
AMOUNT_DECIMAL_PLACES = 2
DESCRIPTION_MAX_LENGTH = 1000
REFERENCE_MAX_LENGTH = 64
_NOT_NULL = {"null": errors.MSG_NULL, "blank": errors.MSG_BLANK}


class Payout(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Its owner: the only client that sees or changes it. No index of its own: each list index
    # below starts with it.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="payouts", db_index=False
    )
    amount = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        validators=[validators.validate_amount_positive, validators.validate_amount_maximum],
        error_messages={
            **_NOT_NULL,
            "max_digits": errors.MSG_AMOUNT_TOO_MANY_DIGITS,
            "max_decimal_places": errors.MSG_AMOUNT_TOO_MANY_DECIMALS,
            "max_whole_digits": errors.MSG_AMOUNT_TOO_MANY_WHOLE_DIGITS,
        },
    )
    currency = models.CharField(
        max_length=3,
        choices=Currency.choices,
        error_messages={
            **_NOT_NULL,
            "invalid_choice": errors.MSG_CURRENCY_UNSUPPORTED.replace(
                "%(choices)s", ", ".join(Currency.values)
            ),
        },
    )
    recipient_details = models.JSONField(
        validators=[validators.validate_recipient_details],
        error_messages=_NOT_NULL,
    )
    description = models.TextField(
        blank=True,
        default="",
        validators=[
            MaxLengthValidator(DESCRIPTION_MAX_LENGTH),
            validators.validate_storable_text,
        ],
        error_messages={**_NOT_NULL, "max_length": errors.MSG_DESCRIPTION_TOO_LONG},
    )
    # Null, not "", is no reference: the unique constraint below leaves nulls out.
    reference = models.CharField(  # noqa: DJ001
        max_length=REFERENCE_MAX_LENGTH,
        null=True,
        blank=True,
        validators=[validators.validate_reference],
        error_messages={"max_length": errors.MSG_REFERENCE_TOO_LONG},
        help_text="The client's own id for it, unique among its live payouts; set at creation.",
    )
    metadata = models.JSONField(
        default=dict,
        blank=True,
        validators=[validators.validate_metadata],
        # Numbers in a body are read as Decimals (payouts.strict_json): with this encoder
        # full_clean() lets them reach validate_metadata, which names the key they are under.
        encoder=DjangoJSONEncoder,
        help_text="The client's own keys and string values; never used by processing.",
    )
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    failure_code = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Why it FAILED, for programs: the provider's decline code verbatim, or one of "
        "the service's own (provider_rejected, provider_unavailable, provider_unknown_outcome).",
    )
    failure_reason = models.TextField(blank=True, default="")
    provider_reference = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="The provider's id for the payment, once it paid.",
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Provider calls started for this payout."
    )
    max_attempts = models.PositiveIntegerField(
        help_text="Provider calls this payout may make: its retry budget, fixed when accepted."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was deleted; hidden from the APIs since."
    )

    objects = PayoutQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A client's newest-first list with its tie-breaker, and each list filter combined
            # with that order, so a client's filtered first page is an index range scan.
            models.Index(
                fields=["client", "-created_at", "-id"],
                name="payout_client_created_idx",
                condition=LIVE,
            ),
            models.Index(
                fields=["client", "status", "-created_at", "-id"],
                name="payout_status_created_idx",
                condition=LIVE,
            ),
            models.Index(
                fields=["client", "currency", "-created_at", "-id"],
                name="payout_currency_created_idx",
                condition=LIVE,
            ),
            # Status and currency together, newest first, with the amount in the key: a page
            # or a count filtered on all four list filters reads only this index.
            models.Index(
                fields=["client", "status", "currency", "-created_at", "-id", "amount"],
                name="payout_status_currency_idx",
                condition=LIVE,
            ),
            models.Index(fields=["client", "amount"], name="payout_amount_idx", condition=LIVE),
            # Staff see every client's payouts, newest first.
            models.Index(fields=["-created_at", "-id"], name="payout_created_idx", condition=LIVE),
            # The recovery sweep looks only at unfinished payouts, a small slice of the table.
            models.Index(
                fields=["updated_at"],
                name="payout_unfinished_idx",
                condition=LIVE & models.Q(status__in=["PENDING", "PROCESSING"]),
            ),
            # The oldest payout still waiting for its first attempt, read at every scrape of
            # /metrics: one step into this index however many payouts are finished.
            models.Index(
                fields=["created_at"],
                name="payout_pending_created_idx",
                condition=LIVE & models.Q(status="PENDING"),
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
            # Every FAILED payout says why in a code a program can act on; no other has one.
            models.CheckConstraint(
                condition=(models.Q(status=PayoutStatus.FAILED) & ~models.Q(failure_code=""))
                | (~models.Q(status=PayoutStatus.FAILED) & models.Q(failure_code="")),
                name="payout_failure_code_when_failed",
            ),
            models.CheckConstraint(
                condition=models.Q(status=PayoutStatus.COMPLETED) | models.Q(provider_reference=""),
                name="payout_provider_reference_only_when_completed",
            ),
            models.CheckConstraint(
                condition=models.Q(attempts__lte=models.F("max_attempts")),
                name="payout_attempts_within_budget",
            ),
            # Only a live payout holds its reference: deleting a PENDING payout (never paid)
            # frees it. Its index, led by the client, also serves the `reference` filter.
            models.UniqueConstraint(
                fields=["client", "reference"],
                condition=LIVE & models.Q(reference__isnull=False),
                name="payout_client_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.id} {self.amount} {self.currency} {self.status}"


class ActorKind(models.TextChoices):
    CLIENT = "client", "Client (API key)"
    STAFF = "staff", "Staff user"
    WORKER = "worker", "Worker"


class PayoutEventKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    PROCESSING = "processing", "Attempt started"
    ATTEMPT_FAILED = "attempt_failed", "Attempt failed"
    ATTEMPT_UNKNOWN = "attempt_unknown", "Attempt outcome unknown"
    EXTENDED = "extended", "Retries extended"
    RELEASED = "released", "Attempt released"
    REQUEUED = "requeued", "Enqueued again"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class PayoutEvent(models.Model):
    """One change of a payout; rows are only ever added, never changed or deleted."""

    # PROTECT: the history outlives any attempt to delete the row it describes.
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=PayoutEventKind.choices)
    from_status = models.CharField(max_length=10, choices=PayoutStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=PayoutStatus.choices)
    attempt = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, default="")
    changes = models.JSONField(
        default=dict, blank=True, help_text="Edited fields, before and after; secrets masked."
    )
    # Who caused it: a client (`actor` is the key's prefix), a staff user (their username) or
    # the worker. Text, not a foreign key: the record outlives a revoked key or a deleted user.
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payout", "created_at"], name="payout_event_payout_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_status or '∅'} → {self.to_status}"


class Lease(models.Model):
    """A named lock that expires, so a holder that dies without releasing it cannot keep it."""

    name = models.CharField(primary_key=True, max_length=100)
    holder = models.UUIDField(null=True, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Lease {self.name} until {self.expires_at}"


class ConsumerHeartbeat(models.Model):
    """A running consumer process, alive until `expires_at` unless it beats again before."""

    consumer = models.CharField(primary_key=True, max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Consumer {self.consumer} alive until {self.expires_at}"
