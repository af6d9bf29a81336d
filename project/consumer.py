"""The Huey consumers' worker types, and the gevent patching a greenlet consumer needs first.

Two commands run consumers: `run_huey` (payouts, HUEY_WORKERS / HUEY_WORKER_TYPE) and
`run_webhooks` (deliveries, WEBHOOK_WORKERS / WEBHOOK_WORKER_TYPE)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, MutableMapping, Sequence

THREAD = "thread"
GREENLET = "greenlet"
WORKER_TYPES = (THREAD, GREENLET)
# Each consumer command, and the variables its worker type and count come from.
CONSUMER_VARIABLES = {
    "run_huey": ("HUEY_WORKER_TYPE", "HUEY_WORKERS"),
    "run_webhooks": ("WEBHOOK_WORKER_TYPE", "WEBHOOK_WORKERS"),
}


def runs_greenlets(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether `manage.py` with these arguments starts a consumer with greenlet workers.

    Decided before Django's settings exist, from the same sources the command reads: a worker
    type on the command line wins, else its variable (HUEY_WORKER_TYPE, WEBHOOK_WORKER_TYPE).
    A bad value is left to the settings, which refuse it a moment later.
    """
    options = _consumer_options(argv)
    if options is None:
        return False
    type_variable, _ = CONSUMER_VARIABLES[argv[1]]
    worker_type: str | None = options.worker_type
    if worker_type is None:
        worker_type = environ.get(type_variable, "").strip()
    return worker_type == GREENLET


def _consumer_options(argv: Sequence[str]) -> argparse.Namespace | None:
    """The worker options of a consumer's command line (CONSUMER_VARIABLES); None for any other
    command.

    run_huey's own parser (run_webhooks takes the same options) is argparse too, so this reads
    -k X, -kX, --worker-type X and --worker-type=X (and the same of -w/--workers) as it does,
    the last one given winning.
    """
    if len(argv) < 2 or argv[1] not in CONSUMER_VARIABLES:
        return None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-k", "--worker-type", dest="worker_type")
    parser.add_argument("-w", "--workers", dest="workers")
    options, _ = parser.parse_known_args(argv[2:])
    return options


def share_worker_count(argv: Sequence[str], environ: MutableMapping[str, str]) -> None:
    """Make `run_huey --workers N` the HUEY_WORKERS the settings read (`run_webhooks`'s the
    WEBHOOK_WORKERS), so that what is sized to the consumer's workers (the provider's HTTP
    connections) is sized to the count it runs."""
    options = _consumer_options(argv)
    if options is not None and options.workers is not None:
        _, count_variable = CONSUMER_VARIABLES[argv[1]]
        environ[count_variable] = options.workers


def patch_for_greenlets(argv: Sequence[str], environ: Mapping[str, str]) -> None:
    """Monkey-patch the standard library for gevent if this command runs greenlet workers.

    Must run before anything else is imported: psycopg picks how it waits for the database
    when it is imported (cooperatively only if select is patched by then), and a socket or
    lock made before the patch blocks every greenlet while it waits.
    """
    if runs_greenlets(argv, environ):
        from gevent import monkey  # type: ignore[import-untyped]  # ships no type hints

        monkey.patch_all()
