"""The record of each Idempotency-Key a client has sent: what it asked and what it was answered."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clients.models import Client

KEY_MAX_LENGTH = 255


class IdempotencyKey(models.Model):
    """One key of one client. The unique constraint is the whole guarantee: whichever request
    inserts the row runs; every other request with that key finds it and is answered from it
    (a replay, 422) or, while the first runs, gets 409 (on SQLite it waits, then replays). The
    row outlives every process, so it holds across web workers and restarts."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    # SHA-256 of the request's method, path and canonical JSON body.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # The answer, stored before the row commits: null only inside the transaction that runs
    # the first request.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "idempotency key"
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client")
        ]
        # The purge deletes the oldest first.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.client}: {self.key}"

    @property
    def finished(self) -> bool:
        return self.response_status is not None
