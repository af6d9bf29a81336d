"""`manage.py run_webhooks`: the consumer of the webhooks queue (webhooks.queue), as run_huey is
the payouts'. Options as run_huey's; unset ones come from WEBHOOK_WORKERS, WEBHOOK_WORKER_TYPE
and WEBHOOK_SHUTDOWN_TIMEOUT."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from huey.consumer_options import ConsumerConfig, OptionParserHandler

from webhooks.queue import WEBHOOK_HUEY, consumer_options

_TYPES = {"int": int, "float": float}


class Command(BaseCommand):
    help = "Run the webhooks queue's consumer: deliveries and their sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        handler = OptionParserHandler()
        groups = (
            handler.get_logging_options(),
            handler.get_worker_options(),
            handler.get_scheduler_options(),
        )
        for group in groups:
            for short, full, kwargs in group:
                if short == "-v":
                    # Django's own -v/--verbosity takes these names.
                    short, full = "-V", "--huey-verbose"
                if "type" in kwargs:
                    kwargs["type"] = _TYPES[kwargs["type"]]
                kwargs.setdefault("default", None)
                parser.add_argument(full, short, **kwargs)

    def handle(self, *args: Any, **options: Any) -> None:
        # Registers the tasks (and the sweep) on the webhooks queue.
        import webhooks.tasks  # noqa: F401

        settings = consumer_options()
        settings.update(
            (key, value)
            for key, value in options.items()
            if value is not None and key in ConsumerConfig._fields
        )
        config = ConsumerConfig(**settings)
        config.validate()
        logger = logging.getLogger("huey")
        if not logger.handlers:
            config.setup_logger(logger)
        WEBHOOK_HUEY.create_consumer(**config.values).run()
