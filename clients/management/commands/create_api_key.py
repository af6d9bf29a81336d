"""`manage.py create_api_key CLIENT_NAME`: a new key, printed alone on the last line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from clients.models import ApiKey, Client
from clients.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a client, creating the client if it does not exist. The key is "
        "printed alone on the last line of standard output and is never shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_name", help="The client the key acts for.")
        parser.add_argument("--name", default="", help="A label for the key (default: the client).")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Refuse the key this many days from now (default: never).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client_name = options["client_name"].strip()
        if not client_name:
            raise CommandError("CLIENT_NAME must not be empty.")
        for label, value, field in (
            ("CLIENT_NAME", client_name, Client._meta.get_field("name")),
            ("--name", options["name"], ApiKey._meta.get_field("name")),
        ):
            if len(value) > (field.max_length or 0):
                raise CommandError(f"{label} must be at most {field.max_length} characters.")
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        api_key, key = api_key_create(client_name, name=options["name"], expires_at=expires_at)
        expiry = f", expires {api_key.expiry_date:%Y-%m-%dT%H:%M:%SZ}" if expires_at else ""
        self.stderr.write(
            f"Created API key {api_key.prefix} for client {api_key.client.name!r}{expiry}. "
            "Store it now: it cannot be shown again."
        )
        if not api_key.client.is_active:
            self.stderr.write(
                f"Client {api_key.client.name!r} is deactivated: its keys are refused until it "
                "is made active again in the admin."
            )
        self.stdout.write(key)
