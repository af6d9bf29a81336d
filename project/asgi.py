"""ASGI entry point, the Procfile's web: HTTP and, at /graphql/, GraphQL over WebSocket.

Plain HTTP is served by the WSGI application (project.wsgi) in a pool of threads (a2wsgi), as
gunicorn's sync workers would serve it: Django's own ASGI handler starts a thread for every
request and crosses between it and the event loop several times, which made REST 10 to 30%
slower than under WSGI in `make bench`; this way it is as fast. WebSockets go to Channels.
"""

from __future__ import annotations

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
from project import collector

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

# As project.wsgi: everything loaded so far frozen out of the collector's view; and
# collections far apart (project.collector).
collector.configure()
