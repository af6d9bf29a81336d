"""The payout event stream: one row for every change a client can see, written in the
transaction of the change (a transactional outbox). Webhooks and live subscriptions read it."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from clients.models import Client
from events.transactions import CurrentTransaction
from payouts.models import Payout

ID_PREFIX = "evt_"


class EventType(models.TextChoices):
    CREATED = "payout.created", "Payout created"
    PROCESSING = "payout.processing", "Payout processing"
    COMPLETED = "payout.completed", "Payout completed"
    FAILED = "payout.failed", "Payout failed"
    UPDATED = "payout.updated", "Payout updated"
    DELETED = "payout.deleted", "Payout deleted"


class Event(models.Model):
    """One change of a payout as its client sees it; rows are only ever added.

    (`transaction_id`, `position`) orders the whole stream (the `after` cursor of catch-up
    reads); `sequence` orders one payout's events, from 1, without gaps.
    """

    position = models.BigAutoField(primary_key=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", db_index=False)
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="+", db_index=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    sequence = models.PositiveIntegerField()
    # The payout as the REST API renders it when the change committed.
    data = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    # The writing transaction's id on PostgreSQL (0 on SQLite): the stream's first sort key
    # (see events.transactions).
    transaction_id = models.BigIntegerField(db_default=CurrentTransaction(), editable=False)
    # When the webhook deliveries of this event were made (the webhooks app); null until then,
    # so a fan-out whose task was lost is found and done by the sweep.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["transaction_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["payout", "sequence"], name="event_payout_sequence"),
        ]
        indexes = [
            # A client's catch-up read, and with a type filter.
            models.Index(fields=["client", "transaction_id", "position"], name="event_client_idx"),
            models.Index(
                fields=["client", "type", "transaction_id", "position"],
                name="event_client_type_idx",
            ),
            # Staff read every client's stream.
            models.Index(fields=["transaction_id", "position"], name="event_stream_idx"),
            models.Index(
                fields=["position"],
                name="event_undispatched_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence} of payout {self.payout_id}"

    @property
    def public_id(self) -> str:
        return f"{ID_PREFIX}{self.uid.hex}"
