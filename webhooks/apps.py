"""App configuration for webhooks: endpoints, deliveries and their attempts."""

from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events.signals import event_committed
        from webhooks import admin_deliveries  # noqa: F401 (registers the deliveries' admin)
        from webhooks.receivers import fan_out_committed_event

        event_committed.connect(fan_out_committed_event, dispatch_uid="webhooks.fan_out")
