"""App configuration for the payouts domain."""

from __future__ import annotations

from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Payouts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the Huey tasks in every process, not only in the consumer (run_huey imports
        # them itself): the admin's Huey dashboard lists, and may revoke, the tasks its web
        # process knows.
        from payouts import tasks  # noqa: F401
