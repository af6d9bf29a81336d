"""The Huey consumer's worker types, and the gevent patching a greenlet consumer needs first."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, MutableMapping, Sequence

THREAD = "thread"
GREENLET = "greenlet"
WORKER_TYPES = (THREAD, GREENLET)


def runs_greenlets(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether `manage.py` with these arguments starts a consumer with greenlet workers.

    Decided before Django's settings exist, from the same sources `run_huey` reads: a worker
    type on the command line wins, else HUEY_WORKER_TYPE. A bad HUEY_WORKER_TYPE is left to
    the settings, which refuse it a moment later.
    """
    options = _consumer_options(argv)
    if options is None:
        return False
    worker_type: str | None = options.worker_type
    if worker_type is None:
        worker_type = environ.get("HUEY_WORKER_TYPE", "").strip()
    return worker_type == GREENLET


def _consumer_options(argv: Sequence[str]) -> argparse.Namespace | None:
    """The worker options of a `manage.py run_huey` command line; None for any other command.

    run_huey's own parser is argparse too, so this reads -k X, -kX, --worker-type X and
    --worker-type=X (and the same of -w/--workers) as it does, the last one given winning.
    """
    if len(argv) < 2 or argv[1] != "run_huey":
        return None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-k", "--worker-type", dest="worker_type")
    parser.add_argument("-w", "--workers", dest="workers")
    options, _ = parser.parse_known_args(argv[2:])
    return options


def share_worker_count(argv: Sequence[str], environ: MutableMapping[str, str]) -> None:
    """Make `run_huey --workers N` the HUEY_WORKERS the settings read, so that what is sized to
    the consumer's workers (the provider's HTTP connections) is sized to the count it runs."""
    options = _consumer_options(argv)
    if options is not None and options.workers is not None:
        environ["HUEY_WORKERS"] = options.workers


def patch_for_greenlets(argv: Sequence[str], environ: Mapping[str, str]) -> None:
    """Monkey-patch the standard library for gevent if this command runs greenlet workers.

    Must run before anything else is imported: psycopg picks how it waits for the database
    when it is imported (cooperatively only if select is patched by then), and a socket or
    lock made before the patch blocks every greenlet while it waits.
    """
    if runs_greenlets(argv, environ):
        from gevent import monkey  # type: ignore[import-untyped]  # ships no type hints

        monkey.patch_all()
