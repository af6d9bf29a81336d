"""gunicorn's settings for every way the service is served; gunicorn reads this file itself."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from project.startup import settings_or_exit

# The settings load here, in the master, before gunicorn logs a line or forks a worker: a
# configuration error ends gunicorn with one line naming the variable, not a traceback (from
# gunicorn's config loader, then from every worker).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
settings = settings_or_exit()

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

# The Procfile's `web` serves project.asgi (HTTP and WebSocket) with Uvicorn workers
# (project/serving.py). `gunicorn project.wsgi:application -k sync` still serves WSGI.
worker_class = "project.serving.WebWorker"

# The longest request line gunicorn's own parser (WSGI workers) takes, its maximum. Past it
# gunicorn answers a 414 of its own, in HTML, before the service sees the request: at the
# default 4094 a list URL with a few long filters already got one. Uvicorn's httptools parser
# has no such limit.
limit_request_line = 8190

# The Procfile's `web` names only the application: gunicorn itself binds 0.0.0.0:$PORT and runs
# $WEB_CONCURRENCY workers when those are set (its documented defaults), so a platform, honcho,
# the image and the compose file all start the same command.
accesslog = "-"

# gunicorn's own lines, the master's included (it never loads Django), and its access line go
# through the service's logging configuration: the same format, the same handler. The settings
# module reads LOG_FORMAT and LOG_LEVEL as the application does.
logconfig_dict = settings.LOGGING

# Request metrics summed over every worker: prometheus_client's multiprocess mode, in which each
# worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR and /metrics reads them all.
# The variable must be set before a worker imports prometheus_client; this file runs in the
# master before any worker forks, so with none given a private temporary directory serves.
_MULTIPROC_DIR_PREFIX = "payouts-prometheus-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_MULTIPROC_DIR_PREFIX)


def on_starting(server: Arbiter) -> None:
    """Start from empty files: counts left by an earlier run would be added to this one's."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    # Imported once the variable is set: prometheus_client reads it when first imported.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated


def on_exit(server: Arbiter) -> None:
    """Remove the directory if this file made it; one an operator named is theirs to keep."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.parent == Path(tempfile.gettempdir()) and directory.name.startswith(
        _MULTIPROC_DIR_PREFIX
    ):
        shutil.rmtree(directory, ignore_errors=True)


# gunicorn 25+ opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl):
# two gunicorns on a machine (tests, the bench, honcho beside `make run`) would take it from
# each other. Nothing here uses gunicornc.
control_socket_disable = True
