"""Django project wiring: settings, URLs, WSGI/ASGI entry points and the Huey set-up."""
