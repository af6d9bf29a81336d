"""Clients, the systems that send payouts, and the API keys they authenticate with."""

from __future__ import annotations

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class Client(models.Model):
    """The system or team that sends payouts; it owns its keys and its payouts."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(
        default=True, help_text="An inactive client's keys are refused; its payouts stay."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(AbstractAPIKey):
    """A key as djangorestframework-api-key stores it: a visible prefix and a SHA-512 hash of the
    whole key, never the key itself; plus the client it acts for and when it was last used."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.prefix} ({self.client})"
