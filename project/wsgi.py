"""WSGI entry point for gunicorn and other WSGI servers."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()

# Everything loaded so far (Django, DRF, Strawberry, the schema) lives as long as the process:
# moving it out of the collector's view keeps full collections, the p99 of a large response,
# from rescanning it on every pass.
gc.freeze()
