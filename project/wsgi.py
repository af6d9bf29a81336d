"""WSGI entry point for gunicorn and other WSGI servers."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from project.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = ChunkedBodies(get_wsgi_application())

# Django imports the URLconf, and with it every view, serializer and the GraphQL schema, on
# the first request. Importing it now lets the freeze below cover those objects too.
get_resolver().url_patterns  # noqa: B018

# Everything loaded so far lives as long as the process. Frozen, it is out of the collector's
# view, so a full collection during a large response scans thousands of objects instead of
# over a hundred thousand: measured in-process, the worst pause fell from about 70 ms to 8.
gc.collect()
gc.freeze()
