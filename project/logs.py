"""How every process logs: one JSON object per line (or text), with the request and payout each
line is about, and account numbers masked; one configuration for Django, gunicorn and Huey."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import peewee
import redis
import structlog
from huey.api import Task
from structlog.typing import EventDict, Processor, WrappedLogger

JSON = "json"
TEXT = "text"
LOG_FORMATS = (JSON, TEXT)

MASK = "••••"
# A payout's id (a UUID) is kept whole; any other run of 8 or more digits, grouped by single
# spaces or not (IBANs are written both ways), is taken for an account number and keeps only
# its last 4 digits, as the payout's history shows recipient details.
_ACCOUNT_NUMBER = re.compile(
    r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    # Not ending where a UUID starts: "… 1234 5678 12345678-1234-…" keeps the UUID whole.
    r"|(?P<digits>\d(?: ?\d){7,}(?![0-9]|-[0-9a-fA-F]{4}-))"
)
_VISIBLE_DIGITS = 4
# Whatever follows an account_number key (a GraphQL error quoting refused input, a dict's repr),
# however it is written (dashes, dots, letters, few digits): it keeps only its last 4 characters.
_ACCOUNT_FIELD = re.compile(
    r"(?P<key>account_?number[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\"',}\s][^\"',}]*)",
    re.IGNORECASE,
)

# Values a log line may carry as fields. Anything else a library passes along (Django's request,
# a GraphQL execution context with its variables) is left out, so its contents never reach
# the log.
_PLAIN = (str, int, float, bool, type(None))
_RECORD_KEYS = {"exc_info", "stack_info", "positional_args"}
# What another handler's formatter leaves on a record it formatted first (the message unmasked),
# and Uvicorn's copy of its message with terminal colours.
_FORMATTED_KEYS = {"message", "asctime", "color_message"}


def _mask_match(match: re.Match[str]) -> str:
    if match["uuid"]:
        return match["uuid"]
    digits = match["digits"].replace(" ", "")
    return MASK + digits[-_VISIBLE_DIGITS:]


def _mask_field(match: re.Match[str]) -> str:
    return match["key"] + MASK + match["value"].strip()[-_VISIBLE_DIGITS:]


def mask_account_numbers(text: str) -> str:
    """`text` with every account number masked to its last 4 digits."""
    return _ACCOUNT_NUMBER.sub(_mask_match, _ACCOUNT_FIELD.sub(_mask_field, text))


def _masked(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    # The message and the traceback are where input is echoed (a GraphQL error quotes the
    # refused variables, an exception its arguments); the fields are the service's own.
    for key in ("event", "exception"):
        value = event_dict.get(key)
        if isinstance(value, str):
            event_dict[key] = mask_account_numbers(value)
    return event_dict


def _plain_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    return {
        key: value
        for key, value in event_dict.items()
        if key not in _FORMATTED_KEYS
        and (key.startswith("_") or key in _RECORD_KEYS or isinstance(value, _PLAIN))
    }


def _library_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Fields from what gunicorn's access line and Huey's task lines format into their text."""
    args = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if isinstance(args, Mapping) and record is not None and record.name == "gunicorn.access":
        # gunicorn's atoms; the request id is the response's header, set by the middleware.
        event_dict.update(
            method=args["m"],
            path=args["U"],
            status=int(args["s"]),
            duration_ms=args["M"],
        )
        request_id = args["{x-request-id}o"]
        if request_id != "-":
            event_dict["request_id"] = request_id
    elif isinstance(args, tuple):
        for arg in args:
            if isinstance(arg, Task):
                event_dict.setdefault("task", arg.name)
                for key in ("payout_id", "request_id"):
                    if arg.kwargs.get(key):
                        event_dict.setdefault(key, str(arg.kwargs[key]))
    return event_dict


_PRE_CHAIN: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    _library_fields,
    _plain_fields,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: a JSON object per line, or aligned text for people."""
    renderer: Processor
    if log_format == JSON:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_PRE_CHAIN,
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _masked,
            renderer,
        ],
    )


# Errors that mean the queue (Redis), or the database of Huey's stats recorder, cannot be
# reached, not that a task failed.
_UNREACHABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
    peewee.OperationalError,
    peewee.InterfaceError,
)


class QueueUnreachable(logging.Filter):
    """One line, without a traceback, per `seconds` for each thing a consumer cannot do while
    the queue is unreachable.

    Huey's workers log "Error reading from queue" with a traceback at every retry of their
    back-off (from 0.1 s up to 10 s, for each worker), its scheduler "Error reading schedule."
    every second: a thousand greenlets would print thousands of tracebacks a minute. This keeps
    the first line of each and then one per `seconds` (Huey's longest back-off), with the error
    and how many were left out since (`repeats`). The same for Huey's stats recorder when its
    database is down: at start-up in every process, and at each flush, twice a second.
    """

    def __init__(self, seconds: float = 10.0) -> None:
        super().__init__()
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not record.name.startswith("huey"):
            return True
        error = record.exc_info[1]
        if not isinstance(error, _UNREACHABLE):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            shown_at, repeats = self._last.get(key, (float("-inf"), 0))
            if now - shown_at < self.seconds:
                self._last[key] = (shown_at, repeats + 1)
                return False
            self._last[key] = (now, 0)
        # psycopg's messages span lines: one line says it.
        said = " ".join(str(error).split())
        record.msg = f"{record.getMessage().rstrip('.')}: {type(error).__name__}: {said}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.repeats = repeats
        return True


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting, also gunicorn's `logconfig_dict`: every line goes to standard
    error through one handler, in `log_format`, from `level` up."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"service": {"()": formatter, "log_format": log_format}},
        "filters": {"queue_unreachable": {"()": QueueUnreachable}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "service",
                "filters": ["queue_unreachable"],
                # Here rather than on the root alone: a library's logger with a level of its
                # own (Django's is INFO) would otherwise print below LOG_LEVEL.
                "level": level,
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Every SQL statement at DEBUG: Django's, and peewee's (Huey's stats app).
            "django.db.backends": {"level": "WARNING"},
            "peewee": {"level": "WARNING"},
            # Django's default configuration gives "django" a handler of its own (printing in
            # DEBUG): its lines go through ours alone.
            "django": {"handlers": [], "level": "NOTSET", "propagate": True},
            # gunicorn's lines (the master's too, through logconfig_dict) go through ours,
            # instead of the handlers it adds itself.
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": True},
            # run_huey attaches its own plain handler to "huey" unless it has one: this one,
            # without propagating, so that each line comes out once.
            "huey": {"handlers": ["console"], "propagate": False},
        },
    }
