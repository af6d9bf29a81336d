"""The limit on a client's webhook endpoints holds under concurrent creates on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from rest_framework.test import APIClient

from tests.integration.test_concurrency import in_own_connection
from webhooks import services
from webhooks.models import ENDPOINTS_PER_CLIENT_MAX, WebhookEndpoint

# An IP address in the URL: no DNS lookup.
URL = "https://93.184.215.14/hooks"


def test_concurrent_creates_cannot_pass_the_endpoint_limit(owner, transactional_db):
    for _ in range(ENDPOINTS_PER_CLIENT_MAX - 1):
        services.endpoint_create(owner.caller, {"url": URL})
    creators = 8
    start = threading.Barrier(creators)

    @in_own_connection
    def create() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=owner.authorization)
        start.wait()
        return client.post("/api/webhook-endpoints/", {"url": URL}, format="json").status_code

    with ThreadPoolExecutor(max_workers=creators) as pool:
        statuses = [
            future.result(timeout=60) for future in [pool.submit(create) for _ in range(creators)]
        ]

    assert sorted(statuses) == [201] + [400] * (creators - 1)
    assert WebhookEndpoint.objects.count() == ENDPOINTS_PER_CLIENT_MAX
