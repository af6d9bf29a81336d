"""ASGI entry point: the Procfile's web serves HTTP and, at /graphql/, GraphQL over WebSocket."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# Django first: it sets the apps up, which the consumer's imports need.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import get_resolver, path  # noqa: E402

from graphql_api.websocket import PayoutWebSocketConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # The session (a staff user's) as for HTTP; an API key is read by the consumer.
        "websocket": AuthMiddlewareStack(
            # django-stubs types path() for views only; Channels routes ASGI applications with it.
            URLRouter([path("graphql/", PayoutWebSocketConsumer.as_asgi())])  # type: ignore[arg-type,list-item]
        ),
    }
)

# As project.wsgi: the URLconf (every view and the schema) loaded now, and everything loaded so
# far frozen out of the collector's view.
get_resolver().url_patterns  # noqa: B018
gc.collect()
gc.freeze()
