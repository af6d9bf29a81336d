"""`make run`'s first-run key: a development client and key, and a curl line that uses it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from clients.models import ApiKey
from clients.services import api_key_create

DEV_CLIENT = "development"


class Command(BaseCommand):
    help = (
        "With DEBUG on and no API key yet, create the client 'development' with a key and print "
        "a curl command that uses it. Does nothing otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            return
        if ApiKey.objects.exists():
            self.stdout.write(
                "  API keys exist. A new one: make api-key CLIENT=<name> "
                "(or python manage.py create_api_key <name>)"
            )
            return
        _, key = api_key_create(DEV_CLIENT)
        url = f"{options['base_url']}/api/payouts/"
        self.stdout.write(
            f"  Created the client '{DEV_CLIENT}' and its API key (shown this once):\n"
            f"    {key}\n"
            "  Try it:\n"
            f"    curl -H 'Authorization: Bearer {key}' {url}"
        )
