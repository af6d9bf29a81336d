"""Under ASGI a request's middleware stack runs in one thread, entered once, not a thread trip
per middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref import sync
from django.test import AsyncClient

# The request_started signal, the stack, the two process_view hooks (CSRF, django-prometheus),
# the view and closing the response: what Django does whatever the stack. With the stack's
# middleware asynchronous from the innermost up, it was 20.
MOST_THREAD_TRIPS = 6


@pytest.mark.django_db
def test_a_request_under_asgi_enters_threads_a_handful_of_times_not_per_middleware(monkeypatch):
    trips: list[Any] = []
    original = sync.SyncToAsync.__call__

    async def counted(self: sync.SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)

    response = asyncio.run(AsyncClient().get("/healthz"))

    assert response.status_code == 200
    assert len(trips) <= MOST_THREAD_TRIPS, trips
