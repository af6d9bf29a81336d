"""App configuration for idempotency keys."""

from __future__ import annotations

from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "idempotency"
    verbose_name = "Idempotency keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the Huey tasks in every process, not only in the consumer (run_huey imports
        # them itself): the admin's Huey dashboard lists, and may revoke, the tasks its web
        # process knows.
        from idempotency import tasks  # noqa: F401
