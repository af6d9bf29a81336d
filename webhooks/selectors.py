"""Reads with rules: the webhook endpoints a caller may see, one of them by id, and those an
event is sent to."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from events.models import Event
from payouts.callers import Caller
from payouts.errors import PayoutNotFound
from payouts.selectors import parse_payout_id
from webhooks.errors import EndpointNotFound
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Newest first; the id breaks ties between endpoints created in the same microsecond.
DEFAULT_ORDERING: tuple[str, ...] = ("-created_at", "-id")


def endpoint_list(caller: Caller) -> QuerySet[WebhookEndpoint]:
    """The endpoints the caller may see: its client's own, or every client's for staff."""
    return WebhookEndpoint.objects.filter(caller.scope()).order_by(*DEFAULT_ORDERING)


def parse_endpoint_id(value: object) -> uuid.UUID:
    """The UUID an id names, read as a payout's id is (its canonical form only), or
    EndpointNotFound."""
    try:
        return parse_payout_id(value)
    except PayoutNotFound:
        raise EndpointNotFound() from None


def endpoint_get(caller: Caller, endpoint_id: object) -> WebhookEndpoint:
    """An endpoint the caller may see; another client's is not found, never forbidden, which
    would confirm that it exists."""
    try:
        return endpoint_list(caller).get(pk=parse_endpoint_id(endpoint_id))
    except WebhookEndpoint.DoesNotExist:
        raise EndpointNotFound() from None


def endpoint_list_receiving(event: Event) -> list[WebhookEndpoint]:
    """The enabled endpoints of the event's client that take events of its type and existed
    when it was written, oldest first.

    Matched in Python (WebhookEndpoint.receives): a client has at most ENDPOINTS_PER_CLIENT_MAX
    endpoints, and SQLite has no lookup for a value inside a JSON list.
    """
    # An endpoint receives what happens from its creation on, however late the fan-out runs.
    endpoints = WebhookEndpoint.objects.filter(
        client_id=event.client_id, enabled=True, created_at__lte=event.created_at
    )
    return [
        endpoint
        for endpoint in endpoints.order_by("created_at", "id")
        if endpoint.receives(event.type)
    ]


def delivery_list(caller: Caller, endpoint_id: object) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their events and attempts fetched; another
    client's endpoint is not found."""
    endpoint = endpoint_get(caller, endpoint_id)
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempts_made")
        .order_by("-created_at", "-id")
    )
