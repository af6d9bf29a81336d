"""Where a client wants its events sent, and the record of every delivery of them."""

from __future__ import annotations

import uuid

from django.db import models

from clients.models import Client
from events.models import Event

URL_MAX_LENGTH = 2048
DESCRIPTION_MAX_LENGTH = 500
# Enough for a receiver per environment and team; each endpoint multiplies every event's POSTs.
ENDPOINTS_PER_CLIENT_MAX = 20
# The first part of a receiver's answer kept with each attempt.
RESPONSE_BODY_MAX_LENGTH = 1024


class WebhookEndpoint(models.Model):
    """A URL of a client's that receives its events, signed with the endpoint's secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.CharField(max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types sent to it; empty: every type."
    )
    enabled = models.BooleanField(default=True)
    # Standard Webhooks' form, whsec_<base64 of the key>: kept in the clear, as HMAC needs it.
    secret = models.CharField(max_length=100)
    # The secrets rotations replaced, oldest first, each {"secret": ..., "expires_at": ISO 8601}:
    # deliveries carry a signature with each of them too until it expires (webhooks.signing).
    previous_secrets = models.JSONField(default=list, blank=True)
    # The first failed attempt since the last successful one: the clock of automatic disabling.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "-created_at", "-id"], name="endpoint_client_idx")
        ]

    def __str__(self) -> str:
        return self.url

    def receives(self, event_type: str) -> bool:
        """Whether events of this type are sent here: every type when none is listed."""
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint, through as many attempts as it takes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # While PENDING: when the next attempt is due (the sweep sends those overdue). While an
    # attempt runs, the end of its claim: the sweep leaves it alone until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The attempt due was asked for by the client (the retry endpoint): one attempt, no schedule.
    manual = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_endpoint_event"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery of {self.event_id} to {self.endpoint_id}: {self.status}"


class WebhookAttempt(models.Model):
    """One POST of a delivery, as it went."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts_made"
    )
    number = models.PositiveIntegerField()
    # Asked for by the client (the retry endpoint) rather than by the schedule.
    manual = models.BooleanField(default=False)
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_delivery_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"
