"""`manage.py fake_provider`: serve the fake payment provider until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fake_provider.server import Config, listen


class Command(BaseCommand):
    help = (
        "Serve a fake payment provider (Provider HTTP contract v1) with configurable latency "
        "and failure rates; GET /ledger shows what it paid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900, help="0 picks a free port")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds before each payout is decided"
        )
        for outcome in ("decline", "error", "timeout", "drop"):
            parser.add_argument(
                f"--{outcome}-rate", type=float, default=0.0, help="0 to 1; all four add to <= 1"
            )
        parser.add_argument(
            "--hang-seconds",
            type=float,
            default=60.0,
            help="how long a timeout hangs before the connection is closed",
        )
        parser.add_argument(
            "--retry-after", type=int, default=1, help="seconds, sent with 429 and 503"
        )
        parser.add_argument("--token", help="require Authorization: Bearer <token>")
        parser.add_argument("--seed", type=int, help="seed the outcome draws")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = Config(
                latency=options["latency"],
                decline_rate=options["decline_rate"],
                error_rate=options["error_rate"],
                timeout_rate=options["timeout_rate"],
                drop_rate=options["drop_rate"],
                hang_seconds=options["hang_seconds"],
                retry_after=options["retry_after"],
                token=options["token"],
                seed=options["seed"],
            )
        except ValueError as invalid:
            raise CommandError(str(invalid)) from None
        asyncio.run(self.serve(config, options["host"], options["port"]))

    async def serve(self, config: Config, host: str, port: int) -> None:
        try:
            runner, url = await listen(config, host, port)
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}") from None
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        self.stdout.write(
            f"Fake provider listening on {url}: latency {config.latency:g}s, "
            f"decline {config.decline_rate:g}, error {config.error_rate:g}, "
            f"timeout {config.timeout_rate:g}, drop {config.drop_rate:g}, "
            f"hang {config.hang_seconds:g}s, retry-after {config.retry_after}s, "
            f"token {'on' if config.token else 'off'}, seed {config.seed}"
        )
        # Whoever started this process may be waiting for the line on a pipe.
        self.stdout.flush()
        try:
            await stopped.wait()
        finally:
            await runner.cleanup()
