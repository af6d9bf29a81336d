"""ASGI entry point, the Procfile's web: HTTP and, at /graphql/, GraphQL over WebSocket.

Plain HTTP is served by the WSGI application (project.wsgi) in a pool of threads (a2wsgi), as
gunicorn's sync workers would serve it: Django's own ASGI handler starts a thread for every
request and crosses between it and the event loop several times, which made REST 10 to 30%
slower than under WSGI in `make bench`; this way it is as fast. WebSockets go to Channels.
"""

from __future__ import annotations

import gc
import os
from typing import Any, cast

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# The WSGI application first: it sets Django up (which the consumer's imports need) and loads
# every view and the GraphQL schema.
from project.wsgi import application as wsgi_application  # noqa: I001

from a2wsgi import WSGIMiddleware
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from graphql_api.websocket import PayoutWebSocketConsumer

# The collector's first threshold: allocations, net of deallocations, between two collections
# of the youngest generation (Python's default is 700).
YOUNG_GENERATION_OBJECTS = 100_000
# Requests one web worker serves at once (each in a thread, with a connection from its pool).
HTTP_THREADS = 10

application = ProtocolTypeRouter(
    {
        # ChunkedBodies (project.chunked) is a WSGI application its stubs do not type as one.
        "http": WSGIMiddleware(cast(Any, wsgi_application), workers=HTTP_THREADS),
        # The consumer reads the key, or the session of a staff user's browser, at connect.
        # django-stubs types path() for views only; Channels routes ASGI applications with it.
        "websocket": URLRouter([path("graphql/", PayoutWebSocketConsumer.as_asgi())]),  # type: ignore[arg-type,list-item]
    }
)

# As project.wsgi: everything loaded so far frozen out of the collector's view.
gc.collect()
gc.freeze()
# Collections far apart. Each WebSocket keeps thousands of objects (its protocol, consumer,
# subscription tasks), so with 1,000 subscribers a full collection takes about 250 ms, and
# with the default thresholds (700, 10, 10) an event's fan-out promoted enough short-lived
# objects to set one off every few seconds (make bench: p99 event → subscriber about 500 ms).
# With a young generation of 100,000 most of them die before it is collected: p99 about 220
# ms; lingering cyclic garbage costs a few MB at most.
gc.set_threshold(YOUNG_GENERATION_OBJECTS, 50, 10)
