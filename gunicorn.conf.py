"""gunicorn's settings for every way the service is served; gunicorn reads this file itself."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter

# The longest request line gunicorn takes (its maximum). Past it gunicorn answers a 414 of its
# own, in HTML, before the service sees the request: at the default 4094 a list URL with a
# few long filters already got one.
limit_request_line = 8190

# The Procfile's `web` names only the application: gunicorn itself binds 0.0.0.0:$PORT and runs
# $WEB_CONCURRENCY workers when those are set (its documented defaults), so a platform, honcho,
# the image and the compose file all start the same command.
accesslog = "-"


def on_starting(server: Arbiter) -> None:
    """Load Django's settings in the master, before any worker is forked: a configuration error
    ends gunicorn with one line naming the variable instead of a traceback from every worker."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from project.startup import settings_or_exit

    settings_or_exit()
