"""Start-up of every process: the settings load first, and a bad one ends it with one line."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def settings_or_exit() -> None:
    """Load the settings now, or end the process with one line naming the variable at fault.

    Called by manage.py before any command and by gunicorn's master before it forks: without
    it, Django prints a traceback for every command and gunicorn one for every worker.
    """
    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading a setting is what loads them)
    except ImproperlyConfigured as error:
        raise SystemExit(f"Configuration error: {error}") from None
