"""`manage.py revoke_api_key KEY_OR_PREFIX`: every web process refuses the key within
PAYOUT_API_KEY_CACHE_SECONDS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clients.services import KeyNotFound, api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key, named by the full key or by its prefix (the part before the dot)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_or_prefix", help="The key, or its 8-character prefix.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            api_key = api_key_revoke(options["key_or_prefix"])
        except KeyNotFound as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(f"Revoked API key {api_key.prefix} of client {api_key.client.name!r}.")
