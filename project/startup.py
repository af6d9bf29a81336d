"""Start-up of every process: the settings load first, and a bad one ends it with one line."""

from __future__ import annotations

from django.conf import LazySettings, settings
from django.core.exceptions import ImproperlyConfigured


def settings_or_exit() -> LazySettings:
    """Load the settings now, or end the process with one line naming the variable at fault.

    manage.py calls it before any command and gunicorn.conf.py in gunicorn's master, before it
    forks: without it, Django prints a traceback for every command and gunicorn one for its
    config file and then for every worker.
    """
    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading a setting is what loads them)
    except ImproperlyConfigured as error:
        raise SystemExit(f"Configuration error: {error}") from None
    return settings
